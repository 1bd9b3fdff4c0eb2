"""The nurses' worklist: every active pump of the clinic, most dangerous first.

It reads what the safety assessment stored (alerts.models.ChildSafety, one row per child, and
the open Concerns): ordered by the top tier, then the date to act, on an index; paged on the
child's id; the page's flags are its open concerns in the nurse's words. No rule is re-derived
here, and no per-row subquery runs: a page costs the same few queries for 50 or 5,000 children.
"""

from __future__ import annotations

from collections import defaultdict

from django.db import models
from django.db.models import F, Prefetch, Q

from alerts.models import ChildSafety, Concern
from pumps import safety

TIERS = dict(Concern.Tier.choices)  # the assessment's tiers (pumps/safety.py), named
TIER_RANKS = {**{tier.value: rank for tier, rank in safety.TIER_RANK.items()}, "none": safety.NO_CONCERN_RANK}


def worklist(*, user) -> models.QuerySet:
    """The safety rows of the active pumps `user` may see (a nurse: her clinic's), by tier, then
    the date to act, then the governing alarm (no fill recorded yet: first within its tier)."""
    from patients.models import Patient

    rows = ChildSafety.objects.filter(
        active=True, patient_id__in=Patient.objects.visible_to(user).values("pk")
    )
    profile = getattr(user, "staff_profile", None)
    if profile is not None:  # the same children; the clinic leads the index the order uses
        rows = rows.filter(clinic_id=profile.clinic_id)
    return rows.order_by(
        "tier_rank",
        F("act_by").asc(nulls_first=True),
        F("alarm_at").asc(nulls_first=True),
        "patient_id",
    )


def worklist_filter(
    qs: models.QuerySet, *, tier: str = "", kind: str = "", search: str = ""
) -> models.QuerySet:
    if tier in TIER_RANKS:
        qs = qs.filter(tier_rank=TIER_RANKS[tier])
    if kind in Concern.Kind.values:
        qs = qs.filter(patient__concerns__kind=kind, patient__concerns__resolved_at__isnull=True).distinct()
    search = (search or "").strip()
    if search:
        q = Q(patient__mrn__iexact=search)
        for word in search.split():
            q |= Q(patient__first_name__icontains=word) | Q(patient__last_name__icontains=word)
        qs = qs.filter(q)
    return qs


def page_rows(states: list[ChildSafety]) -> list[dict]:
    """One page's rows: the child, pump and program, and its open concerns (3 queries)."""
    from pumps.models import Program, Pump

    ids = [s.patient_id for s in states]
    # The current program only (a row shows no visit: its dates are the stored state's).
    programs = Prefetch("programs", queryset=Program.objects.current(), to_attr="current_programs")
    pumps = Pump.objects.filter(pk__in=[s.pump_id for s in states]).select_related("patient")
    pumps = pumps.prefetch_related(programs)
    by_pump = {p.pk: p for p in pumps}
    concerns = defaultdict(list)
    shown = ("patient_id", "kind", "tier", "nurse_words", "tier_rank", "act_by")  # not the details
    for concern in (
        Concern.objects.open().filter(patient_id__in=ids).only(*shown).order_by("tier_rank", "act_by", "pk")
    ):
        concerns[concern.patient_id].append(concern)
    rows = []
    for state in states:
        pump = by_pump[state.pump_id]
        rows.append(
            {
                "state": state,
                "pump": pump,
                "patient": pump.patient,
                "program": pump.current_program,
                "concerns": concerns[state.patient_id],
            }
        )
    return rows

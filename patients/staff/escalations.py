"""The nurses' outbox and escalations pages (URL names alerts:outbox, alerts:escalations, under
/sms/: the names predate the console's own package and stay, so links and bookmarks keep working)."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from alerts.concerns import concern_acknowledge as acknowledge
from alerts.holds import holds_open
from alerts.models import Concern, SmsMessage
from alerts.sending import sweep_health
from patients.accounts.permissions import clinic_of, staff_required
from patients.staff.worklist import worklist

PAGE_SIZE = 100


def _health(clinic):
    last_run_at, ok = sweep_health()
    return {"sweep_last_run_at": last_run_at, "sweep_ok": ok, "holds": holds_open(clinic=clinic)}


@staff_required
def outbox(request: HttpRequest) -> HttpResponse:
    clinic = clinic_of(request.user)
    rows = SmsMessage.objects.for_clinic(clinic)[:PAGE_SIZE]
    return render(request, "alerts/outbox.html", {"sms_messages": rows, **_health(clinic)})


# Why a battery concern is critical on this page: the rules' words (docs/rules.md, "Battery";
# the tiers are pumps/safety.py's), shown beside the concern so a nurse sees which rule speaks.
RULE_NOTES = {
    Concern.Kind.ERI: "Critical by the ERI rule: the pump reported its replacement indicator; "
    "it stops about 90 days after it.",
    Concern.Kind.BATTERY: "Critical by the battery rule: the replace-by date is 90 days away or less.",
}


def children_in_danger(*, user, clinic) -> list[dict]:
    """One card per child with its open concerns that need a nurse, the children in the
    worklist's order (tier, date to act, alarm: patients/staff/worklist.py), each child's
    concerns most dangerous first."""
    rows = Concern.objects.for_clinic(clinic).filter(needs_nurse=True).open().select_related("patient")
    by_child: dict[int, list[Concern]] = {}
    for concern in rows.order_by("tier_rank", F("act_by").asc(nulls_first=True), "-began_at", "-pk"):
        concern.rule_note = RULE_NOTES.get(concern.kind, "") if concern.tier == Concern.Tier.CRITICAL else ""
        by_child.setdefault(concern.patient_id, []).append(concern)
    order = list(
        worklist(user=user).filter(patient_id__in=list(by_child)).values_list("patient_id", flat=True)
    )
    order += [pk for pk in by_child if pk not in order]  # a child without a stored state: last
    return [
        {"patient": by_child[pk][0].patient, "tier": by_child[pk][0].tier, "concerns": by_child[pk]}
        for pk in order
    ]


@staff_required
def escalations(request: HttpRequest) -> HttpResponse:
    """Open concerns that need a nurse: one card per child, in the worklist's order; with
    ?resolved=1, the history of resolved ones too, each with the reason and time."""
    show_resolved = request.GET.get("resolved") == "1"
    clinic = clinic_of(request.user)
    context = {"show_resolved": show_resolved, **_health(clinic)}
    if show_resolved:
        rows = Concern.objects.for_clinic(clinic).filter(needs_nurse=True)
        rows = rows.order_by(F("resolved_at").desc(nulls_first=True), "tier_rank", "-began_at", "-pk")
        context["concerns"] = rows[:PAGE_SIZE]
    else:
        context["children"] = children_in_danger(user=request.user, clinic=clinic)[:PAGE_SIZE]
    return render(request, "alerts/escalations.html", context)


@staff_required
@require_POST
def concern_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    concern = get_object_or_404(Concern.objects.for_clinic(clinic_of(request.user)), pk=pk)
    acknowledge(concern=concern, by=request.user)
    messages.success(request, _("Acknowledged. It stays on the list until the danger is gone."))
    return redirect("alerts:escalations")


@staff_required
@require_POST
def printed_alarm_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    """The nurse checked the pump: the computed alarm date governs again."""
    from pumps.models import RefillVisit
    from pumps.services import printed_alarm_resolve as resolve

    concern = get_object_or_404(
        Concern.objects.for_clinic(clinic_of(request.user)).open(), pk=pk, kind=Concern.Kind.PRINTED_DIFFERS
    )
    visit_id = int(concern.key.rsplit(":", 1)[1])
    visit = get_object_or_404(RefillVisit.objects.filter(pump__patient=concern.patient), pk=visit_id)
    resolve(visit=visit, by=request.user)
    messages.success(request, _("The computed alarm date governs again."))
    return redirect("alerts:escalations")

"""Storing the safety assessment: each child's concerns and the worklist's row (ChildSafety).

`concerns_refresh(patient=..., now=...)` is called inside the transaction of every write that
changes a fact the assessment reads (refill, program change, ERI, appointments, consent,
STOP/START, delivery reports, caregivers linked or removed); `concerns_refresh_due` is the beat
task's part (what time alone changes). Both load the facts in bulk, in a fixed number of
queries, hand them to the pure `pumps.safety.assess`, and bring the rows in line:
a condition that begins opens a row, one that holds is updated in place, one that clears is
resolved with the reason and time. The nurse inbox is e-mailed on commit when a concern that
needs a nurse opens.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Window
from django.db.models.functions import Coalesce, RowNumber
from django.urls import reverse
from django.utils import timezone, translation

from alerts.models import ChildSafety, Concern, Reminder
from pumps import safety

logger = logging.getLogger("alerts")
REFRESH_CHUNK = 1000
# How far back a text's outcome still speaks for the family's reachability.
TEXT_HISTORY = timedelta(days=60)
RESOLVED_REASONS = {
    Concern.Kind.ALARM_PASSED: "refill recorded",
    Concern.Kind.ALARM_NEAR: "refill booked or recorded",
    Concern.Kind.BOOKED_AFTER_ALARM: "appointment moved, cancelled or refill recorded",
    Concern.Kind.BOOKED_PAST_CAP: "appointment moved, cancelled or refill recorded",
    Concern.Kind.BOOKED_AFTER_DUE: "appointment moved, cancelled or refill recorded",
    Concern.Kind.DUE_PASSED: "refill booked or recorded",
    Concern.Kind.DUE_SOON: "refill booked or recorded",
    Concern.Kind.RESIDUAL_HIGH: "a later refill",
    Concern.Kind.RESIDUAL_LOW: "a later refill",
    Concern.Kind.RESIDUAL_TREND: "a later refill",
    Concern.Kind.OBSERVED_EARLIER: "a later visit",
    Concern.Kind.PRINTED_DIFFERS: "resolved by a nurse or a new visit",
    Concern.Kind.ERI: "replacement booked or pump replaced",
    Concern.Kind.BATTERY: "replacement booked or pump replaced",
    Concern.Kind.NO_SHOW: "refill rebooked or recorded",
    Concern.Kind.UNREACHABLE: "texts reach the family again",
    Concern.Kind.FLEX_CLOCK: "pump reprogrammed",
    Concern.Kind.CONTACT_CHANGED: "number checked by a nurse, or a month passed",
    Concern.Kind.TEXTS_HELD: "texts flow again, or the waiting texts went or were cancelled",
    Concern.Kind.SIGNS_REPORTED: "outcome recorded by a nurse",
}
# A closed report still speaks (for its concern's reason) this long after its outcome.
SIGNS_CLOSED_SPEAK = timedelta(days=7)
# How long a shared parent's new number waits for a nurse's check before it drops off.
CONTACT_CHANGE_WINDOW = timedelta(days=30)
# An open appointment is read until its clinic-local day has ended, and no longer than this after
# its start (the query's window: `upcoming(now - BOOKING_READ_AFTER_START)`).
BOOKING_READ_AFTER_START = timedelta(hours=24)
_TICK = timedelta(microseconds=1)  # "just after": a window read with a strict comparison closes then


def _until(out: dict, key: int, instant: datetime) -> None:
    """Note that the facts loaded for child ``key`` change at ``instant`` (the earliest wins)."""
    if key not in out or instant < out[key]:
        out[key] = instant


# --- Loading the facts -------------------------------------------------------------------------


def _calendars(clinics) -> dict:
    """Each clinic's calendar as plain values (one query per clinic: a family has one or two)."""
    from patients.clinic_hours import clinic_calendar

    return {clinic.pk: clinic_calendar(clinic) for clinic in clinics}


def _rules(clinic) -> safety.Rules:
    return clinic.safety_rules()


def _pumps(ids: list[int]) -> dict[int, object]:
    from pumps.models import Pump

    pumps = {}
    for pump in Pump.objects.active().filter(patient_id__in=ids).order_by("implant_date", "pk"):
        pumps[pump.patient_id] = pump  # the newest implant wins
    return pumps


def _visits(pump_ids: list[int]) -> tuple[dict, dict]:
    """The latest visit of each pump (any kind) and its last refills (three for the trend, and the
    one before them for the start volume of the oldest), in two queries."""
    from pumps.models import RefillVisit

    order = [F("visit_at").desc(), F("pk").desc()]
    row = Window(RowNumber(), partition_by=[F("pump_id")], order_by=order)
    base = RefillVisit.objects.filter(pump_id__in=pump_ids)
    latest = {v.pump_id: v for v in base.select_related("program").annotate(row=row).filter(row=1)}
    refills = defaultdict(list)
    rows = defaultdict(list)
    window = base.refills().annotate(row=row).filter(row__lte=safety.TREND_REFILLS + 1)
    for v in window.order_by("pump_id", "-visit_at", "-pk"):
        rows[v.pump_id].append(v)
    refills = {
        pump_id: [
            safety.Refill(
                visit_id=v.pk,
                at=v.visit_at,
                expected_residual_ml=v.expected_residual_ml,
                actual_residual_ml=v.actual_residual_ml,
                start_ml=before.volume_after_ml - before.bridge_bolus_ml if before is not None else None,
            )
            for v, before in zip(visits, [*visits[1:], None], strict=True)
        ][: safety.TREND_REFILLS]
        for pump_id, visits in rows.items()
    }
    return latest, refills


def _latest_fact(visit, tz) -> safety.Visit | None:
    return visit.safety_fact(tz) if visit is not None else None


def _bookings(ids: list[int], now: datetime, tzs: dict[int, ZoneInfo], until: dict) -> tuple[dict, dict]:
    """Open appointments from today on (soonest first), and the latest refill no-show. Each one
    read leaves the facts when its local day ends or a day after its start (noted in `until`)."""
    from appointments.models import Appointment

    bookings = defaultdict(list)
    rows = (
        Appointment.objects.filter(patient_id__in=ids)
        .upcoming(now=now - BOOKING_READ_AFTER_START)
        .order_by("start", "pk")
    )
    for pk, patient_id, kind, start in rows.values_list("pk", "patient_id", "kind", "start"):
        tz = tzs[patient_id]
        day = start.astimezone(tz).date()
        if day >= now.astimezone(tz).date():
            bookings[patient_id].append(safety.Booking(appointment_id=pk, kind=kind, start=start))
            day_ends = safety.day_start(day + timedelta(days=1), tz)
            _until(until, patient_id, min(day_ends, start + BOOKING_READ_AFTER_START + _TICK))
    no_shows = {}
    missed = Appointment.objects.filter(
        patient_id__in=ids, kind=Appointment.Kind.REFILL, status=Appointment.Status.NO_SHOW
    ).order_by("start", "pk")
    for pk, patient_id, kind, start in missed.values_list("pk", "patient_id", "kind", "start"):
        no_shows[patient_id] = safety.Booking(appointment_id=pk, kind=kind, start=start)
    return bookings, no_shows


_OUTCOMES = [
    Reminder.Status.SENT,
    Reminder.Status.DELIVERED,
    Reminder.Status.FAILED,
    Reminder.Status.UNDELIVERED,
]


def _contacts(ids: list[int], now: datetime, until: dict) -> dict[int, list[safety.Contact]]:
    """Each active caregiver link, whether they can be texted, and their last text's outcome.
    A text read leaves the history TEXT_HISTORY after it was handed over (noted in `until`)."""
    from patients.models import CaregiverLink, SmsConsent

    withdrew = SmsConsent.objects.filter(caregiver_id=OuterRef("caregiver_id"), given=False)
    links = (
        CaregiverLink.objects.filter(patient_id__in=ids, active=True)
        .select_related("caregiver__user")
        .annotate(withdrew=Exists(withdrew))
        .order_by("caregiver_id")
    )
    last_text: dict[tuple[int, int], tuple] = {}
    # The texts before the newest, back to the last one whose fate is known (newest last here).
    earlier: dict[tuple[int, int], list] = defaultdict(list)
    # When the oldest text of that run was handed over: it is the first to leave the history.
    oldest: dict[tuple[int, int], datetime] = {}
    # When the text was handed over (a row written by hand may lack the claim time).
    handed = Coalesce("claimed_at", "sent_at", "updated_at")
    texts = (
        Reminder.objects.filter(patient_id__in=ids, status__in=_OUTCOMES)
        .annotate(handed=handed)
        .filter(handed__gte=now - TEXT_HISTORY)
        .order_by("handed", "pk")
    )
    for patient_id, caregiver_id, status, sent_at, at, error in texts.values_list(
        "patient_id", "caregiver_id", "status", "sent_at", "handed", "last_error"
    ):
        pair = (patient_id, caregiver_id)
        if status != Reminder.Status.SENT:
            earlier[pair] = []  # its fate is known: nothing before it still speaks
            oldest[pair] = at
        elif pair in last_text:
            earlier[pair].append(last_text[pair])
        else:
            oldest[pair] = at
        last_text[pair] = (status, sent_at or at, error)
    contacts = defaultdict(list)
    for link in links:
        caregiver = link.caregiver
        pair = (link.patient_id, caregiver.pk)
        status, at, error = last_text.get(pair, ("", None, ""))
        if pair in oldest:
            _until(until, link.patient_id, oldest[pair] + TEXT_HISTORY + _TICK)
        contacts[link.patient_id].append(
            safety.Contact(
                caregiver_id=caregiver.pk,
                can_text=caregiver.can_receive_texts,
                opted_out=not caregiver.sms_consent and link.withdrew,
                last_text_status=status,
                last_text_at=at,
                last_text_error=error,
                earlier=tuple(reversed(earlier[pair])),
            )
        )
    return contacts


def _held(patients, ids: list[int], now: datetime) -> tuple[dict, dict]:
    """The open sending hold of each clinic (since when), and each child's due texts waiting."""
    from django.db.models import Count

    from alerts.models import SendingHold

    clinics = {p.clinic_id for p in patients}
    since = dict(
        SendingHold.objects.filter(clinic_id__in=clinics, released_at__isnull=True).values_list(
            "clinic_id", "started_at"
        )
    )
    if not since:
        return {}, {}
    due = Reminder.objects.filter(
        patient_id__in=ids,
        patient__clinic_id__in=since,
        status__in=[Reminder.Status.PLANNED, Reminder.Status.CLAIMED],
        send_after__lte=now,
    )
    waiting = dict(due.values("patient_id").annotate(n=Count("pk")).values_list("patient_id", "n").order_by())
    return since, waiting


def _ever_linked(ids: list[int]) -> set[int]:
    """The children who have (or had) a caregiver linked: the others are still being registered."""
    from patients.models import CaregiverLink

    linked = CaregiverLink.objects.filter(patient_id__in=ids).values_list("patient_id", flat=True)
    return set(linked.distinct())


def _contact_changes(
    ids: list[int], contacts: dict, now: datetime, until: dict
) -> dict[int, list[safety.ContactChange]]:
    """Each child's linked caregivers who are shared with another clinic and proved a new number
    in the last month (the latest proof each), and whether a nurse acknowledged it for this child.
    A proof read drops off CONTACT_CHANGE_WINDOW after it was made (noted in `until`)."""
    from patients.models import CaregiverLink, MobileProof

    pairs = [(patient_id, c.caregiver_id) for patient_id, rows in contacts.items() for c in rows]
    caregiver_ids = {c for _, c in pairs}
    if not caregiver_ids:
        return {}
    clinics = defaultdict(set)
    shared_links = CaregiverLink.objects.filter(caregiver_id__in=caregiver_ids, active=True)
    for caregiver_id, clinic_id in shared_links.values_list("caregiver_id", "patient__clinic_id"):
        clinics[caregiver_id].add(clinic_id)
    shared = {c for c in caregiver_ids if len(clinics[c]) > 1}
    if not shared:
        return {}
    latest = {}
    proofs = (
        MobileProof.objects.filter(caregiver_id__in=shared, proven_at__gte=now - CONTACT_CHANGE_WINDOW)
        .select_related("caregiver__user")
        .order_by("proven_at", "pk")
    )
    for proof in proofs:
        latest[proof.caregiver_id] = proof
    checked = set(
        Concern.objects.filter(
            patient_id__in=ids,
            kind=Concern.Kind.CONTACT_CHANGED,
            key__in=[f"contact_changed:{p.pk}" for p in latest.values()],
            acknowledged_at__isnull=False,
        ).values_list("patient_id", "key")
    )
    out = defaultdict(list)
    for patient_id, caregiver_id in sorted(pairs):
        proof = latest.get(caregiver_id)
        if proof is None:
            continue
        _until(until, patient_id, proof.proven_at + CONTACT_CHANGE_WINDOW + _TICK)
        out[patient_id].append(
            safety.ContactChange(
                proof_id=proof.pk,
                caregiver_id=caregiver_id,
                caregiver_name=str(proof.caregiver),
                at=proof.proven_at,
                checked=(patient_id, f"contact_changed:{proof.pk}") in checked,
            )
        )
    return out


def _sign_reports(ids: list[int], now: datetime) -> dict[int, list[safety.SignReport]]:
    """Each child's open reports of warning signs, and those closed lately (their outcome is the
    reason their concern resolves with)."""
    from django.db.models import Q

    from patients.models import SignReport
    from patients.signs import nurse_summary

    rows = SignReport.objects.filter(patient_id__in=ids).filter(
        Q(outcome="") | Q(outcome_at__gte=now - SIGNS_CLOSED_SPEAK)
    )
    out = defaultdict(list)
    for row in rows.order_by("reported_at", "pk"):
        outcome = ""
        if row.outcome:
            with translation.override("en"):  # the console's words, whatever the page's language
                outcome = str(row.get_outcome_display()).lower()
            outcome += f" ({row.outcome_note})" if row.outcome_note else ""
        out[row.patient_id].append(
            safety.SignReport(
                report_id=row.pk,
                reported_at=row.reported_at,
                last_reported_at=row.last_reported_at,
                summary=nurse_summary(row.signs),
                words=row.words,
                reporter=row.reporter_name,
                sends=row.sends,
                outcome=outcome,
            )
        )
    return out


def load_facts(patient_ids: list[int], now: datetime) -> dict[int, tuple]:
    """patient id -> (patient, Facts) for the active ones, in a fixed number of queries."""
    from patients.models import Patient

    patients = list(Patient.objects.filter(pk__in=patient_ids).select_related("clinic"))
    ids = [p.pk for p in patients if p.active]
    tzs = {p.pk: p.clinic.tzinfo for p in patients}
    pumps = _pumps(ids)
    latest, refills = _visits([p.pk for p in pumps.values()])
    until: dict[int, datetime] = {}  # when each child's facts, as read, change by time alone
    bookings, no_shows = _bookings(ids, now, tzs, until)
    contacts = _contacts(ids, now, until)
    registering = set(ids) - _ever_linked(ids)
    held_since, waiting = _held(patients, ids, now)
    changes = _contact_changes(ids, contacts, now, until)
    calendars = _calendars({p.clinic for p in patients})
    reports = _sign_reports(ids, now)
    out = {}
    for patient in patients:
        if patient.clinic_id in held_since and patient.active:
            # The clinic's texts are held: which of them wait changes as they come due and as
            # the probe goes, with no write about this child. Look again at every check.
            _until(until, patient.pk, now + _TICK)
        pump = pumps.get(patient.pk) if patient.active else None
        tz = tzs[patient.pk]
        facts = safety.Facts(
            tz=tz,
            rules=_rules(patient.clinic),
            pump_id=pump.pk if pump else None,
            implant_date=pump.implant_date if pump else None,
            eri_date=pump.eri_date if pump else None,
            shuts_off_at_7_years=pump.shuts_off_at_7_years if pump else True,
            latest=_latest_fact(latest.get(pump.pk), tz) if pump else None,
            refills=tuple(refills.get(pump.pk, ())) if pump else (),
            bookings=tuple(bookings.get(patient.pk, ())),
            no_show=no_shows.get(patient.pk),
            contacts=tuple(contacts.get(patient.pk, ())),
            contact_changes=tuple(changes.get(patient.pk, ())),
            registering=patient.pk in registering,
            texts_held_since=held_since.get(patient.clinic_id),
            texts_waiting=waiting.get(patient.pk, 0),
            calendar=calendars[patient.clinic_id],
            sign_reports=tuple(reports.get(patient.pk, ())),
            until=until.get(patient.pk),
        )
        out[patient.pk] = (patient, facts)
    return out


# --- Bringing the rows in line -------------------------------------------------------------------


UPDATE_BATCH = 1000


def rows_update(model, rows: list, fields: list[str]) -> None:
    """Write these fields of these rows. On PostgreSQL one UPDATE ... FROM unnest(arrays) per
    UPDATE_BATCH rows: one array parameter per column, so the statement is the same text whatever
    the number of rows (Django's bulk_update builds a CASE per field and row: for 1,000 rows of
    15 fields it spent 80 s resolving expressions; a VALUES list of a placeholder per value spent
    a sixth of a beat's time in the driver parsing the statement, issue 27); elsewhere
    bulk_update."""
    from django.db import connection

    if not rows:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_update(rows, fields, batch_size=500)
        return
    meta = model._meta
    pk = meta.pk
    columns = [meta.get_field(name) for name in fields]
    sets = ", ".join(f'"{f.column}" = v."{f.column}"' for f in columns)
    names = ", ".join(f'"{f.column}"' for f in [pk, *columns])
    arrays = ", ".join(f"%s::{f.db_type(connection)}[]" for f in [pk, *columns])
    sql = (
        f'UPDATE "{meta.db_table}" AS t SET {sets} FROM unnest({arrays}) AS v({names}) '
        f'WHERE t."{pk.column}" = v."{pk.column}"'
    )
    for start in range(0, len(rows), UPDATE_BATCH):
        part = rows[start : start + UPDATE_BATCH]
        params = [[pk.get_db_prep_value(row.pk, connection) for row in part]]
        params += [[f.get_db_prep_save(getattr(row, f.attname), connection) for row in part] for f in columns]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


@dataclass
class _Writes:
    """The rows a refresh changes, written in bulk at the end (the beat refreshes every child)."""

    new: list[Concern] = field(default_factory=list)
    changed: list[tuple[Concern, dict]] = field(default_factory=list)  # (row, the fields that moved)
    resolved: list[Concern] = field(default_factory=list)
    to_email: list[int] = field(default_factory=list)

    def save(self) -> None:
        rows_update(Concern, self.resolved, ["resolved_at", "resolved_reason", "updated_at"])
        _update_changed(Concern, self.changed, [*_CONCERN_FIELDS, "updated_at"])
        Concern.objects.bulk_create(self.new, batch_size=500)
        self.to_email += [row.pk for row in self.new if row.needs_nurse]


_CONCERN_FIELDS = (
    "kind",
    "tier",
    "tier_rank",
    "act_by",
    "nurse_words",
    "family_level",
    "details",
    "needs_nurse",
)


def _values(concern: safety.Concern) -> dict:
    return {
        "kind": concern.kind.value,
        "tier": concern.tier.value,
        "tier_rank": concern.rank,
        "act_by": concern.act_by,
        "nurse_words": concern.nurse_words()[:500],
        "family_level": concern.family_level.value if concern.family_level else "",
        "details": concern.details,
        "needs_nurse": concern.needs_nurse,
    }


def _apply(patient, assessment: safety.Assessment, open_rows: dict, now: datetime, writes: _Writes) -> None:
    """Open, update and resolve this child's rows (collected in `writes`)."""
    wanted = {c.key: c for c in (assessment.concerns if patient.active else ())}
    opening = {c.kind for key, c in wanted.items() if key not in open_rows}
    grown: dict[str, Concern] = {}  # the worse kind opening -> the row it grows from
    for key, row in open_rows.items():
        if key not in wanted:
            worse = safety.WORSENS_INTO.get(safety.Kind(row.kind))
            row.resolved_at = now
            if worse in opening:  # not cleared: it grew worse, and the worse concern carries on
                row.resolved_reason = safety.WORSENED_WORDS[worse]
                grown[worse.value] = row
            elif not patient.active:
                row.resolved_reason = "child no longer active"
            else:
                row.resolved_reason = assessment.resolutions.get(key) or RESOLVED_REASONS.get(
                    row.kind, "condition cleared"
                )
            row.updated_at = now
            writes.resolved.append(row)
    for key, concern in wanted.items():
        values = _values(concern)
        row = open_rows.get(key)
        if row is None:
            writes.new.append(
                Concern(
                    patient_id=patient.pk,
                    clinic_id=patient.clinic_id,
                    key=key,
                    began_at=concern.began_at or now,
                    opened_at=now,
                    updated_at=now,
                    follows=grown.get(values["kind"]),
                    **values,
                )
            )
        elif moved := {name: value for name, value in values.items() if getattr(row, name) != value}:
            if values["needs_nurse"] and not row.needs_nurse and row.emailed_at is None:
                writes.to_email.append(row.pk)
            for name, value in values.items():
                setattr(row, name, value)
            row.updated_at = now
            writes.changed.append((row, {**moved, "updated_at": now}))


def _battery_notice_from(patient, open_rows: dict, assessment: safety.Assessment, now: datetime):
    for concern in assessment.concerns:
        if concern.kind in (safety.Kind.ERI, safety.Kind.BATTERY):
            row = open_rows.get(concern.key)
            opened = row.opened_at if row is not None else now
            return timezone.localdate(opened, patient.clinic.tzinfo)
    return None


_STATE_FIELDS = ("clinic_id", "pump_id", "active", "tier_rank", "act_by", "family_rank", "alarm_at",
                 "alarm_day", "computed_alarm_at", "alarm_source", "refill_due", "next_refill_at",
                 "next_refill_id", "battery_notice_from", "recheck_at")  # fmt: skip


def _state(patient, facts: safety.Facts, assessment: safety.Assessment, notice: date | None) -> dict:
    dates = assessment.dates
    return {
        "clinic_id": patient.clinic_id,
        "pump_id": facts.pump_id,
        "active": patient.active and facts.pump_id is not None,
        "tier_rank": assessment.rank,
        "act_by": assessment.act_by,
        "family_rank": safety.FAMILY_RANK[assessment.family_level],
        "alarm_at": dates.alarm_at,
        "alarm_day": dates.alarm_day,
        "computed_alarm_at": dates.computed_alarm_at,
        "alarm_source": dates.source,
        "refill_due": dates.refill_due,
        "next_refill_at": dates.next_refill.start if dates.next_refill else None,
        "next_refill_id": dates.next_refill.appointment_id if dates.next_refill else None,
        "battery_notice_from": notice,
        # When time alone changes this child's assessment: the beat refreshes it then. An
        # inactive child is not refreshed by the beat (a write makes it active again).
        "recheck_at": assessment.changes_at if patient.active else None,
    }


def _store_states(states: dict[int, dict], existing: dict[int, ChildSafety], now: datetime) -> None:
    """Write only the rows that changed: the beat refreshes every child every few minutes."""
    new, changed = [], []
    for pk, values in states.items():
        row = existing.get(pk)
        if row is None:
            new.append(ChildSafety(patient_id=pk, refreshed_at=now, **values))
        elif moved := {name: value for name, value in values.items() if getattr(row, name) != value}:
            for name, value in values.items():
                setattr(row, name, value)
            row.refreshed_at = now
            changed.append((row, {**moved, "refreshed_at": now}))
    ChildSafety.objects.bulk_create(new, batch_size=500)
    _update_changed(ChildSafety, changed, [*_STATE_FIELDS, "refreshed_at"])


# Past this many distinct sets of changes, one UPDATE ... FROM (VALUES ...) (rows_update) is cheaper.
_GROUPED_UPDATES_MAX = 20


def _update_changed(model, changed: list[tuple], fields: list[str]) -> None:
    """Write the rows that changed. Most of a refresh's changes are the same few fields moving to
    the same values for many children (a new day's act-by date): those go as one UPDATE per
    distinct set of changes, naming only the fields that moved, instead of Django's bulk update
    (a CASE over every row for every field, costly to build and to run as the rows grow)."""
    groups: dict[tuple, tuple[dict, list[int]]] = {}
    for row, moved in changed:
        key = tuple(sorted((name, _hashable(value)) for name, value in moved.items()))
        groups.setdefault(key, (moved, []))[1].append(row.pk)
    if len(groups) > _GROUPED_UPDATES_MAX:
        rows_update(model, [row for row, _ in changed], fields)
        return
    for moved, pks in groups.values():
        model.objects.filter(pk__in=pks).update(**moved)


def _hashable(value):
    return repr(sorted(value.items())) if isinstance(value, dict) else repr(value)


def concerns_refresh_many(*, patient_ids: list[int], now: datetime | None = None) -> list[int]:
    """Refresh these children's concerns and safety rows (inside the caller's transaction, or
    one of its own). Returns the ids of the children whose top tier or dates changed."""
    now = now or timezone.now()
    changed = []
    with transaction.atomic():
        loaded = load_facts(patient_ids, now)
        ids = list(loaded)
        open_rows = defaultdict(dict)
        locked = Concern.objects.select_for_update().filter(patient_id__in=ids, resolved_at__isnull=True)
        for row in locked.order_by("pk"):
            open_rows[row.patient_id][row.key] = row
        existing = ChildSafety.objects.select_for_update().in_bulk(ids)
        states, writes = {}, _Writes()
        for pk, (patient, facts) in loaded.items():
            assessment = safety.assess(facts, now=now)
            keys_before = set(open_rows[pk])
            _apply(patient, assessment, open_rows[pk], now, writes)
            notice = _battery_notice_from(patient, open_rows[pk], assessment, now)
            states[pk] = _state(patient, facts, assessment, notice)
            row = existing.get(pk)
            before = (row.tier_rank, row.alarm_day, row.refill_due) if row else None
            after = (assessment.rank, assessment.dates.alarm_day, assessment.dates.refill_due)
            if before != after or keys_before != {c.key for c in assessment.concerns}:
                changed.append(pk)
        writes.save()
        _store_states(states, existing, now)
        if writes.to_email:
            from alerts.tasks import concerns_email  # the tasks module imports this one

            # Lost with the broker: concerns_email_pending (the escalation check) sends them.
            concerns_email.delay_on_commit(sorted(writes.to_email))
    return changed


def concerns_refresh(*, patient, now: datetime | None = None) -> None:
    """Refresh one child's concerns, in the transaction of the write that changed a fact."""
    concerns_refresh_many(patient_ids=[patient.pk], now=now)


def children_due(*, now: datetime) -> list[int]:
    """The active children the check must refresh at ``now``: those whose stored instant has come
    (ChildSafety.recheck_at <= now, an indexed range) and those never assessed (no row)."""
    from patients.models import Patient

    due = ChildSafety.objects.filter(recheck_at__lte=now, patient__active=True).values_list("pk", flat=True)
    never = Patient.objects.filter(active=True, safety__isnull=True).values_list("pk", flat=True)
    return sorted({*due, *never})


def concerns_refresh_due(
    *, now: datetime | None = None, chunk: int = REFRESH_CHUNK, everyone: bool = False
) -> int:
    """The beat's part: refresh the children whose state time alone has changed (an alarm or
    due date coming near or passing, a day passing where the words count days, a text with no
    delivery report within the hour, the battery window opening): those whose stored instant has
    come, or never assessed (`children_due`); with ``everyone``, every active child (the daily
    safety net and `manage.py safety_refresh`). In chunks, one transaction each. Children whose
    dates or top tier moved get their reminders re-planned. Returns how many were refreshed."""
    from alerts.planning import reminders_replan_many
    from patients.models import Patient

    now = now or timezone.now()
    if everyone:
        ids = list(Patient.objects.filter(active=True).order_by("pk").values_list("pk", flat=True))
    else:
        ids = children_due(now=now)
    for start in range(0, len(ids), chunk):
        part = ids[start : start + chunk]
        with transaction.atomic():
            changed = set(concerns_refresh_many(patient_ids=part, now=now))
            # Past the alarm date, the family is texted every day: plan each new day's text (the
            # day passing is an instant of theirs: "days ago" changes at local midnight).
            changed |= set(
                Concern.objects.open()
                .filter(patient_id__in=part, kind=Concern.Kind.ALARM_PASSED)
                .values_list("patient_id", flat=True)
            )
            if changed:
                reminders_replan_many(patient_ids=sorted(changed), now=now, refresh=False)
    return len(ids)


def concerns_refresh_all(*, now: datetime | None = None) -> int:
    """Every active child, whatever its instant: the daily safety net behind the stored instants
    (a fact written without a refresh is picked up within a day), and after a deploy."""
    return concerns_refresh_due(now=now, everyone=True)


def children_recheck(*, clinic_id: int | None = None, patient_ids=None, at: datetime | None = None) -> int:
    """Something about these children (a clinic's children, or the ones given) changed without a
    refresh of its own: their stored instant moves to ``at`` (default: now) if later, so the
    next check refreshes them. One UPDATE; a child never assessed is due anyway."""
    from django.db.models import Value
    from django.db.models.functions import Least

    at = at or timezone.now()
    rows = ChildSafety.objects.filter(active=True) if patient_ids is None else ChildSafety.objects.all()
    if clinic_id is not None:
        rows = rows.filter(clinic_id=clinic_id)
    if patient_ids is not None:
        rows = rows.filter(patient_id__in=list(patient_ids))
    return rows.update(recheck_at=Least(Coalesce("recheck_at", Value(at)), Value(at)))


# --- Nurses ------------------------------------------------------------------------------------


@transaction.atomic
def concern_acknowledge(*, concern: Concern, by, now: datetime | None = None) -> Concern:
    """A nurse has seen it and is acting: who and when. It stays open until its condition clears;
    for a shared parent's new number, the nurse's check is what clears it."""
    concern = Concern.objects.select_for_update().get(pk=concern.pk)
    if concern.acknowledged_at is None:
        concern.acknowledged_at = now or timezone.now()
        concern.acknowledged_by = by
        concern.save(update_fields=["acknowledged_at", "acknowledged_by"])
        if concern.kind == Concern.Kind.CONTACT_CHANGED:
            concerns_refresh(patient=concern.patient, now=concern.acknowledged_at)
            concern.refresh_from_db()
    return concern


def concern_email(*, concern_id: int, again: str = "") -> None:
    """Tell the clinic's nurse inbox. Failures are logged; the beat retries unmailed ones.
    `again`: why the inbox is told a second time (a report of signs no nurse acknowledged).
    The concern's row is locked while the message goes (at most EMAIL_TIMEOUT): a second sender
    at the same moment (the task after commit and the beat's retry) skips it instead of
    e-mailing twice, and finds it mailed next time."""
    with transaction.atomic():
        concern = (
            Concern.objects.select_related("clinic", "patient")
            .select_for_update(of=("self",), skip_locked=True)
            .filter(pk=concern_id)
            .first()
        )
        if concern is None:
            return  # gone, or another process is e-mailing it right now
        to = concern.clinic.nurse_inbox_email
        if not to or (concern.emailed_at and not again) or concern.resolved_at:
            return
        link = settings.PUBLIC_BASE_URL.rstrip("/") + reverse("alerts:escalations")
        patient = concern.patient
        subject = f"[ITB Portal] {concern.get_tier_display()}: {concern.get_kind_display()}"
        if again:
            subject = f"[ITB Portal] {again}: {concern.get_kind_display()}"
        body = f"{patient.full_name} (MRN {patient.mrn}): {concern.nurse_words}\n\n"
        body += f"Open the escalations list: {link}"
        try:
            send_mail(subject, body, None, [to])
        except Exception:  # noqa: BLE001 - a mail server problem must not stop the engine
            logger.exception("Could not e-mail concern %s", concern_id)
            return
        Concern.objects.filter(pk=concern_id).update(emailed_at=timezone.now())


def concerns_email_each(concern_ids) -> None:
    for pk in concern_ids:
        concern_email(concern_id=pk)


# A concern that opens needing a nurse is e-mailed by its own task, queued when its refresh
# commits (concerns_refresh_many). The check takes only those its task has had this long to send:
# the ones whose task the broker lost, or whose message failed.
EMAIL_TASK_GRACE = timedelta(minutes=2)


def concerns_email_pending(*, now: datetime | None = None, limit: int = 100) -> int:
    """The check's retry of the inbox e-mails: the unmailed concerns needing a nurse, of clinics
    with an inbox, that opened at least EMAIL_TASK_GRACE before ``now``, oldest first, at most
    ``limit``. A concern that has
    just opened is left to its own task (not raced for, and not sent inside the check's time).
    Returns how many it tried."""
    now = now or timezone.now()
    pending = (
        Concern.objects.needing_nurse()
        .filter(emailed_at__isnull=True, opened_at__lte=now - EMAIL_TASK_GRACE)
        .exclude(clinic__nurse_inbox_email="")  # no inbox to tell: never mailed, never retried
    )
    ids = list(pending.order_by("opened_at", "pk").values_list("pk", flat=True)[:limit])
    for pk in ids:
        concern_email(concern_id=pk)
    return len(ids)

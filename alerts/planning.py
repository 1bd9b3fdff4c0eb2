"""The reminder plan: which texts should exist, and bringing the Reminder table in line with it.

`plan_for_patient` is pure (no queries): it turns one child's dates and the caregivers who can
receive texts into the wanted rows. `reminders_replan` / `reminders_replan_all` load in bulk,
lock the rows they may change, insert what is missing, move what changed and cancel what no longer
holds. Rows already claimed, sent or delivered are never touched.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from .models import Reminder

# Texts go out at this local time on the day of sending (clinic time, DST-aware through zoneinfo).
SEND_AT = time(10, 0)
REPLAN_ALL_CHUNK = 500

Key = tuple[int, str, date, int, int]  # (patient, kind, target_date, offset_days, caregiver)


@dataclass(frozen=True)
class Wanted:
    patient_id: int
    kind: str
    target_date: date
    offset_days: int
    caregiver_id: int
    send_after: datetime
    pump_id: int | None = None
    appointment_id: int | None = None

    @property
    def key(self) -> Key:
        return (self.patient_id, self.kind, self.target_date, self.offset_days, self.caregiver_id)


@dataclass(frozen=True)
class ChildDates:
    """What the plan of one child depends on, as plain values."""

    patient_id: int
    tz: str
    pump_id: int | None
    refill_due: date | None
    alarm_date: date | None
    battery_opens: date | None
    battery_booked: bool
    appointments: tuple[tuple[int, date], ...]  # (appointment id, local date)
    caregiver_ids: tuple[int, ...]
    refill_days: tuple[int, ...]
    alarm_days: tuple[int, ...]
    appointment_days: tuple[int, ...]
    battery_repeat_days: int


def send_time(day: date, tz: str) -> datetime:
    """SEND_AT local time on `day`, as an aware instant (right on both sides of a DST change)."""
    return datetime.combine(day, SEND_AT, tzinfo=ZoneInfo(tz))


def _dated(child: ChildDates, today: date) -> list[tuple[str, date, int, int | None]]:
    """(kind, target date, offset, appointment id) for every text the child's dates call for."""
    out: list[tuple[str, date, int, int | None]] = []
    if child.pump_id is not None and child.refill_due:
        out += [("refill_due", child.refill_due, d, None) for d in child.refill_days]
    if child.pump_id is not None and child.alarm_date:
        out += [("alarm", child.alarm_date, d, None) for d in child.alarm_days]
    for appointment_id, day in child.appointments:
        out += [("appointment", day, d, appointment_id) for d in child.appointment_days]
    if child.pump_id is not None and child.battery_opens and not child.battery_booked:
        # Window opened, then every N days: the next repeat on or after today, as a negative offset.
        # Only the next one is planned; the daily replan plans the one after.
        repeat = max(child.battery_repeat_days, 1)
        k = max(0, -(-(today - child.battery_opens).days // repeat))
        if (child.battery_opens - today).days <= repeat:
            out.append(("battery", child.battery_opens, -k * repeat, None))
    return out


def plan_for_patient(child: ChildDates, *, today: date) -> tuple[list[Wanted], set[Key]]:
    """The rows to create or keep (send day today or later), and every key that still holds
    (target date not passed), so that a due row the sweep has not reached yet is not cancelled."""
    create: list[Wanted] = []
    holding: set[Key] = set()
    for kind, target, offset, appointment_id in _dated(child, today):
        if target < today and kind != "battery":  # the battery target is the day the window opened
            continue
        day = target - timedelta(days=offset)
        for caregiver_id in child.caregiver_ids:
            row = Wanted(
                patient_id=child.patient_id,
                kind=kind,
                target_date=target,
                offset_days=offset,
                caregiver_id=caregiver_id,
                send_after=send_time(day, child.tz),
                pump_id=child.pump_id,
                appointment_id=appointment_id,
            )
            holding.add(row.key)
            if day >= today:
                create.append(row)
    return create, holding


def _load_children(patient_ids: list[int], now: datetime) -> list[ChildDates]:
    """Every input of the plan for these children, in a fixed number of queries."""
    from appointments.models import Appointment
    from patients.models import CaregiverLink, Patient
    from pumps.models import Pump

    patients = Patient.objects.filter(pk__in=patient_ids, active=True).select_related("clinic")
    pumps = {}
    for pump in (
        Pump.objects.active().filter(patient_id__in=patient_ids).with_current().order_by("implant_date")
    ):
        pumps[pump.patient_id] = pump  # the newest implant wins
    caregivers = defaultdict(list)
    links = CaregiverLink.objects.filter(patient_id__in=patient_ids, active=True).select_related(
        "caregiver__user"
    )
    for link in links.order_by("caregiver_id"):
        if link.caregiver.can_receive_texts:
            caregivers[link.patient_id].append(link.caregiver_id)
    appointments = defaultdict(list)
    for appt in Appointment.objects.filter(patient_id__in=patient_ids).upcoming(now=now):
        appointments[appt.patient_id].append(appt)
    return [_child_dates(p, pumps.get(p.pk), caregivers[p.pk], appointments[p.pk]) for p in patients]


def _child_dates(patient, pump, caregiver_ids, appointments) -> ChildDates:
    clinic = patient.clinic
    tz = ZoneInfo(clinic.time_zone)
    visit = pump.latest_visit if pump else None
    return ChildDates(
        patient_id=patient.pk,
        tz=clinic.time_zone,
        pump_id=pump.pk if pump else None,
        refill_due=visit.refill_due if visit else None,
        alarm_date=visit.alarm_at_worst.astimezone(tz).date() if visit else None,
        battery_opens=pump.battery_window_opens() if pump else None,
        battery_booked=any(a.kind == "battery" for a in appointments),
        appointments=tuple((a.pk, a.start.astimezone(tz).date()) for a in appointments),
        caregiver_ids=tuple(caregiver_ids),
        refill_days=tuple(int(d) for d in clinic.reminder_refill_due_days),
        alarm_days=tuple(int(d) for d in clinic.reminder_alarm_days),
        appointment_days=tuple(int(d) for d in clinic.reminder_appointment_days),
        battery_repeat_days=clinic.reminder_battery_repeat_days,
    )


def _today(child_tz: str, now: datetime) -> date:
    return now.astimezone(ZoneInfo(child_tz)).date()


def _apply(children: Iterable[ChildDates], patient_ids: list[int], now: datetime) -> None:
    """Bring the table in line with the plan of these children (inside a transaction)."""
    wanted: dict[Key, Wanted] = {}
    holding: set[Key] = set()
    for child in children:
        create, keys = plan_for_patient(child, today=_today(child.tz, now))
        wanted.update((row.key, row) for row in create)
        holding |= keys
    # Lock the rows this plan may change; the sweep skips locked rows, so it cannot claim one
    # that is being cancelled or moved.
    existing = {
        (r.patient_id, r.kind, r.target_date, r.offset_days, r.caregiver_id): r
        for r in Reminder.objects.select_for_update()
        .filter(patient_id__in=patient_ids, status__in=[Reminder.Status.PLANNED, Reminder.Status.CANCELLED])
        .only(
            "pk",
            "patient_id",
            "kind",
            "target_date",
            "offset_days",
            "caregiver_id",
            "status",
            "send_after",
            "attempts",
            "pump_id",
            "appointment_id",
        )
        .order_by("pk")
    }
    _cancel(existing, holding, now)
    _update(existing, wanted, now)
    new = [_row(w) for key, w in wanted.items() if key not in existing]
    Reminder.objects.bulk_create(new, ignore_conflicts=True, batch_size=1000)


def _cancel(existing: dict[Key, Reminder], holding: set[Key], now: datetime) -> None:
    gone = [r.pk for key, r in existing.items() if r.status == Reminder.Status.PLANNED and key not in holding]
    if gone:
        Reminder.objects.filter(pk__in=gone, status=Reminder.Status.PLANNED).update(
            status=Reminder.Status.CANCELLED, updated_at=now
        )


def _update(existing: dict[Key, Reminder], wanted: dict[Key, Wanted], now: datetime) -> None:
    changed = []
    for key, w in wanted.items():
        row = existing.get(key)
        if row is None:
            continue
        # A retry or a quiet-hours deferral keeps its own later time.
        send_after = w.send_after if row.attempts == 0 else max(row.send_after, w.send_after)
        new = (Reminder.Status.PLANNED, send_after, w.pump_id, w.appointment_id)
        if (row.status, row.send_after, row.pump_id, row.appointment_id) != new:
            row.status, row.send_after, row.pump_id, row.appointment_id = new
            row.updated_at = now
            changed.append(row)
    if changed:
        fields = ["status", "send_after", "pump_id", "appointment_id", "updated_at"]
        Reminder.objects.bulk_update(changed, fields, batch_size=500)


def _row(w: Wanted) -> Reminder:
    return Reminder(
        patient_id=w.patient_id,
        kind=w.kind,
        target_date=w.target_date,
        offset_days=w.offset_days,
        caregiver_id=w.caregiver_id,
        send_after=w.send_after,
        pump_id=w.pump_id,
        appointment_id=w.appointment_id,
    )


@transaction.atomic
def reminders_replan(*, patient, now: datetime | None = None) -> None:
    """Rebuild one child's plan. Call it inside the transaction of every write that changes a
    date a family relies on: if that transaction rolls back, so does the plan."""
    from .escalations import escalate_unreachable

    now = now or timezone.now()
    children = _load_children([patient.pk], now)
    _apply(children, [patient.pk], now)
    escalate_unreachable(children, now=now)


def reminders_replan_all(*, now: datetime | None = None, chunk: int = REPLAN_ALL_CHUNK) -> int:
    """Replan every active child (the daily job: dates move with time). Bulk, chunked, one
    transaction per chunk. Returns the number of children planned."""
    from patients.models import Patient

    from .escalations import escalate_unreachable

    now = now or timezone.now()
    ids = list(Patient.objects.filter(active=True).order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), chunk):
        part = ids[start : start + chunk]
        with transaction.atomic():
            children = _load_children(part, now)
            _apply(children, part, now)
            escalate_unreachable(children, now=now)
    return len(ids)

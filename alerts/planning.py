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
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.utils import timezone

from alerts.models import Reminder
from pumps import safety

# Texts go out at this local time on the day of sending (clinic time, DST-aware through zoneinfo).
SEND_AT = time(10, 0)
REPLAN_ALL_CHUNK = 5000

Key = tuple[int, str, date, int, int]  # (patient, kind, target_date, offset_days, caregiver)


class Wanted(NamedTuple):
    """One row the plan wants (a named tuple: the daily replan makes hundreds of thousands)."""

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
        return self[:5]


@dataclass(frozen=True)
class ChildDates:
    """What the plan of one child depends on, as plain values."""

    patient_id: int
    tz: str
    pump_id: int | None
    refill_due: date | None  # governing (alerts.models.ChildSafety)
    alarm_date: date | None  # governing
    battery_opens: date | None  # the day the family was first told of the battery (ERI or window)
    battery_booked: bool
    appointments: tuple[tuple[int, date], ...]  # (appointment id, local date)
    caregiver_ids: tuple[int, ...]
    refill_days: tuple[int, ...]
    alarm_days: tuple[int, ...]
    appointment_days: tuple[int, ...]
    battery_repeat_days: int
    alarm_passed: bool = False  # the governing alarm instant has passed with no refill since
    # A refill is booked in time (docs/rules.md#when-texts-are-sent): an upcoming refill
    # appointment that starts no later than the governing alarm, on or before the refill-due date.
    refill_booked: bool = False


@lru_cache(maxsize=4096)
def send_time(day: date, tz: str) -> datetime:
    """SEND_AT local time on `day`, as an aware instant (right on both sides of a DST change)."""
    return datetime.combine(day, SEND_AT, tzinfo=ZoneInfo(tz))


def _dated(child: ChildDates, today: date) -> list[tuple[str, date, int, int | None]]:
    """(kind, target date, offset, appointment id) for every text the child's dates call for."""
    out: list[tuple[str, date, int, int | None]] = []
    if child.pump_id is not None and child.refill_due and not child.refill_booked:
        # Not while a refill is booked in time: the appointment's own reminders speak then.
        out += [("refill_due", child.refill_due, d, None) for d in child.refill_days]
    if child.pump_id is not None and child.alarm_date:
        out += [("alarm", child.alarm_date, d, None) for d in child.alarm_days]
        if child.alarm_passed and today > child.alarm_date:
            # Every day until a refill is recorded (never held by quiet hours: alerts/sending.py).
            out.append(("overdue", today, 0, None))
    for appointment_id, day in child.appointments:
        out += [("appointment", day, d, appointment_id) for d in child.appointment_days]
    if child.pump_id is not None and child.battery_opens and not child.battery_booked:
        # Told on the day the concern opened (ERI: at the next sending time), then every N days:
        # the next repeat on or after today, as a negative offset. Only the next one is planned;
        # the daily replan plans the one after.
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
    """Every input of the plan for these children, in a fixed number of queries, as plain
    values (no model instances: the daily replan reads every child)."""
    from alerts.models import ChildSafety
    from appointments.models import Appointment
    from patients.models import CaregiverLink, Clinic, Patient
    from pumps.models import Pump

    patients = list(
        Patient.objects.filter(pk__in=patient_ids, active=True).order_by("pk").values_list("pk", "clinic_id")
    )
    clinics = {c.pk: _ClinicRules.of(c) for c in Clinic.objects.filter(pk__in={c for _, c in patients})}
    pumps = {}
    for row in (
        Pump.objects.active()
        .filter(patient_id__in=patient_ids)
        .order_by("implant_date", "pk")
        .values_list("patient_id", "pk", "implant_date", "eri_date", "model")
    ):
        pumps[row[0]] = row[1:]  # the newest implant wins
    # The governing dates, as the safety assessment stored them (alerts/concerns.py).
    visits = {
        pump_id: (due, alarm_day, alarm_at, notice)
        for pump_id, due, alarm_day, alarm_at, notice in ChildSafety.objects.filter(
            patient_id__in=patient_ids, pump_id__isnull=False
        ).values_list("pump_id", "refill_due", "alarm_day", "alarm_at", "battery_notice_from")
    }
    caregivers = defaultdict(list)
    # Caregiver.can_receive_texts, in SQL (consent, a mobile, an active account): parsing every
    # mobile number into a PhoneNumber would cost more than the rest of the load.
    links = (
        CaregiverLink.objects.filter(
            patient_id__in=patient_ids,
            active=True,
            caregiver__sms_consent=True,
            caregiver__user__is_active=True,
        )
        .exclude(caregiver__mobile="")
        .order_by("caregiver_id")
    )
    for patient_id, caregiver_id in links.values_list("patient_id", "caregiver_id"):
        caregivers[patient_id].append(caregiver_id)
    appointments = defaultdict(list)
    for row in (
        Appointment.objects.filter(patient_id__in=patient_ids)
        .upcoming(now=now)
        .order_by("start", "pk")  # two on one day: the later wins the plan key (as in SQL)
        .values_list("patient_id", "pk", "kind", "start")
    ):
        appointments[row[0]].append(row[1:])
    return [
        _child_dates(pk, clinics[clinic_id], pumps.get(pk), visits, caregivers[pk], appointments[pk], now)
        for pk, clinic_id in patients
    ]


@dataclass(frozen=True)
class _ClinicRules:
    tz: str
    refill_days: tuple[int, ...]
    alarm_days: tuple[int, ...]
    appointment_days: tuple[int, ...]
    battery_repeat_days: int

    @classmethod
    def of(cls, clinic) -> _ClinicRules:
        return cls(
            tz=clinic.time_zone,
            refill_days=tuple(int(d) for d in clinic.reminder_refill_due_days),
            alarm_days=tuple(int(d) for d in clinic.reminder_alarm_days),
            appointment_days=tuple(int(d) for d in clinic.reminder_appointment_days),
            battery_repeat_days=clinic.reminder_battery_repeat_days,
        )


def _child_dates(
    patient_id, rules: _ClinicRules, pump, visits, caregiver_ids, appointments, now
) -> ChildDates:
    tz = ZoneInfo(rules.tz)
    pump_id = pump[0] if pump else None
    refill_due, alarm_day, alarm_at, notice = visits.get(pump_id, (None, None, None, None))
    booked = any(
        kind == "refill"
        and alarm_at is not None
        and refill_due is not None
        and safety.booked_in_time(start, alarm_at)
        and start.astimezone(tz).date() <= refill_due
        for _, kind, start in appointments
    )
    return ChildDates(
        patient_id=patient_id,
        tz=rules.tz,
        pump_id=pump_id,
        refill_due=refill_due,
        alarm_date=alarm_day,
        battery_opens=notice,
        battery_booked=any(kind == "battery" for _, kind, _ in appointments),
        appointments=tuple((pk, start.astimezone(tz).date()) for pk, _, start in appointments),
        caregiver_ids=tuple(caregiver_ids),
        refill_days=rules.refill_days,
        alarm_days=rules.alarm_days,
        appointment_days=rules.appointment_days,
        battery_repeat_days=rules.battery_repeat_days,
        alarm_passed=alarm_at is not None and alarm_at <= now,
        refill_booked=booked,
    )


def _today(child_tz: str, now: datetime) -> date:
    return now.astimezone(ZoneInfo(child_tz)).date()


_OPEN = [Reminder.Status.PLANNED, Reminder.Status.CANCELLED]
_EXISTING = ("pk", "patient_id", "kind", "target_date", "offset_days", "caregiver_id", "status",
             "send_after", "attempts", "pump_id", "appointment_id")  # fmt: skip


def _apply(children: Iterable[ChildDates], patient_ids: list[int], now: datetime) -> None:
    """Bring the table in line with the plan of these children (inside a transaction)."""
    wanted: dict[Key, Wanted] = {}
    holding: set[Key] = set()
    for child in children:
        create, keys = plan_for_patient(child, today=_today(child.tz, now))
        wanted.update((row.key, row) for row in create)
        holding |= keys
    # Read the open rows without locking them, then lock only those this plan changes (the
    # sweep skips locked rows, so it cannot claim one that is being cancelled or moved) and
    # decide again on their locked values: a row claimed meanwhile is no longer ours to touch.
    rows = Reminder.objects.filter(patient_id__in=patient_ids, status__in=_OPEN)
    existing = _by_key(rows)
    touch = _cancelled(existing, holding) + [row[0] for row in _moved(existing, wanted)]
    if touch:
        locked = _by_key(rows.select_for_update().filter(pk__in=touch).order_by("pk"))
        _cancel(_cancelled(locked, holding), now)
        _update(_moved(locked, wanted), now)
    _insert([w for key, w in wanted.items() if key not in existing], now)


def _by_key(rows) -> dict[Key, tuple]:
    """Plan key -> (pk, status, send_after, attempts, pump_id, appointment_id)."""
    return {row[1:6]: (row[0], *row[6:]) for row in rows.values_list(*_EXISTING)}


def _cancelled(existing: dict[Key, tuple], holding: set[Key]) -> list[int]:
    return [r[0] for key, r in existing.items() if r[1] == Reminder.Status.PLANNED and key not in holding]


def _cancel(gone: list[int], now: datetime) -> None:
    if gone:
        Reminder.objects.filter(pk__in=gone, status=Reminder.Status.PLANNED).update(
            status=Reminder.Status.CANCELLED, updated_at=now
        )


def _moved(existing: dict[Key, tuple], wanted: dict[Key, Wanted]) -> list[tuple]:
    """(pk, status, send_after, pump_id, appointment_id) of each open row whose values change."""
    changed = []
    for key, w in wanted.items():
        row = existing.get(key)
        if row is None:
            continue
        pk, status, send_after, attempts, pump_id, appointment_id = row
        # A retry or a quiet-hours deferral keeps its own later time.
        new = (
            Reminder.Status.PLANNED,
            w.send_after if attempts == 0 else max(send_after, w.send_after),
            w.pump_id,
            w.appointment_id,
        )
        if (status, send_after, pump_id, appointment_id) != new:
            changed.append((pk, *new))
    return changed


def _update(changed: list[tuple], now: datetime) -> None:
    """A row the plan moves is a new text: the body an earlier send of unknown outcome handed
    over (alerts.begun) is not sent again; the next send makes its words anew."""
    if changed:
        rows = [
            Reminder(pk=pk, status=status, send_after=at, pump_id=pump, appointment_id=appt, updated_at=now,
                     send_body="")  # fmt: skip
            for pk, status, at, pump, appt in changed
        ]
        fields = ["status", "send_after", "pump_id", "appointment_id", "updated_at", "send_body"]
        Reminder.objects.bulk_update(rows, fields, batch_size=500)


# The new rows of a chunk go in with ONE statement: INSERT ... SELECT FROM unnest(arrays),
# skipping rows that exist (the unique plan key), as bulk_create(ignore_conflicts=True) would.
_INSERTED = (
    ("patient_id", "bigint"),
    ("kind", "varchar"),
    ("target_date", "date"),
    ("offset_days", "smallint"),
    ("caregiver_id", "bigint"),
    ("send_after", "timestamptz"),
    ("pump_id", "bigint"),
    ("appointment_id", "bigint"),
)


def _nullable(value) -> str:
    return "" if value is None else str(value)


# How each column becomes text (columns are typed: no per-value isinstance).
_TEXT = {"kind": None, "target_date": date.isoformat, "send_after": datetime.isoformat}
_TEXT.update(pump_id=_nullable, appointment_id=_nullable)
_COLUMNS = [(Wanted._fields.index(name), _TEXT.get(name, str)) for name, _ in _INSERTED]


def _insert(rows: list[Wanted], now: datetime) -> None:
    if not rows:
        return
    if connection.vendor != "postgresql":  # `make run` on SQLite: the ORM's way
        fields = [name for name, _ in _INSERTED]
        new = [Reminder(**{name: getattr(w, name) for name in fields}) for w in rows]
        Reminder.objects.bulk_create(new, ignore_conflicts=True, batch_size=500)
        return
    names = [name for name, _ in _INSERTED]
    columns, exprs, defaults = list(names), [f"u.{name}" for name in names], []
    for f in Reminder._meta.concrete_fields:
        if f.primary_key or f.attname in names:
            continue
        columns.append(f.column)
        exprs.append("%s")
        auto = getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        defaults.append(now if auto else f.get_db_prep_save(f.get_default(), connection))
    # Each column travels as ONE comma-separated text (empty = NULL), split by the server:
    # far cheaper than adapting Python lists into array literals on the client.
    arrays = []
    for index, text in _COLUMNS:
        values = [w[index] for w in rows]
        arrays.append(",".join(values if text is None else map(text, values)))
    unnest = ", ".join(f"string_to_array(%s, ',', '')::{kind}[]" for _, kind in _INSERTED)
    sql = (
        f"INSERT INTO {Reminder._meta.db_table} ({', '.join(columns)}) "
        f"SELECT {', '.join(exprs)} FROM unnest({unnest}) AS u({', '.join(names)}) "
        "ON CONFLICT DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*defaults, *arrays])


@transaction.atomic
def reminders_replan(*, patient, now: datetime | None = None) -> None:
    """Refresh one child's concerns, then rebuild its plan from the governing dates they store.
    Call it inside the transaction of every write that changes a fact about the child: if that
    transaction rolls back, so do the concerns and the plan."""
    reminders_replan_many(patient_ids=[patient.pk], now=now)


def reminders_replan_many(
    *, patient_ids: list[int], now: datetime | None = None, refresh: bool = True
) -> None:
    """Plan these children (inside the caller's transaction, or one of its own); with `refresh`,
    refresh their concerns first (the plan reads the dates the refresh stores)."""
    from alerts.concerns import concerns_refresh_many

    now = now or timezone.now()
    with transaction.atomic():
        if refresh:
            concerns_refresh_many(patient_ids=patient_ids, now=now)
        children = _load_children(patient_ids, now)
        _apply(children, patient_ids, now)


def reminders_replan_all(*, now: datetime | None = None, chunk: int = REPLAN_ALL_CHUNK) -> int:
    """Re-plan every active child (the daily job: dates move with time), chunked, one
    transaction per chunk. Returns the number of children planned.

    The plan reads the governing dates the safety assessment stores (ChildSafety): every write
    that changes a fact refreshes them in its own transaction, and the 5-minute check
    (`concerns_refresh_due`) refreshes what time alone changes, so only a child never assessed
    is assessed here. On PostgreSQL the plan is the SQL twin of `plan_for_patient`
    (alerts/planning_sql.py), with no Python per child; on SQLite (`make run`), this module's."""
    from alerts.concerns import concerns_refresh_many
    from alerts.models import ChildSafety
    from alerts.planning_sql import plan_apply
    from patients.models import Patient

    now = now or timezone.now()
    ids = list(Patient.objects.filter(active=True).order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), chunk):
        part = ids[start : start + chunk]
        with transaction.atomic():
            assessed = set(ChildSafety.objects.filter(patient_id__in=part).values_list("pk", flat=True))
            never = [pk for pk in part if pk not in assessed]
            if never:
                concerns_refresh_many(patient_ids=never, now=now)
            if connection.vendor == "postgresql":
                plan_apply(patient_ids=part, now=now)
            else:
                reminders_replan_many(patient_ids=part, now=now, refresh=False)
    return len(ids)

"""How urgent a child's next refill is, in the words a parent reads on the home card.

Pure: plain dates in, a small value out, no Django. The thresholds are clinic-facing policy and
are named here so that the card, its colours and its tests agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

# The alarm date is this many days away or fewer, with no refill booked before it: call today.
CALL_TODAY_WITHIN_DAYS = 3
# The refill-due date is this many days away or fewer, with no refill booked: book now.
BOOK_NOW_BEFORE_DUE_DAYS = 14
# The handout's after-surgery care applies for the first six weeks after an implant.
RECOVERY_DAYS = 42
# Keep the incision dry, and return to school and light activities, after one week.
INCISION_DRY_DAYS = 7
SCHOOL_AFTER_DAYS = 7
# The abdominal binder is worn for six weeks.
BINDER_DAYS = 42


class Level(StrEnum):
    PLENTY = "plenty"  # nothing to do yet, or a refill is booked in time
    BOOK_NOW = "book_now"  # book (or move) the refill appointment now
    CALL_TODAY = "call_today"  # call the clinic today


class Reason(StrEnum):
    BOOKED = "booked"  # a refill appointment is booked on or before the alarm date
    NOT_DUE_YET = "not_due_yet"  # no appointment, but the refill is not due for a while
    DUE_SOON = "due_soon"  # no appointment, the refill is due soon
    BOOKED_AFTER_ALARM = "booked_after_alarm"  # the only appointment is after the alarm date
    ALARM_NEAR = "alarm_near"  # alarm within CALL_TODAY_WITHIN_DAYS, no appointment before it
    ALARM_PASSED = "alarm_passed"  # the alarm date has passed with no refill since
    NO_REFILL = "no_refill"  # no refill recorded yet: nothing to count from


@dataclass(frozen=True)
class Urgency:
    level: Level
    reason: Reason
    days_to_alarm: int | None
    days_to_due: int | None


def refill_urgency(
    *, today: date, alarm_day: date | None, refill_due: date | None, appointment_day: date | None
) -> Urgency:
    """Classify a child's refill state. All dates are local to the clinic.

    `appointment_day` is the day of the next open refill appointment, if any.
    """
    if alarm_day is None or refill_due is None:
        level = Level.PLENTY if appointment_day else Level.BOOK_NOW
        return Urgency(level, Reason.NO_REFILL, None, None)
    to_alarm = (alarm_day - today).days
    to_due = (refill_due - today).days
    booked_in_time = appointment_day is not None and appointment_day <= alarm_day
    if to_alarm < 0:
        return Urgency(Level.CALL_TODAY, Reason.ALARM_PASSED, to_alarm, to_due)
    if booked_in_time:
        return Urgency(Level.PLENTY, Reason.BOOKED, to_alarm, to_due)
    if to_alarm <= CALL_TODAY_WITHIN_DAYS:
        return Urgency(Level.CALL_TODAY, Reason.ALARM_NEAR, to_alarm, to_due)
    if appointment_day is not None:
        return Urgency(Level.BOOK_NOW, Reason.BOOKED_AFTER_ALARM, to_alarm, to_due)
    if to_due <= BOOK_NOW_BEFORE_DUE_DAYS:
        return Urgency(Level.BOOK_NOW, Reason.DUE_SOON, to_alarm, to_due)
    return Urgency(Level.PLENTY, Reason.NOT_DUE_YET, to_alarm, to_due)


@dataclass(frozen=True)
class Recovery:
    """Where a child is in the first weeks after an implant (None outside them)."""

    implant_date: date
    day: int  # days since the implant
    dry_until: date
    school_from: date
    binder_until: date

    @property
    def incision_must_stay_dry(self) -> bool:
        return self.day < INCISION_DRY_DAYS

    @property
    def may_be_at_school(self) -> bool:
        return self.day >= SCHOOL_AFTER_DAYS


def recovery(*, implant_date: date, today: date) -> Recovery | None:
    day = (today - implant_date).days
    if day < 0 or day >= RECOVERY_DAYS:
        return None
    return Recovery(
        implant_date=implant_date,
        day=day,
        dry_until=implant_date + timedelta(days=INCISION_DRY_DAYS),
        school_from=implant_date + timedelta(days=SCHOOL_AFTER_DAYS),
        binder_until=implant_date + timedelta(days=BINDER_DAYS),
    )

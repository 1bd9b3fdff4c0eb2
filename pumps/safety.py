"""The safety assessment of one child: which dangers hold now, how bad, and what to do.

Pure, like ``forecast.py``: no Django import, no clock read. One child's facts come in as plain
values (:class:`Facts`) with ``now``; :func:`assess` returns the governing dates and the list of
concerns. Every rule about danger (docs/rules.md#concern-kinds-and-tiers) lives here once: the
worklist, the escalations, the family card, the texts and the forms' warnings read its stored
result (``alerts.concerns``), none re-derives it.

Conventions:

* "Booked in time" compares instants: a refill appointment is in time when it starts no later
  than the governing alarm instant (:func:`booked_in_time`). Refill-due and the 180-day cap are
  dates in the clinic's zone, so those compare the appointment's local date
  (docs/rules.md#booked-in-time).
* The governing alarm: the computed worst-case instant, unless the programmer's printed date is
  more than a day earlier and no nurse has resolved the difference; then the start of the printed
  day (clinic time) governs, and the refill-due date moves earlier with it
  (docs/rules.md#printed-and-computed-dates).
* A concern's ``key`` names one condition (kind + the visit, appointment or pump it is about), so
  a condition that holds across refreshes is one stored row; a new refill is a new condition.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from decimal import Decimal
from enum import StrEnum

from pumps import forecast as fc
from pumps.clinic_calendar import ClinicCalendar

RESIDUAL_ABS_LIMIT_ML = Decimal(2)
RESIDUAL_RATIO_RANGE = (Decimal("0.85"), Decimal("1.15"))
NOT_DELIVERED_AFTER = timedelta(hours=1)
TREND_REFILLS = 3  # the residual trend reads the last three refills


class Tier(StrEnum):
    CRITICAL = "critical"
    URGENT = "urgent"
    ATTENTION = "attention"


TIER_RANK = {Tier.CRITICAL: 0, Tier.URGENT: 1, Tier.ATTENTION: 2}
NO_CONCERN_RANK = 3


class Kind(StrEnum):
    ALARM_PASSED = "alarm_passed"
    ALARM_NEAR = "alarm_near"
    BOOKED_AFTER_ALARM = "booked_after_alarm"
    BOOKED_PAST_CAP = "booked_past_cap"
    BOOKED_AFTER_DUE = "booked_after_due"
    DUE_PASSED = "due_passed"
    DUE_SOON = "due_soon"
    RESIDUAL_HIGH = "residual_high"
    RESIDUAL_LOW = "residual_low"
    RESIDUAL_TREND = "residual_trend"
    PRINTED_DIFFERS = "printed_differs"
    ERI = "eri"
    BATTERY = "battery"
    NO_SHOW = "no_show"
    UNREACHABLE = "unreachable"
    FLEX_CLOCK = "flex_clock"
    CONTACT_CHANGED = "contact_changed"


class FamilyLevel(StrEnum):
    """The family card's colour: what the parent must do."""

    CALL_TODAY = "call_today"
    BOOK_NOW = "book_now"
    PLENTY = "plenty"


FAMILY_RANK = {FamilyLevel.CALL_TODAY: 0, FamilyLevel.BOOK_NOW: 1, FamilyLevel.PLENTY: 2}


class FamilyReason(StrEnum):
    """The family's headline when no concern speaks to them."""

    BOOKED = "booked"  # a refill is booked in time, on or before the refill-due date
    NOT_DUE_YET = "not_due_yet"
    NO_REFILL = "no_refill"  # no fill recorded yet: nothing to count from


@dataclass(frozen=True)
class Rules:
    """Clinic policy: lead days and the maximum interval are the clinic's settings; the other
    thresholds are fixed at these defaults (docs/rules.md#clinic-defaults)."""

    lead_days: int = fc.LEAD_DAYS
    max_interval_days: int = fc.MAX_INTERVAL_DAYS
    alarm_near_days: int = 3
    due_soon_days: int = 14
    unreachable_critical_days: int = 14
    battery_critical_days: int = 90


@dataclass(frozen=True)
class Refill:
    """A visit that filled the reservoir (refill or first fill), with its residual reading."""

    visit_id: int
    at: datetime
    expected_residual_ml: Decimal | None = None
    actual_residual_ml: Decimal | None = None


@dataclass(frozen=True)
class Visit:
    """The latest visit of any kind: what the pump is doing now."""

    visit_id: int
    at: datetime
    alarm_at: datetime  # computed, worst case
    refill_due: date  # computed from it (clinic calendar applied), clinic-local
    printed_alarm_date: date | None = None
    printed_resolved: bool = False
    flex_steps: tuple[fc.FlexStep, ...] = ()
    pump_utc_offset: timedelta | None = None


@dataclass(frozen=True)
class Booking:
    appointment_id: int
    kind: str  # "refill", "battery", ...
    start: datetime


@dataclass(frozen=True)
class Contact:
    """One caregiver linked to the child, and how their last text fared."""

    caregiver_id: int
    can_text: bool
    opted_out: bool = False
    last_text_status: str = ""  # "", sent, delivered, failed, undelivered
    last_text_at: datetime | None = None  # when it was handed to the provider
    last_text_error: str = ""  # why it failed, as the sender or the provider said


@dataclass(frozen=True)
class ContactChange:
    """A caregiver linked to children at more than one clinic proved a new mobile number on the
    portal (only they may change it): each clinic's nurses check it with them, then acknowledge."""

    proof_id: int
    caregiver_id: int
    caregiver_name: str
    at: datetime
    checked: bool = False  # a nurse of this child's clinic acknowledged it


@dataclass(frozen=True)
class Facts:
    tz: tzinfo
    rules: Rules = field(default_factory=Rules)
    pump_id: int | None = None
    implant_date: date | None = None
    eri_date: date | None = None
    shuts_off_at_7_years: bool = True
    latest: Visit | None = None
    refills: tuple[Refill, ...] = ()  # newest first, at most 3
    bookings: tuple[Booking, ...] = ()  # open, from today on, soonest first
    no_show: Booking | None = None  # the latest refill no-show since the last refill
    contacts: tuple[Contact, ...] = ()
    contact_changes: tuple[ContactChange, ...] = ()
    # The clinic's open days (plain values): the refill-due date falls on an open day.
    calendar: ClinicCalendar | None = None


@dataclass(frozen=True)
class Concern:
    kind: Kind
    tier: Tier
    key: str
    act_by: date | None
    began_at: datetime | None  # None: it began when first seen
    family_level: FamilyLevel | None  # None: the family is not told on the card
    details: dict

    @property
    def rank(self) -> int:
        return TIER_RANK[self.tier]

    @property
    def needs_nurse(self) -> bool:
        return self.tier in (Tier.CRITICAL, Tier.URGENT)

    def nurse_words(self) -> str:
        return nurse_words(self.kind, self.details)


@dataclass(frozen=True)
class Dates:
    """The dates every surface shows and every reminder follows."""

    alarm_at: datetime | None = None  # governing instant (UTC)
    alarm_day: date | None = None  # governing, clinic-local
    computed_alarm_at: datetime | None = None
    refill_due: date | None = None  # governing
    last_refill_at: datetime | None = None
    next_refill: Booking | None = None


@dataclass(frozen=True)
class Assessment:
    dates: Dates
    concerns: tuple[Concern, ...]  # most dangerous first

    @property
    def rank(self) -> int:
        return self.concerns[0].rank if self.concerns else NO_CONCERN_RANK

    @property
    def act_by(self) -> date | None:
        """The date to act by of the most dangerous tier (else the refill-due date)."""
        dates = [c.act_by for c in self.concerns if c.rank == self.rank and c.act_by]
        return min(dates) if dates else self.dates.refill_due

    @property
    def family(self) -> Concern | None:
        """The one concern the family card speaks of (one sort key for the card and its order)."""
        told = [c for c in self.concerns if c.family_level is not None]
        return min(told, key=_family_key, default=None)

    @property
    def family_level(self) -> FamilyLevel:
        concern = self.family
        return concern.family_level if concern else FamilyLevel.PLENTY

    def family_reason(self, *, now: datetime, tz: tzinfo) -> str:
        concern = self.family
        if concern is not None:
            return concern.kind.value
        if self.dates.alarm_at is None:
            return FamilyReason.NO_REFILL.value
        if self.dates.next_refill is not None:
            return FamilyReason.BOOKED.value
        return FamilyReason.NOT_DUE_YET.value


def family_key(level: str | None, tier_rank: int, act_by: date | None, kind: str) -> tuple:
    """The one order of what the family is told: what they must do first, then how bad, then
    how soon. A child with nothing to do sorts last (level None)."""
    rank = FAMILY_RANK[FamilyLevel(level)] if level else FAMILY_RANK[FamilyLevel.PLENTY]
    return (rank, tier_rank, act_by or date.max, str(kind))


def _family_key(concern: Concern) -> tuple:
    return family_key(concern.family_level, concern.rank, concern.act_by, concern.kind)


# --- The rules ----------------------------------------------------------------------------------


def residual_discrepancy(expected: Decimal | None, actual: Decimal | None) -> bool:
    """|actual - expected| > 2 mL, or actual/expected outside 0.85-1.15 (ASRA 2017;
    docs/rules.md#residual-volume-check)."""
    if expected is None or actual is None:
        return False
    if abs(actual - expected) > RESIDUAL_ABS_LIMIT_ML:
        return True
    if not expected:
        return False
    ratio = (actual / expected).quantize(Decimal("0.01"))
    low, high = RESIDUAL_RATIO_RANGE
    return not (low <= ratio <= high)


def printed_differs(*, printed: date | None, computed_day: date) -> bool:
    """The programmer's printed alarm date and ours differ by more than a day."""
    return printed is not None and abs((computed_day - printed).days) > 1


def booked_in_time(start: datetime, alarm_at: datetime) -> bool:
    """The one "booked in time" rule: the refill starts no later than the governing alarm."""
    return start <= alarm_at


def _local_day(instant: datetime, tz: tzinfo) -> date:
    return instant.astimezone(tz).date()


def _day_start(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def governing_alarm(
    *, computed_at: datetime, printed: date | None, tz: tzinfo, resolved: bool = False
) -> datetime:
    """The alarm instant that governs: the start of the printed day (clinic time) when it is
    more than a day earlier than the computed date and no nurse has resolved the difference."""
    computed_day = _local_day(computed_at, tz)
    if (
        not resolved
        and printed_differs(printed=printed, computed_day=computed_day)
        and printed < computed_day
    ):
        return _day_start(printed, tz)
    return computed_at


def governing_refill_due(
    *,
    alarm_at: datetime,
    computed_at: datetime,
    refill_due: date,
    tz,
    lead_days: int,
    calendar: ClinicCalendar | None = None,
) -> date:
    """The refill-due date moves earlier with a printed alarm date that governs, onto the open
    day on or before it (the clinic calendar's one rule; without a calendar every day is open)."""
    if alarm_at == computed_at:
        return refill_due
    due = min(refill_due, _local_day(alarm_at, tz) - timedelta(days=lead_days))
    return calendar.open_day_on_or_before(due) if calendar is not None else due


def governing_dates(facts: Facts) -> Dates:
    """The earlier of the printed and computed alarm dates governs until a nurse resolves them."""
    latest, tz = facts.latest, facts.tz
    refills = [b for b in facts.bookings if b.kind == "refill"]
    last_refill_at = facts.refills[0].at if facts.refills else None
    if latest is None:
        return Dates(next_refill=refills[0] if refills else None, last_refill_at=last_refill_at)
    alarm_at = governing_alarm(
        computed_at=latest.alarm_at,
        printed=latest.printed_alarm_date,
        tz=tz,
        resolved=latest.printed_resolved,
    )
    alarm_day = _local_day(alarm_at, tz)
    due = governing_refill_due(
        alarm_at=alarm_at,
        computed_at=latest.alarm_at,
        refill_due=latest.refill_due,
        tz=tz,
        lead_days=facts.rules.lead_days,
        calendar=facts.calendar,
    )
    return Dates(
        alarm_at=alarm_at,
        alarm_day=alarm_day,
        computed_alarm_at=latest.alarm_at,
        refill_due=due,
        last_refill_at=last_refill_at,
        next_refill=refills[0] if refills else None,
    )


def assess(facts: Facts, *, now: datetime) -> Assessment:
    """Every concern that holds for this child at ``now``, most dangerous first."""
    dates = governing_dates(facts)
    today = _local_day(now, facts.tz)
    concerns: list[Concern] = []
    if facts.pump_id is not None:
        if facts.latest is not None:
            concerns += _refill_concerns(facts, dates, now, today)
            concerns += _residual_concerns(facts, today)
            concerns += _printed_concerns(facts, dates, today)
            concerns += _flex_clock_concerns(facts, dates, now)
            concerns += _unreachable_concerns(facts, dates, now, today)
        concerns += _battery_concerns(facts, today)
        concerns += _no_show_concerns(facts, dates)
    concerns += _contact_changed_concerns(facts, today)
    concerns.sort(key=lambda c: (c.rank, c.act_by or date.max, c.kind))
    return Assessment(dates=dates, concerns=tuple(concerns))


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _refill_concerns(facts: Facts, dates: Dates, now: datetime, today: date) -> list[Concern]:
    visit = facts.latest.visit_id
    alarm_at, alarm_day, due = dates.alarm_at, dates.alarm_day, dates.refill_due
    refills = [b for b in facts.bookings if b.kind == "refill"]
    in_time = [b for b in refills if booked_in_time(b.start, alarm_at)]
    base = {"alarm_day": _iso(alarm_day), "refill_due": _iso(due)}
    out = []
    if now >= alarm_at:
        details = {**base, "days_ago": (today - alarm_day).days}
        out.append(
            _c(Kind.ALARM_PASSED, Tier.CRITICAL, f"{visit}", today, alarm_at, FamilyLevel.CALL_TODAY, details)
        )
    elif (alarm_day - today).days <= facts.rules.alarm_near_days and not in_time:
        began = _day_start(alarm_day - timedelta(days=facts.rules.alarm_near_days), facts.tz)
        details = {**base, "days": (alarm_day - today).days}
        out.append(
            _c(Kind.ALARM_NEAR, Tier.CRITICAL, f"{visit}", today, began, FamilyLevel.CALL_TODAY, details)
        )
    nxt = dates.next_refill
    if nxt is not None:
        out += _booking_concern(facts, dates, nxt, in_time, today)
    elif today > due:
        began = _day_start(due + timedelta(days=1), facts.tz)
        details = {**base, "days_over": (today - due).days}
        out.append(_c(Kind.DUE_PASSED, Tier.URGENT, f"{visit}", today, began, FamilyLevel.BOOK_NOW, details))
    elif (due - today).days <= facts.rules.due_soon_days:
        began = _day_start(due - timedelta(days=facts.rules.due_soon_days), facts.tz)
        out.append(_c(Kind.DUE_SOON, Tier.ATTENTION, f"{visit}", due, began, FamilyLevel.BOOK_NOW, base))
    return out


def _booking_concern(facts: Facts, dates: Dates, nxt: Booking, in_time, today: date) -> list[Concern]:
    """The next refill appointment, judged against the alarm, the refill-due date and the cap."""
    day = _local_day(nxt.start, facts.tz)
    details = {
        "appointment_day": day.isoformat(),
        "alarm_day": _iso(dates.alarm_day),
        "refill_due": _iso(dates.refill_due),
    }
    key = f"{nxt.appointment_id}"
    if not in_time:
        return [_c(Kind.BOOKED_AFTER_ALARM, Tier.CRITICAL, key, today, None, FamilyLevel.CALL_TODAY, details)]
    last = dates.last_refill_at
    if last is not None:
        cap = _local_day(last, facts.tz) + timedelta(days=facts.rules.max_interval_days)
        if day > cap:
            details = {**details, "cap_day": cap.isoformat(), "cap_days": facts.rules.max_interval_days}
            return [_c(Kind.BOOKED_PAST_CAP, Tier.URGENT, key, today, None, FamilyLevel.BOOK_NOW, details)]
    if day > dates.refill_due:
        act_by = max(dates.refill_due, today)
        return [_c(Kind.BOOKED_AFTER_DUE, Tier.URGENT, key, act_by, None, FamilyLevel.BOOK_NOW, details)]
    return []


def _residual_concerns(facts: Facts, today: date) -> list[Concern]:
    """The latest *refill* (a programming-only visit never hides it), and the trend of the last three."""
    if not facts.refills:
        return []
    last = facts.refills[0]
    out = []
    expected, actual = last.expected_residual_ml, last.actual_residual_ml
    day = _local_day(last.at, facts.tz)
    if residual_discrepancy(expected, actual):
        details = {
            "visit_day": day.isoformat(),
            "expected_ml": str(expected),
            "actual_ml": str(actual),
            "difference_ml": str(actual - expected),
        }
        kind, tier = (
            (Kind.RESIDUAL_HIGH, Tier.CRITICAL) if actual > expected else (Kind.RESIDUAL_LOW, Tier.URGENT)
        )
        out.append(_c(kind, tier, f"{last.visit_id}", today, last.at, None, details))
    diffs = [
        r.actual_residual_ml - r.expected_residual_ml
        for r in facts.refills[:TREND_REFILLS]
        if r.actual_residual_ml is not None and r.expected_residual_ml is not None
    ]
    if residual_growing(list(reversed(diffs))):
        details = {"differences_ml": [str(d) for d in reversed(diffs)], "visit_day": day.isoformat()}
        out.append(_c(Kind.RESIDUAL_TREND, Tier.ATTENTION, f"{last.visit_id}", day, last.at, None, details))
    return out


def residual_growing(diffs: list[Decimal]) -> bool:
    """The residual trend, the one rule (the worklist's concern and the chart's words): the
    differences (actual - expected) of the last TREND_REFILLS refills, oldest first, have one sign
    throughout and each is further from expected than the one before."""
    if len(diffs) != TREND_REFILLS:
        return False
    same_sign = all(d > 0 for d in diffs) or all(d < 0 for d in diffs)
    return same_sign and all(abs(b) > abs(a) for a, b in zip(diffs, diffs[1:], strict=False))


def _printed_concerns(facts: Facts, dates: Dates, today: date) -> list[Concern]:
    latest = facts.latest
    computed_day = _local_day(latest.alarm_at, facts.tz)
    printed = latest.printed_alarm_date
    if latest.printed_resolved or not printed_differs(printed=printed, computed_day=computed_day):
        return []
    details = {
        "printed_day": printed.isoformat(),
        "computed_day": computed_day.isoformat(),
        "governing_day": _iso(dates.alarm_day),
        "days": abs((computed_day - printed).days),
    }
    return [_c(Kind.PRINTED_DIFFERS, Tier.URGENT, f"{latest.visit_id}", today, latest.at, None, details)]


def _battery_concerns(facts: Facts, today: date) -> list[Concern]:
    if facts.implant_date is None:
        return []
    if any(b.kind == "battery" for b in facts.bookings):
        return []
    args = {
        "implant_date": facts.implant_date,
        "eri_date": facts.eri_date,
        "shuts_off_at_7_years": facts.shuts_off_at_7_years,
    }
    replace_by = fc.replace_by(**args)
    details = {"replace_by": _iso(replace_by)}
    pump = f"{facts.pump_id}"
    if facts.eri_date is not None and facts.eri_date <= today:
        details["eri_date"] = facts.eri_date.isoformat()
        began = _day_start(facts.eri_date, facts.tz)
        key = f"{pump}:{facts.eri_date.isoformat()}"
        return [_c(Kind.ERI, Tier.CRITICAL, key, replace_by, began, FamilyLevel.CALL_TODAY, details)]
    opens = fc.battery_window_opens(**args)
    if opens is None or today < opens:
        return []
    left = (replace_by - today).days if replace_by else None
    tier = Tier.CRITICAL if left is not None and left <= facts.rules.battery_critical_days else Tier.URGENT
    act_by = replace_by - timedelta(days=facts.rules.battery_critical_days) if replace_by else None
    began = _day_start(opens, facts.tz)
    return [_c(Kind.BATTERY, tier, pump, act_by, began, FamilyLevel.BOOK_NOW, details)]


def _no_show_concerns(facts: Facts, dates: Dates) -> list[Concern]:
    missed = facts.no_show
    if missed is None:
        return []
    if dates.last_refill_at is not None and missed.start <= dates.last_refill_at:
        return []
    if any(b.kind == "refill" and b.start > missed.start for b in facts.bookings):
        return []  # rebooked
    day = _local_day(missed.start, facts.tz)
    details = {"appointment_day": day.isoformat(), "refill_due": _iso(dates.refill_due)}
    key = f"{missed.appointment_id}"
    return [_c(Kind.NO_SHOW, Tier.URGENT, key, day, missed.start, FamilyLevel.BOOK_NOW, details)]


def unreachable_reasons(contacts: tuple[Contact, ...], *, now: datetime) -> list[str]:
    """Why texts may not reach this family (empty: they reach it)."""
    reasons = []
    if not any(c.can_text for c in contacts):
        reasons.append("no_textable")
    if any(c.opted_out for c in contacts):
        reasons.append("opted_out")
    if any(c.last_text_status in ("failed", "undelivered") for c in contacts):
        reasons.append("undelivered")
    late = now - NOT_DELIVERED_AFTER
    if any(c.last_text_status == "sent" and c.last_text_at and c.last_text_at < late for c in contacts):
        reasons.append("no_report")
    return reasons


def _unreachable_concerns(facts: Facts, dates: Dates, now: datetime, today: date) -> list[Concern]:
    reasons = unreachable_reasons(facts.contacts, now=now)
    if not reasons:
        return []
    days = (dates.alarm_day - today).days
    tier = Tier.CRITICAL if days <= facts.rules.unreachable_critical_days else Tier.URGENT
    errors = [
        c.last_text_error
        for c in facts.contacts
        if c.last_text_status in ("failed", "undelivered") and c.last_text_error
    ]
    details = {"reasons": reasons, "alarm_day": _iso(dates.alarm_day), "errors": errors[:3]}
    return [_c(Kind.UNREACHABLE, tier, "family", today, None, None, details)]


def _contact_changed_concerns(facts: Facts, today: date) -> list[Concern]:
    """A shared parent's new number, until a nurse of this child's clinic acknowledges it."""
    out = []
    for change in facts.contact_changes:
        if change.checked:
            continue
        details = {
            "caregiver": change.caregiver_name,
            "changed_day": _local_day(change.at, facts.tz).isoformat(),
        }
        out.append(
            _c(Kind.CONTACT_CHANGED, Tier.URGENT, f"{change.proof_id}", today, change.at, None, details)
        )
    return out


def clock_change_after(start: datetime, end: datetime, *, tz: tzinfo, offset: timedelta) -> datetime | None:
    """The first instant in (start, end] at which the clinic's UTC offset is no longer ``offset``."""
    probe = start.astimezone(UTC)
    end = end.astimezone(UTC)
    step = timedelta(days=1)
    while probe < end:
        nxt = min(probe + step, end)
        if nxt.astimezone(tz).utcoffset() != offset:
            low, high = probe, nxt  # the change is in (low, high]
            while high - low > timedelta(minutes=1):
                mid = low + (high - low) / 2
                if mid.astimezone(tz).utcoffset() != offset:
                    high = mid
                else:
                    low = mid
            return high.replace(second=0, microsecond=0)
        probe = nxt
    return None


def _flex_clock_concerns(facts: Facts, dates: Dates, now: datetime) -> list[Concern]:
    latest = facts.latest
    if not latest.flex_steps:
        return []
    offset = latest.pump_utc_offset
    if offset is None:
        offset = latest.at.astimezone(facts.tz).utcoffset()
    change = clock_change_after(latest.at, dates.computed_alarm_at, tz=facts.tz, offset=offset)
    if change is None:
        return []
    shift = change.astimezone(facts.tz).utcoffset() - offset
    steps = []
    for step in latest.flex_steps:
        local = datetime.combine(date(2000, 1, 3), step.start) + shift
        steps.append([f"{step.start:%H:%M}", f"{local:%H:%M}"])
    day = _local_day(change, facts.tz)
    details = {
        "from_day": day.isoformat(),
        "shift_hours": int(shift / timedelta(hours=1)),
        "steps": steps,
        "pump_offset": _offset_words(offset),
    }
    key = f"{latest.visit_id}:{day.isoformat()}"
    return [_c(Kind.FLEX_CLOCK, Tier.ATTENTION, key, day, None, None, details)]


def _offset_words(offset: timedelta) -> str:
    return datetime(2000, 1, 1, tzinfo=timezone(offset)).strftime("UTC%z")


def _c(kind, tier, anchor, act_by, began_at, family, details) -> Concern:
    return Concern(
        kind=kind,
        tier=tier,
        key=f"{kind.value}:{anchor}",
        act_by=act_by,
        began_at=began_at,
        family_level=family,
        details=details,
    )


# --- Quiet hours ----------------------------------------------------------------------------------

QUIET_HOURS_OVERRIDE_DAYS = 2  # DOMAIN.md: texts wait out quiet hours unless the alarm is this close


def in_quiet_hours(local_time: time, *, start: time, end: time) -> bool:
    """Quiet from ``start`` to ``end`` (across midnight when start > end); start == end: never."""
    if start == end:
        return False
    if start < end:
        return start <= local_time < end
    return local_time >= start or local_time < end


def quiet_hours_hold(
    *, now: datetime, tz: tzinfo, start: time, end: time, alarm_day: date | None, any_hour: bool = False
) -> datetime | None:
    """When a text to a caregiver (a reminder or a rung of the escalation ladder) may go, if not
    now: the end of their quiet hours when ``now`` is inside them. The exception, here once: a
    text that goes at any hour (``any_hour``: the alarm date has passed with no refill), or one
    about an alarm date (``alarm_day``) within QUIET_HOURS_OVERRIDE_DAYS days or passed, is never held."""
    local = now.astimezone(tz)
    if any_hour or (alarm_day is not None and (alarm_day - local.date()).days <= QUIET_HOURS_OVERRIDE_DAYS):
        return None
    if not in_quiet_hours(local.time().replace(tzinfo=None), start=start, end=end):
        return None
    ends = datetime.combine(local.date(), end, tzinfo=tz)
    return ends if ends > local else datetime.combine(local.date() + timedelta(days=1), end, tzinfo=tz)


# --- The nurse's words ---------------------------------------------------------------------------

UNREACHABLE_WORDS = {
    "no_textable": "no caregiver can receive texts",
    "opted_out": "a caregiver stopped texts",
    "undelivered": "a text failed or was not delivered",
    "no_report": "no delivery report within an hour",
}

_NURSE = {
    Kind.ALARM_PASSED: (
        "Alarm date {alarm_day} passed, no refill recorded: the pump may be beeping. Call now."
    ),
    Kind.ALARM_NEAR: "Alarm on {alarm_day} (in {days_words}) and no refill booked before it.",
    Kind.BOOKED_AFTER_ALARM: (
        "Refill booked {appointment_day}, after the alarm date {alarm_day}. Move it earlier."
    ),
    Kind.BOOKED_PAST_CAP: "Refill booked {appointment_day}, past the {cap_days}-day limit ({cap_day}).",
    Kind.BOOKED_AFTER_DUE: "Refill booked {appointment_day}, after the refill-due date {refill_due}.",
    Kind.DUE_PASSED: "Refill due {refill_due} has passed ({days_over_words} ago) and nothing is booked.",
    Kind.DUE_SOON: "Refill due {refill_due}, nothing booked yet.",
    Kind.RESIDUAL_HIGH: (
        "Residual at the {visit_day} refill: {actual_ml} mL aspirated, {expected_ml} mL expected "
        "({difference_ml} mL): possible pump stall or under-delivery, withdrawal risk."
    ),
    Kind.RESIDUAL_LOW: (
        "Residual at the {visit_day} refill: {actual_ml} mL aspirated, {expected_ml} mL expected "
        "({difference_ml} mL): possible over-delivery or an earlier mis-fill."
    ),
    Kind.RESIDUAL_TREND: "Residual difference growing over the last three refills: {trend} mL.",
    Kind.PRINTED_DIFFERS: (
        "Printed alarm date {printed_day} and computed {computed_day} differ by {days} days: "
        "{governing_day} governs until resolved (re-interrogate the pump or correct the entry)."
    ),
    Kind.ERI: "ERI reported {eri_date}: replace by {replace_by}. Book the replacement.",
    Kind.BATTERY: "Battery replacement window open: replace by {replace_by}, nothing booked.",
    Kind.NO_SHOW: "Refill appointment on {appointment_day} was missed (no-show), not rebooked.",
    Kind.UNREACHABLE: "Family cannot be reached by text: {why}{errors}. Call the family.",
    Kind.FLEX_CLOCK: (
        "Flex schedule: from {from_day} the clocks change and the pump (clock {pump_offset}) runs "
        "{shift_hours:+d} h off local time until reprogrammed: {steps}."
    ),
    Kind.CONTACT_CHANGED: (
        "{caregiver} changed their mobile number on the portal on {changed_day}. They also have a "
        "child at another clinic, so only they can change it. Check the number with them, then "
        "acknowledge."
    ),
}


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _staff_day(value):
    """The console's one date style, "4 Dec 2026", for a detail stored as an ISO day."""
    try:
        day = date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else None
    except ValueError:
        day = None
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}" if day else value


def _day_count(n) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


def nurse_words(kind: Kind | str, details: dict) -> str:
    """What the concern asks of the nurse, in the worklist's and the escalations' words: dates
    as "4 Dec 2026", counts with real plurals ("1 day", "9 days")."""
    values = {name: _staff_day(value) for name, value in details.items()}
    values["days_words"] = _day_count(details.get("days"))
    values["days_over_words"] = _day_count(details.get("days_over"))
    values["trend"] = ", ".join(details.get("differences_ml", []))
    values["why"] = "; ".join(UNREACHABLE_WORDS.get(r, r) for r in details.get("reasons", []))
    errors = details.get("errors") or []
    values["errors"] = f" ({'; '.join(errors)})" if errors else ""
    values["steps"] = ", ".join(f"{a} runs at {b} local" for a, b in details.get("steps", []))
    try:
        return _NURSE[Kind(kind)].format(**values)
    except (KeyError, ValueError):
        return str(kind)

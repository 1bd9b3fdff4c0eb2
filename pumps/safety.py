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
* The governing alarm: the earliest of the computed worst-case instant, the worst case at the
  observed delivery ratio (docs/rules.md#observed-delivery) and, when the programmer's printed
  date is more than a day earlier than the computed one and no nurse has resolved the difference,
  the start of the printed day (clinic time); the refill-due date moves earlier with it
  (docs/rules.md#printed-and-computed-dates).
* A concern's ``key`` names one condition (kind + the visit, appointment or pump it is about), so
  a condition that holds across refreshes is one stored row; a new refill is a new condition.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from decimal import Decimal
from enum import StrEnum

from pumps import delivery as dl
from pumps import forecast as fc
from pumps.clinic_calendar import ClinicCalendar

RESIDUAL_ABS_LIMIT_ML = Decimal(2)
RESIDUAL_RATIO_RANGE = (Decimal("0.85"), Decimal("1.15"))
NOT_DELIVERED_AFTER = timedelta(hours=1)
TREND_REFILLS = 3  # the residual trend reads the last three refills
# The residual judged by delivery (docs/rules.md#residual-volume-check): the ratio delivered /
# programmed over the interval the refill closes.
STALL_RATIO = Decimal("0.5")  # below: possible stall or large under-delivery
TOLERANCE = (Decimal("0.85"), Decimal("1.15"))  # outside: urgent
DRIFT = (Decimal("0.90"), Decimal("1.10"))  # outside, within tolerance: a drift


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
    OBSERVED_EARLIER = "observed_earlier"
    PRINTED_DIFFERS = "printed_differs"
    ERI = "eri"
    BATTERY = "battery"
    NO_SHOW = "no_show"
    UNREACHABLE = "unreachable"
    FLEX_CLOCK = "flex_clock"
    CONTACT_CHANGED = "contact_changed"
    TEXTS_HELD = "texts_held"
    SIGNS_REPORTED = "signs_reported"


# A danger that grows into a worse one of the same refill (the alarm date or the refill-due date
# passing): the first concern resolves *because* the worse one opened, and the worse one carries
# on from it (its escalation ladder goes on from the rung reached: alerts/ladder.py).
WORSENS_INTO = {Kind.ALARM_NEAR: Kind.ALARM_PASSED, Kind.DUE_SOON: Kind.DUE_PASSED}
WORSENED_WORDS = {
    Kind.ALARM_PASSED: "the alarm date passed with no refill (now: alarm date passed)",
    Kind.DUE_PASSED: "the refill-due date passed with nothing booked (now: refill-due date passed)",
}


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
    # The clinic's texts are on hold (a Twilio configuration refusal): after this long, the nurses
    # are told of each child whose texts wait (the clinic's setting, default 30 minutes).
    texts_held_tell_after: timedelta = timedelta(minutes=30)


@dataclass(frozen=True)
class Refill:
    """A visit that filled the reservoir (refill or first fill), with its residual reading."""

    visit_id: int
    at: datetime
    expected_residual_ml: Decimal | None = None
    actual_residual_ml: Decimal | None = None
    start_ml: Decimal | None = None  # what the fill before it left (volume after, less a one-off bolus)


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
    observed_alarm_at: datetime | None = None  # worst case at the observed ratio (over-delivery)
    delivery_ratio: Decimal | None = None
    delivery_fills: int = 0


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
    # The texts before the newest, back to the last one whose fate is known (newest first), as
    # (status, handed at, error): a text only handed over says nothing yet, so it never undoes
    # what an earlier one showed (a failure, or no report within the hour).
    earlier: tuple[tuple[str, datetime | None, str], ...] = ()

    def outcome(self, *, now: datetime | Clock) -> tuple[str, str]:
        """What this caregiver's texts say: ("undelivered", error), ("no_report", "") or ("", "")
        (delivered, or nothing known yet). The newest text that has something to say decides: one
        delivered, failed or undelivered, or one handed over more than an hour ago with no report."""
        clock = _as_clock(now)
        texts = ((self.last_text_status, self.last_text_at, self.last_text_error), *self.earlier)
        for status, at, error in texts:
            if status in ("failed", "undelivered"):
                return "undelivered", error
            if status == "sent" and at and clock.passed(at + NOT_DELIVERED_AFTER):
                return "no_report", ""
            if status == "delivered":
                return "", ""
        return "", ""


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
class SignReport:
    """Warning signs a parent reported (patients/models.py: SignReport), open or just closed."""

    report_id: int
    reported_at: datetime
    last_reported_at: datetime
    summary: str  # the nurse's words for the signs, withdrawal first
    words: str = ""
    reporter: str = ""
    sends: int = 1
    outcome: str = ""  # the nurse's outcome, in words; "" while open


@dataclass(frozen=True)
class Facts:
    tz: tzinfo
    rules: Rules = field(default_factory=Rules)
    pump_id: int | None = None
    implant_date: date | None = None
    eri_date: date | None = None
    shuts_off_at_7_years: bool = True
    latest: Visit | None = None
    refills: tuple[Refill, ...] = ()  # newest first, the last few
    bookings: tuple[Booking, ...] = ()  # open, from today on, soonest first
    no_show: Booking | None = None  # the latest refill no-show since the last refill
    contacts: tuple[Contact, ...] = ()
    contact_changes: tuple[ContactChange, ...] = ()
    # No caregiver was ever linked: the child is being registered, not yet out of reach.
    registering: bool = False
    # The clinic's texts are on hold since then (None: they flow), and this child's texts that
    # are due and wait for it (alerts/holds.py).
    texts_held_since: datetime | None = None
    texts_waiting: int = 0
    # The clinic's open days (plain values): the refill-due date falls on an open day.
    calendar: ClinicCalendar | None = None
    # Reports of warning signs: the open ones, and those closed since their concern opened.
    sign_reports: tuple[SignReport, ...] = ()
    # When the facts as loaded would change by time alone (a booked day ending, a text leaving
    # the history read, a held clinic's texts coming due): the loader's own clock (alerts/concerns.py).
    until: datetime | None = None


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
    source: str = ""  # which alarm governs: programmed, printed or observed
    last_refill_at: datetime | None = None
    next_refill: Booking | None = None


@dataclass(frozen=True)
class Assessment:
    dates: Dates
    concerns: tuple[Concern, ...]  # most dangerous first
    # Why a condition that cleared is resolved, when the facts say it (a report's outcome).
    resolutions: dict[str, str] = field(default_factory=dict)
    # The next instant at which time alone changes this assessment (its concerns, their words,
    # the dates to act by): the earliest instant at which a rule's comparison with ``now`` flips
    # (:class:`Clock`). None: nothing changes until a fact does.
    changes_at: datetime | None = None

    @property
    def rank(self) -> int:
        return self.concerns[0].rank if self.concerns else NO_CONCERN_RANK

    @property
    def act_by(self) -> date | None:
        """The date to act by of the most dangerous tier (else the refill-due date). An open
        report of warning signs is "now": None, which the worklist sorts first."""
        if any(c.kind == Kind.SIGNS_REPORTED for c in self.concerns):
            return None
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


# --- The clock the rules read ----------------------------------------------------------------


class Clock:
    """``now`` as the rules read it. Every rule compares with now only through these methods,
    and each notes the instant at which its answer would flip; the earliest is
    :attr:`changes_at`, the next instant at which time alone changes the assessment. One
    comparison, written once, gives both the answer and when it changes (issue 27).

    * ``reached(t)``: now >= t (flips at t); ``passed(t)``: now > t (flips just after t);
    * ``day_reached(d)``: today >= d in the clinic's zone (flips at local midnight starting d,
      right across daylight-saving changes);
    * ``today``: a value that carries the date itself (an act-by "today", a count of days):
      it changes at the next local midnight.
    Once an answer is true it stays true (time only moves on), so only a false one notes a flip.
    """

    __slots__ = ("_today", "changes_at", "now", "tz")

    def __init__(self, now: datetime, tz: tzinfo):
        self.now = now
        self.tz = tz
        self._today = _local_day(now, tz)
        self.changes_at: datetime | None = None

    def flips_at(self, instant: datetime | None) -> None:
        """Note that something read changes at ``instant`` (ignored unless after now)."""
        if instant is None or instant <= self.now:
            return
        if self.changes_at is None or instant < self.changes_at:
            self.changes_at = instant

    @property
    def today(self) -> date:
        self.flips_at(_day_start(self._today + timedelta(days=1), self.tz))
        return self._today

    def reached(self, instant: datetime) -> bool:
        if self.now >= instant:
            return True
        self.flips_at(instant)
        return False

    def passed(self, instant: datetime) -> bool:
        if self.now > instant:
            return True
        self.flips_at(instant + timedelta(microseconds=1))
        return False

    def day_reached(self, day: date) -> bool:
        if self._today >= day:
            return True
        self.flips_at(_day_start(day, self.tz))
        return False

    def not_before(self, day: date) -> date:
        """max(day, today): ``day`` until it has passed, then today."""
        return self.today if self.day_reached(day + timedelta(days=1)) else day


def _as_clock(now: datetime | Clock, tz: tzinfo = UTC) -> Clock:
    return now if isinstance(now, Clock) else Clock(now, tz)


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


def day_start(day: date, tz: tzinfo) -> datetime:
    """The first instant of the clinic-local ``day`` (UTC), right across daylight-saving changes."""
    return _day_start(day, tz)


class Source(StrEnum):
    """Which alarm governs."""

    PROGRAMMED = "programmed"
    PRINTED = "printed"
    OBSERVED = "observed"


def governing_alarm_source(
    *,
    computed_at: datetime,
    printed: date | None,
    tz: tzinfo,
    resolved: bool = False,
    observed_at: datetime | None = None,
) -> tuple[datetime, Source]:
    """The alarm instant that governs, and which one it is: the earliest of the computed worst
    case, the worst case at the observed delivery ratio, and the start of the printed day (clinic
    time) when it is more than a day earlier than the computed date and no nurse has resolved the
    difference. On a tie the programmed date is named, then the printed one."""
    candidates = [(computed_at, Source.PROGRAMMED)]
    computed_day = _local_day(computed_at, tz)
    if (
        not resolved
        and printed_differs(printed=printed, computed_day=computed_day)
        and printed < computed_day
    ):
        candidates.append((_day_start(printed, tz), Source.PRINTED))
    if observed_at is not None:
        candidates.append((observed_at, Source.OBSERVED))
    return min(candidates, key=lambda c: c[0])


def governing_alarm(
    *,
    computed_at: datetime,
    printed: date | None,
    tz: tzinfo,
    resolved: bool = False,
    observed_at: datetime | None = None,
) -> datetime:
    """The alarm instant that governs (:func:`governing_alarm_source`)."""
    args = {"computed_at": computed_at, "printed": printed, "tz": tz, "resolved": resolved}
    return governing_alarm_source(**args, observed_at=observed_at)[0]


def governing_refill_due(
    *,
    alarm_at: datetime,
    computed_at: datetime,
    refill_due: date,
    tz,
    lead_days: int,
    calendar: ClinicCalendar | None = None,
) -> date:
    """The refill-due date moves earlier with a printed or observed-rate alarm date that governs,
    onto the open day on or before it (the clinic calendar's one rule; without a calendar every
    day is open)."""
    if alarm_at == computed_at:
        return refill_due
    due = min(refill_due, _local_day(alarm_at, tz) - timedelta(days=lead_days))
    return calendar.open_day_on_or_before(due) if calendar is not None else due


def governing_dates(facts: Facts) -> Dates:
    """The earliest of the computed, observed-rate and (until a nurse resolves it) printed alarm
    dates governs; the refill-due date follows it."""
    latest, tz = facts.latest, facts.tz
    refills = [b for b in facts.bookings if b.kind == "refill"]
    last_refill_at = facts.refills[0].at if facts.refills else None
    if latest is None:
        return Dates(next_refill=refills[0] if refills else None, last_refill_at=last_refill_at)
    alarm_at, source = governing_alarm_source(
        computed_at=latest.alarm_at,
        printed=latest.printed_alarm_date,
        tz=tz,
        resolved=latest.printed_resolved,
        observed_at=latest.observed_alarm_at,
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
        source=source.value,
    )


def assess(facts: Facts, *, now: datetime) -> Assessment:
    """Every concern that holds for this child at ``now``, most dangerous first, and the next
    instant at which time alone changes them (``changes_at``: the rules' clock, and the facts'
    own ``until``)."""
    dates = governing_dates(facts)
    clock = Clock(now, facts.tz)
    clock.flips_at(facts.until)
    concerns: list[Concern] = []
    if facts.pump_id is not None:
        if facts.latest is not None:
            concerns += _refill_concerns(facts, dates, clock)
            concerns += _residual_concerns(facts, clock)
            concerns += _printed_concerns(facts, dates, clock)
            concerns += _observed_concerns(facts, clock)
            concerns += _flex_clock_concerns(facts, dates)
            concerns += _unreachable_concerns(facts, dates, clock)
        concerns += _battery_concerns(facts, clock)
        concerns += _no_show_concerns(facts, dates)
    concerns += _contact_changed_concerns(facts, clock)
    concerns += _texts_held_concerns(facts, clock)
    concerns += _signs_concerns(facts)
    # A report of signs first (the family sees them now), then by tier and the date to act.
    concerns.sort(key=lambda c: (c.rank, c.kind != Kind.SIGNS_REPORTED, c.act_by or date.max, c.kind))
    resolutions = {
        f"{Kind.SIGNS_REPORTED.value}:{r.report_id}": f"outcome: {r.outcome}"
        for r in facts.sign_reports
        if r.outcome
    }
    return Assessment(
        dates=dates, concerns=tuple(concerns), resolutions=resolutions, changes_at=clock.changes_at
    )


def _signs_concerns(facts: Facts) -> list[Concern]:
    """Each open report of warning signs: critical, for a nurse now (no date to act by: now)."""
    out = []
    for report in facts.sign_reports:
        if report.outcome:
            continue
        local = report.reported_at.astimezone(facts.tz)
        details = {
            "report_id": report.report_id,
            "reported": f"{local:%H:%M} on {_staff_day(local.date().isoformat())}",
            "signs": report.summary,
            "words": report.words[:300],
            "reporter": report.reporter,
            "sends": report.sends,
        }
        out.append(
            _c(Kind.SIGNS_REPORTED, Tier.CRITICAL, report.report_id, None, report.reported_at, None, details)
        )
    return out


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _refill_concerns(facts: Facts, dates: Dates, clock: Clock) -> list[Concern]:
    visit = facts.latest.visit_id
    alarm_at, alarm_day, due = dates.alarm_at, dates.alarm_day, dates.refill_due
    near_days, soon_days = facts.rules.alarm_near_days, facts.rules.due_soon_days
    refills = [b for b in facts.bookings if b.kind == "refill"]
    in_time = [b for b in refills if booked_in_time(b.start, alarm_at)]
    base = {"alarm_day": _iso(alarm_day), "refill_due": _iso(due)}
    out = []
    if clock.reached(alarm_at):
        today = clock.today
        details = {**base, "days_ago": (today - alarm_day).days}
        out.append(
            _c(Kind.ALARM_PASSED, Tier.CRITICAL, f"{visit}", today, alarm_at, FamilyLevel.CALL_TODAY, details)
        )
    elif not in_time and clock.day_reached(alarm_day - timedelta(days=near_days)):
        today = clock.today
        began = _day_start(alarm_day - timedelta(days=near_days), facts.tz)
        details = {**base, "days": (alarm_day - today).days}
        out.append(
            _c(Kind.ALARM_NEAR, Tier.CRITICAL, f"{visit}", today, began, FamilyLevel.CALL_TODAY, details)
        )
    nxt = dates.next_refill
    if nxt is not None:
        out += _booking_concern(facts, dates, nxt, in_time, clock)
    elif clock.day_reached(due + timedelta(days=1)):
        today = clock.today
        began = _day_start(due + timedelta(days=1), facts.tz)
        details = {**base, "days_over": (today - due).days}
        out.append(_c(Kind.DUE_PASSED, Tier.URGENT, f"{visit}", today, began, FamilyLevel.BOOK_NOW, details))
    elif clock.day_reached(due - timedelta(days=soon_days)):
        # On the refill-due date itself, still nothing booked: urgent. The nurse's list then has
        # the child from the start of that day, a whole lead time (7 days) before the governing
        # alarm, which is never later than the true one (docs/rules.md#refill-due-soon).
        tier = Tier.URGENT if clock.day_reached(due) else Tier.ATTENTION
        began = _day_start(due - timedelta(days=soon_days), facts.tz)
        out.append(_c(Kind.DUE_SOON, tier, f"{visit}", due, began, FamilyLevel.BOOK_NOW, base))
    return out


def _booking_concern(facts: Facts, dates: Dates, nxt: Booking, in_time, clock: Clock) -> list[Concern]:
    """The next refill appointment, judged against the alarm, the refill-due date and the cap."""
    day = _local_day(nxt.start, facts.tz)
    details = {
        "appointment_day": day.isoformat(),
        "alarm_day": _iso(dates.alarm_day),
        "refill_due": _iso(dates.refill_due),
    }
    key = f"{nxt.appointment_id}"
    if not in_time:
        today = clock.today
        return [_c(Kind.BOOKED_AFTER_ALARM, Tier.CRITICAL, key, today, None, FamilyLevel.CALL_TODAY, details)]
    last = dates.last_refill_at
    if last is not None:
        cap = _local_day(last, facts.tz) + timedelta(days=facts.rules.max_interval_days)
        if day > cap:
            details = {**details, "cap_day": cap.isoformat(), "cap_days": facts.rules.max_interval_days}
            today = clock.today
            return [_c(Kind.BOOKED_PAST_CAP, Tier.URGENT, key, today, None, FamilyLevel.BOOK_NOW, details)]
    if day > dates.refill_due:
        act_by = clock.not_before(dates.refill_due)
        return [_c(Kind.BOOKED_AFTER_DUE, Tier.URGENT, key, act_by, None, FamilyLevel.BOOK_NOW, details)]
    return []


def residual_judgement(
    *, start_ml: Decimal | None, expected: Decimal | None, actual: Decimal | None
) -> tuple[Kind, Tier, Decimal | None] | None:
    """The residual of one refill judged by delivery (docs/rules.md#residual-volume-check): the
    kind, tier and delivery ratio over the interval it closes, or None when it is within the
    drift band. Without the start volume (or under 1 mL programmed) the old discrepancy test
    speaks, at urgent: the ratio cannot be read."""
    if expected is None or actual is None:
        return None
    found = dl.reading(at=None, start_ml=start_ml, expected_ml=expected, actual_ml=actual)
    if found is None:
        if not residual_discrepancy(expected, actual):
            return None
        return (Kind.RESIDUAL_HIGH if actual > expected else Kind.RESIDUAL_LOW), Tier.URGENT, None
    ratio = found.ratio
    under = Kind.RESIDUAL_HIGH  # more left than expected: it delivered less
    if ratio < STALL_RATIO:
        return under, Tier.CRITICAL, ratio
    if ratio < TOLERANCE[0]:
        return under, Tier.URGENT, ratio
    if ratio > TOLERANCE[1]:
        return Kind.RESIDUAL_LOW, Tier.URGENT, ratio
    if ratio < DRIFT[0]:
        return under, Tier.ATTENTION, ratio
    if ratio > DRIFT[1]:
        return Kind.RESIDUAL_LOW, Tier.ATTENTION, ratio
    return None


def _residual_concerns(facts: Facts, clock: Clock) -> list[Concern]:
    """The latest *refill* (a programming-only visit never hides it), and the trend of the last three."""
    if not facts.refills:
        return []
    last = facts.refills[0]
    out = []
    expected, actual = last.expected_residual_ml, last.actual_residual_ml
    day = _local_day(last.at, facts.tz)
    judged = residual_judgement(start_ml=last.start_ml, expected=expected, actual=actual)
    if judged is not None:
        kind, tier, ratio = judged
        details = {
            "visit_day": day.isoformat(),
            "expected_ml": str(expected),
            "actual_ml": str(actual),
            "difference_ml": str(actual - expected),
            "percent": int((ratio * 100).to_integral_value()) if ratio is not None else None,
        }
        out.append(_c(kind, tier, f"{last.visit_id}", clock.today, last.at, None, details))
    diffs = [
        r.actual_residual_ml - r.expected_residual_ml
        for r in facts.refills[:TREND_REFILLS]
        if r.actual_residual_ml is not None and r.expected_residual_ml is not None
    ]
    if residual_growing(list(reversed(diffs))):
        details = {"differences_ml": [str(d) for d in reversed(diffs)], "visit_day": day.isoformat()}
        out.append(_c(Kind.RESIDUAL_TREND, Tier.ATTENTION, f"{last.visit_id}", day, last.at, None, details))
    return out


def observed_days_earlier(latest: Visit, tz: tzinfo) -> int:
    """How many days before the programmed worst-case alarm date the observed-rate one falls."""
    if latest.observed_alarm_at is None:
        return 0
    return (_local_day(latest.alarm_at, tz) - _local_day(latest.observed_alarm_at, tz)).days


def _observed_concerns(facts: Facts, clock: Clock) -> list[Concern]:
    """The observed-rate alarm is earlier than the programmed one by more than the lead days."""
    latest = facts.latest
    days = observed_days_earlier(latest, facts.tz)
    if days <= facts.rules.lead_days:
        return []
    details = {
        "percent": int((latest.delivery_ratio * 100).to_integral_value()) if latest.delivery_ratio else None,
        "fills": latest.delivery_fills,
        "observed_day": _local_day(latest.observed_alarm_at, facts.tz).isoformat(),
        "programmed_day": _local_day(latest.alarm_at, facts.tz).isoformat(),
        "days": days,
    }
    today = clock.today
    return [_c(Kind.OBSERVED_EARLIER, Tier.URGENT, f"{latest.visit_id}", today, latest.at, None, details)]


def residual_growing(diffs: list[Decimal]) -> bool:
    """The residual trend, the one rule (the worklist's concern and the chart's words): the
    differences (actual - expected) of the last TREND_REFILLS refills, oldest first, have one sign
    throughout and each is further from expected than the one before."""
    if len(diffs) != TREND_REFILLS:
        return False
    same_sign = all(d > 0 for d in diffs) or all(d < 0 for d in diffs)
    return same_sign and all(abs(b) > abs(a) for a, b in zip(diffs, diffs[1:], strict=False))


def _printed_concerns(facts: Facts, dates: Dates, clock: Clock) -> list[Concern]:
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
    today = clock.today
    return [_c(Kind.PRINTED_DIFFERS, Tier.URGENT, f"{latest.visit_id}", today, latest.at, None, details)]


def _battery_concerns(facts: Facts, clock: Clock) -> list[Concern]:
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
    if facts.eri_date is not None and clock.day_reached(facts.eri_date):
        details["eri_date"] = facts.eri_date.isoformat()
        began = _day_start(facts.eri_date, facts.tz)
        key = f"{pump}:{facts.eri_date.isoformat()}"
        return [_c(Kind.ERI, Tier.CRITICAL, key, replace_by, began, FamilyLevel.CALL_TODAY, details)]
    opens = fc.battery_window_opens(**args)
    if opens is None or not clock.day_reached(opens):
        return []
    critical = replace_by is not None and clock.day_reached(
        replace_by - timedelta(days=facts.rules.battery_critical_days)
    )
    tier = Tier.CRITICAL if critical else Tier.URGENT
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


def unreachable_reasons(contacts: tuple[Contact, ...], *, now: datetime | Clock) -> list[str]:
    """Why texts may not reach this family (empty: they reach it)."""
    reasons = []
    if not any(c.can_text for c in contacts):
        reasons.append("no_textable")
    if any(c.opted_out for c in contacts):
        reasons.append("opted_out")
    said = [c.outcome(now=now)[0] for c in contacts]
    if "undelivered" in said:
        reasons.append("undelivered")
    if "no_report" in said:
        reasons.append("no_report")
    return reasons


def _unreachable_concerns(facts: Facts, dates: Dates, clock: Clock) -> list[Concern]:
    if facts.registering and not facts.contacts:
        return []  # a child in registration: no caregiver can be added before the child exists
    reasons = unreachable_reasons(facts.contacts, now=clock)
    if not reasons:
        return []
    critical = clock.day_reached(dates.alarm_day - timedelta(days=facts.rules.unreachable_critical_days))
    tier = Tier.CRITICAL if critical else Tier.URGENT
    errors = [error for _, error in (c.outcome(now=clock) for c in facts.contacts) if error]
    details = {"reasons": reasons, "alarm_day": _iso(dates.alarm_day), "errors": errors[:3]}
    return [_c(Kind.UNREACHABLE, tier, "family", clock.today, None, None, details)]


def _texts_held_concerns(facts: Facts, clock: Clock) -> list[Concern]:
    """The clinic's texts have been on hold longer than the clinic allows and this child's due
    texts wait: the nurses reach the family another way."""
    since = facts.texts_held_since
    if since is None or not facts.texts_waiting:
        return []
    if not clock.reached(since + facts.rules.texts_held_tell_after):
        return []
    details = {"since": since.astimezone(facts.tz).strftime("%Y-%m-%d %H:%M"), "waiting": facts.texts_waiting}
    return [_c(Kind.TEXTS_HELD, Tier.URGENT, "hold", clock.today, since, None, details)]


def _contact_changed_concerns(facts: Facts, clock: Clock) -> list[Concern]:
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
            _c(Kind.CONTACT_CHANGED, Tier.URGENT, f"{change.proof_id}", clock.today, change.at, None, details)
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


def _flex_clock_concerns(facts: Facts, dates: Dates) -> list[Concern]:
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
        "({difference_ml} mL){delivered}: {under}."
    ),
    Kind.RESIDUAL_LOW: (
        "Residual at the {visit_day} refill: {actual_ml} mL aspirated, {expected_ml} mL expected "
        "({difference_ml} mL){delivered}: {over}."
    ),
    Kind.OBSERVED_EARLIER: (
        "Delivered {percent} % of programmed over {fills_words}: reservoir at the alarm "
        "volume about {days} days before the programmed date ({observed_day}, not "
        "{programmed_day}). The dates follow it: check the booking, the program and the catheter."
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
    Kind.TEXTS_HELD: (
        "The clinic's texts are on hold since {since} (Twilio refused the clinic's settings): "
        "{waiting} text(s) to this family wait. Call the family if one is urgent."
    ),
    Kind.SIGNS_REPORTED: (
        "{reporter} reported warning signs at {reported}: {signs}{words_said}{sends_words}. "
        "Call the family, then record the outcome."
    ),
    Kind.CONTACT_CHANGED: (
        "{caregiver} changed their mobile number on the portal on {changed_day}. They also have a "
        "child at another clinic, so only they can change it. Check the number with them, then "
        "acknowledge."
    ),
}


def _under_words(percent: int | None) -> str:
    if percent is not None and percent < STALL_RATIO * 100:
        return "possible pump stall or large under-delivery, withdrawal risk"
    if percent is None or percent < 85:
        return "under-delivery outside tolerance, withdrawal risk"
    return "a drift towards under-delivery, within tolerance"


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
    percent = details.get("percent")
    values["delivered"] = f", delivered {percent} % of programmed" if percent is not None else ""
    values["under"] = _under_words(percent)
    fills = details.get("fills") or 0
    values["fills_words"] = f"the last {fills} fills" if fills > 1 else "the last fill"
    values["over"] = (
        "over-delivery outside tolerance, or an earlier mis-fill"
        if percent is None or percent > 115
        else "a drift towards over-delivery, within tolerance"
    )
    words = details.get("words") or ""
    values["words_said"] = f' (in their words: "{words}")' if words else ""
    sends = details.get("sends") or 1
    values["sends_words"] = f" ({sends} reports within the hour)" if sends > 1 else ""
    try:
        return _NURSE[Kind(kind)].format(**values)
    except (KeyError, ValueError):
        return str(kind)

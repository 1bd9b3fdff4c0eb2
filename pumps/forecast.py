"""Reservoir, refill and battery dates for intrathecal baclofen pumps.

Pure arithmetic: no Django import, no clock read (``now``/``today`` are
parameters), plain values in and out. The rules are written up in
``docs/rules.md``: the alarm and empty dates (docs/rules.md#alarm-date-arithmetic),
the refill-due date (docs/rules.md#refill-due) and the battery dates
(docs/rules.md#battery). The conventions this module chose are:

* Time. Every datetime must be aware; results are in UTC. A "day" is an
  elapsed 24-hour period, so 60 days after 09:30 in January is 10:30 local
  time in March once the clocks have gone forward.
* Pump clock. The pump keeps the fixed UTC offset it was set to at the last
  programming (``Fill.pump_utc_offset``, else ``refill_at.utcoffset()``) and
  ignores daylight saving; flex step times are read on that clock.
* Flex schedule. Steps are given in ascending start order with distinct
  starts. Each step runs until the next one starts; the last runs until the
  first step's start the next day, so the schedule always covers the whole
  day. A step may be at 0 mcg/hour, but the day's total must be above 0.
* Exact walk. The delivery is integrated in exact integers (mcg on one
  scale, microseconds), truncated to the microsecond at the end. A volume
  that runs out exactly at the end of a delivering step runs out at that
  instant, never at the end of a 0 mcg/hour pause after it.
* Patient-activated boluses (worst case). Every allowed bolus of a day is
  counted at the start of each 24-hour period from the refill instant: at the
  refill, refill + 24 h, refill + 48 h, ... each takes
  ``bolus_max_per_day * bolus_mcg / concentration`` mL. Taking them as early
  as possible is the most pessimistic placement. The nominal dates ignore them.
* Years. Implant + N years is the same month and day N years later; 29
  February becomes 28 February (the earlier date is the safe side). Half a
  year is 182 days, so "implant + 6.5 years" is implant + 6 years + 182 days.
"""

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from decimal import Decimal
from fractions import Fraction

from pumps.clinic_calendar import ClinicCalendar

MAX_FLEX_STEPS = 13
MIN_LEAD_DAYS = 3
# The clinic defaults (DOMAIN.md): book the refill a week before the alarm; drug stability caps
# the refill interval at 180 days. Declared here once; the clinic's settings start from them.
LEAD_DAYS = 7
MAX_INTERVAL_DAYS = 180
SHUTOFF_YEARS = 7
END_OF_SERVICE_AFTER_ERI = timedelta(days=90)
HALF_YEAR = timedelta(days=182)

_DAY_US = 86_400_000_000


class ForecastError(ValueError):
    """Invalid input: ``field`` names it, ``message`` is a sentence for a nurse."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message

    def __reduce__(self) -> tuple[type["ForecastError"], tuple[str, str]]:
        # Two-argument constructor: pickling (e.g. out of a Celery task) needs this.
        return (type(self), (self.field, self.message))


def _as_decimal(value: object, name: str) -> Decimal:
    # bool is an int; True mcg is a programming error, not a dose.
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"{name} must be a Decimal or an int, not {type(value).__name__}")
    return Decimal(value)


@dataclass(frozen=True)
class FlexStep:
    """From ``start`` (pump clock) until the next step starts, at ``mcg_per_hour``."""

    start: time
    mcg_per_hour: Decimal

    def __post_init__(self) -> None:
        object.__setattr__(self, "mcg_per_hour", _as_decimal(self.mcg_per_hour, "mcg_per_hour"))


@dataclass(frozen=True)
class Program:
    """What the pump is programmed to deliver. Validated by :func:`forecast`."""

    concentration_mcg_ml: Decimal
    daily_dose_mcg: Decimal | None = None
    flex_steps: tuple[FlexStep, ...] = ()
    bolus_mcg: Decimal = Decimal(0)
    bolus_max_per_day: int = 0
    alarm_volume_ml: Decimal = Decimal("2.0")

    def __post_init__(self) -> None:
        for name in ("concentration_mcg_ml", "bolus_mcg", "alarm_volume_ml"):
            object.__setattr__(self, name, _as_decimal(getattr(self, name), name))
        if self.daily_dose_mcg is not None:
            dose = _as_decimal(self.daily_dose_mcg, "daily_dose_mcg")
            object.__setattr__(self, "daily_dose_mcg", dose)
        object.__setattr__(self, "flex_steps", tuple(self.flex_steps))

    @property
    def is_flex(self) -> bool:
        """True when a flex schedule, not a single daily dose, drives delivery."""
        return bool(self.flex_steps)

    def daily_dose(self) -> Decimal:
        """mcg per day: the simple dose, or the flex steps integrated over 24 hours."""
        if not self.is_flex:
            if self.daily_dose_mcg is None:
                raise ForecastError("daily_dose_mcg", "Enter the daily dose.")
            return self.daily_dose_mcg
        return sum((us * rate for us, rate in _pieces(self, 0)), Decimal(0)) / _DAY_US


@dataclass(frozen=True)
class Fill:
    """The reservoir as the refill left it."""

    refill_at: datetime
    volume_ml: Decimal
    capacity_ml: Decimal
    one_off_bolus_ml: Decimal = Decimal(0)
    pump_utc_offset: timedelta | None = None

    def __post_init__(self) -> None:
        for name in ("volume_ml", "capacity_ml", "one_off_bolus_ml"):
            object.__setattr__(self, name, _as_decimal(getattr(self, name), name))


@dataclass(frozen=True)
class Forecast:
    """Alarm and empty instants (UTC): nominal, and worst case with every patient bolus."""

    alarm_at: datetime
    alarm_at_worst: datetime
    empty_at: datetime
    empty_at_worst: datetime
    ml_per_day: Decimal


def _require(ok: bool, field: str, message: str) -> None:
    if not ok:
        raise ForecastError(field, message)


def _require_aware(value: datetime, field: str) -> None:
    aware = isinstance(value, datetime) and value.utcoffset() is not None
    _require(aware, field, "The date and time must include a time zone.")


def _us_of_day(moment: time | datetime) -> int:
    seconds = moment.hour * 3600 + moment.minute * 60 + moment.second
    return seconds * 1_000_000 + moment.microsecond


def _pieces(program: Program, start_us: int) -> list[tuple[int, Decimal]]:
    """The 24 hours from ``start_us`` (after pump-clock midnight) as pieces of
    (microseconds, rate in mcg/day), split at every flex step boundary."""
    if not program.is_flex:
        return [(_DAY_US, program.daily_dose())]
    # Three copies of the day: the step running at start_us may have begun
    # yesterday, and the next 24 hours reach into tomorrow.
    marks = [
        (day * _DAY_US + _us_of_day(step.start), step.mcg_per_hour * 24)
        for day in (-1, 0, 1)
        for step in program.flex_steps
    ]
    marks.append((3 * _DAY_US, Decimal(0)))
    end = start_us + _DAY_US
    pieces = []
    for (begin, rate), (finish, _) in zip(marks, marks[1:], strict=False):
        low, high = max(begin, start_us), min(finish, end)
        if high > low:
            pieces.append((high - low, rate))
    return pieces


def _positive(value: Decimal, field: str, message: str) -> None:
    _require(value.is_finite() and value > 0, field, message)


def _not_negative(value: Decimal, field: str, message: str) -> None:
    _require(value.is_finite() and value >= 0, field, message)


def _validate_flex(steps: tuple[FlexStep, ...]) -> None:
    field = "flex_steps"
    _require(len(steps) <= MAX_FLEX_STEPS, field, f"A flex schedule can have at most {MAX_FLEX_STEPS} steps.")
    for step in steps:
        _not_negative(step.mcg_per_hour, field, "A flex step rate cannot be negative.")
        _require(step.start.tzinfo is None, field, "Flex step times are pump clock times, with no time zone.")
    for before, after in zip(steps, steps[1:], strict=False):
        _require(after.start != before.start, field, f"Two flex steps start at {after.start:%H:%M}.")
        _require(after.start > before.start, field, "List the flex steps in time order.")
    # A single 0 step is a legitimate pause; a schedule that never delivers is not.
    nothing = "The flex schedule delivers no drug: every step is at 0 mcg/hour."
    _require(any(step.mcg_per_hour > 0 for step in steps), field, nothing)


def _validate_program(program: Program) -> None:
    conc = program.concentration_mcg_ml
    _positive(conc, "concentration_mcg_ml", "The drug concentration must be above 0 mcg/mL.")
    _not_negative(program.alarm_volume_ml, "alarm_volume_ml", "The alarm volume cannot be negative.")
    _not_negative(program.bolus_mcg, "bolus_mcg", "The bolus dose cannot be negative.")
    per_day = program.bolus_max_per_day
    ok = isinstance(per_day, int) and not isinstance(per_day, bool) and per_day >= 0
    _require(ok, "bolus_max_per_day", "The number of boluses a day cannot be negative.")
    dose = program.daily_dose_mcg
    if program.is_flex:
        _require(dose is None, "daily_dose_mcg", "Give a daily dose or a flex schedule, not both.")
        _validate_flex(program.flex_steps)
    else:
        _require(dose is not None, "daily_dose_mcg", "Enter the daily dose.")
        _positive(dose, "daily_dose_mcg", "The daily dose must be above 0 mcg.")


def _validate_fill(fill: Fill, alarm_volume_ml: Decimal) -> None:
    _require_aware(fill.refill_at, "refill_at")
    capacity, volume, one_off = fill.capacity_ml, fill.volume_ml, fill.one_off_bolus_ml
    _positive(capacity, "capacity_ml", "The reservoir size must be above 0 mL.")
    _positive(volume, "volume_ml", "The volume after refill must be above 0 mL.")
    _not_negative(one_off, "one_off_bolus_ml", "The one-off bolus volume cannot be negative.")
    overfill = f"The volume ({volume} mL) is more than the reservoir holds ({capacity} mL). Never overfill."
    _require(volume <= capacity, "volume_ml", overfill)
    too_little = (
        f"After the one-off bolus, {volume - one_off} mL is left, which is not above "
        f"the {alarm_volume_ml} mL alarm volume: the pump would alarm at once."
    )
    _require(volume - one_off > alarm_volume_ml, "volume_ml", too_little)
    offset = fill.pump_utc_offset
    ok = offset is None or (isinstance(offset, timedelta) and abs(offset) < timedelta(hours=24))
    _require(ok, "pump_utc_offset", "The pump clock must be less than 24 hours from UTC.")


def _as_integers(values: list[Fraction]) -> list[int]:
    """The values times their common denominator: exact integers, same ratios."""
    common = math.lcm(*(value.denominator for value in values))
    return [value.numerator * (common // value.denominator) for value in values]


def _elapsed_us(pieces: list[tuple[int, int]], threshold: int, bolus: int) -> int:
    """Microseconds from the refill until ``threshold`` has left the reservoir.

    Exact integer arithmetic: ``pieces`` are (microseconds, rate) and volumes
    are rate x microseconds, all on one scale; the pieces end with the last
    delivering one (the pause after it is dropped). A volume that runs out exactly at the end
    of a delivering step therefore ends the walk at that instant, never in the
    pause after it. The schedule repeats every 24 h on the pump's fixed clock,
    so every 24-hour period from the refill delivers the same volume: whole
    periods are skipped at once, and only the last one is walked piece by
    piece. ``bolus`` is taken at the start of each period. The result is
    truncated to the microsecond: the earlier side.
    """
    period = sum((us * rate for us, rate in pieces), bolus)
    # The largest whole number of periods that delivers less than the threshold.
    whole = max(-(-threshold // period) - 1, 0)
    elapsed = whole * _DAY_US
    remaining = threshold - whole * period - bolus
    if remaining <= 0:  # the boluses at the start of this period reach it
        return elapsed
    for us, rate in pieces:
        delivered = us * rate
        if delivered >= remaining:  # never a 0 mcg/hour piece: remaining > 0
            return elapsed + remaining // rate
        remaining -= delivered
        elapsed += us
    # Not reached (``remaining`` is at most one period's delivery); were it ever,
    # the walk still ends where the drug does, the pieces ending with a delivering one.
    return elapsed


def forecast(program: Program, fill: Fill) -> Forecast:
    """Low-reservoir alarm and empty instants after ``fill`` under ``program``.

    Raises :class:`ForecastError` naming the first invalid input.
    """
    _validate_program(program)
    _validate_fill(fill, program.alarm_volume_ml)
    start = fill.refill_at.astimezone(UTC)
    offset = fill.pump_utc_offset
    if offset is None:
        offset = fill.refill_at.utcoffset()
    pump_time = fill.refill_at.astimezone(timezone(offset))
    conc = Fraction(program.concentration_mcg_ml)
    pieces = _pieces(program, _us_of_day(pump_time))
    while pieces[-1][1] == 0:  # nothing is delivered after the last delivering step
        pieces.pop()
    available = (Fraction(fill.volume_ml) - Fraction(fill.one_off_bolus_ml)) * conc  # mcg
    usable = available - Fraction(program.alarm_volume_ml) * conc
    bolus = Fraction(program.bolus_mcg) * program.bolus_max_per_day
    # mcg and mcg/day on one integer scale; x microseconds / day gives volumes.
    *rates, available_n, usable_n, bolus_n = _as_integers(
        [Fraction(rate) for _, rate in pieces] + [available, usable, bolus]
    )
    walk = [(us, rate) for (us, _), rate in zip(pieces, rates, strict=True)]

    def after(threshold: int, daily_bolus: int) -> datetime:
        us = _elapsed_us(walk, threshold * _DAY_US, daily_bolus * _DAY_US)
        return start + timedelta(microseconds=us)

    return Forecast(
        alarm_at=after(usable_n, 0),
        alarm_at_worst=after(usable_n, bolus_n),
        empty_at=after(available_n, 0),
        empty_at_worst=after(available_n, bolus_n),
        ml_per_day=program.daily_dose() / program.concentration_mcg_ml,
    )


def refill_due(
    *,
    alarm_at: datetime,
    last_refill_at: datetime,
    tz: tzinfo,
    lead_days: int = LEAD_DAYS,
    max_interval_days: int = MAX_INTERVAL_DAYS,
    calendar: ClinicCalendar | None = None,
) -> date:
    """The date (in ``tz``) by which the pump must be refilled.

    min(local alarm date - lead days, local last refill date + max interval), moved
    to the open day before it when the clinic is closed that day (``calendar``;
    without one, every day counts as open). Pass the worst-case alarm: reminders
    follow it.
    """
    _require_aware(alarm_at, "alarm_at")
    _require_aware(last_refill_at, "last_refill_at")
    lead_message = f"Book the refill at least {MIN_LEAD_DAYS} days before the alarm date."
    _require(lead_days >= MIN_LEAD_DAYS, "lead_days", lead_message)
    _require(max_interval_days >= 1, "max_interval_days", "The refill interval must be at least 1 day.")
    by_alarm = alarm_at.astimezone(tz).date() - timedelta(days=lead_days)
    by_stability = last_refill_at.astimezone(tz).date() + timedelta(days=max_interval_days)
    due = min(by_alarm, by_stability)
    return calendar.open_day_on_or_before(due) if calendar is not None else due


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February: take the 28th, the earlier (safer) date
        return day.replace(year=day.year + years, day=28)


def _check_eri(implant_date: date, eri_date: date | None) -> None:
    ok = eri_date is None or eri_date >= implant_date
    _require(ok, "eri_date", "The ERI date cannot be before the implant date.")


def replace_by(
    *, implant_date: date, eri_date: date | None, shuts_off_at_7_years: bool = True
) -> date | None:
    """min(ERI + 90 days, implant + 7 years); an EL pump has no 7-year shut-off,
    so it gets ERI + 90 days, or None before any ERI."""
    _check_eri(implant_date, eri_date)
    limits = []
    if eri_date is not None:
        limits.append(eri_date + END_OF_SERVICE_AFTER_ERI)
    if shuts_off_at_7_years:
        limits.append(_add_years(implant_date, SHUTOFF_YEARS))
    return min(limits, default=None)


def battery_window_opens(
    *, implant_date: date, eri_date: date | None, shuts_off_at_7_years: bool = True
) -> date | None:
    """min(implant + 6 years + 182 days, ERI); for an EL pump the ERI, or None."""
    _check_eri(implant_date, eri_date)
    opens = []
    if eri_date is not None:
        opens.append(eri_date)
    if shuts_off_at_7_years:
        # Half a year before the 7-year shut-off.
        opens.append(_add_years(implant_date, SHUTOFF_YEARS - 1) + HALF_YEAR)
    return min(opens, default=None)


def battery_window_open(
    *, implant_date: date, eri_date: date | None, today: date, shuts_off_at_7_years: bool = True
) -> bool:
    """True from the day the battery replacement window opens."""
    opens = battery_window_opens(
        implant_date=implant_date, eri_date=eri_date, shuts_off_at_7_years=shuts_off_at_7_years
    )
    return opens is not None and today >= opens


def days_until(instant: datetime, *, now: datetime, tz: tzinfo) -> int:
    """Calendar days in ``tz`` from ``now``'s date to ``instant``'s (negative when past)."""
    _require_aware(instant, "instant")
    _require_aware(now, "now")
    return (instant.astimezone(tz).date() - now.astimezone(tz).date()).days

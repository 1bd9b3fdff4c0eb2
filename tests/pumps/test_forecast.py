"""Tests for pumps.forecast: worked examples by hand, then properties."""

import math
import pickle
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal as D
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from pumps.forecast import (
    Fill,
    FlexStep,
    ForecastError,
    Program,
    battery_window_open,
    battery_window_opens,
    days_until,
    forecast,
    refill_due,
    replace_by,
)

DENVER = ZoneInfo("America/Denver")
REFILL = datetime(2024, 1, 15, 9, 30, tzinfo=UTC)


def simple(dose: str, conc: str, **kwargs: object) -> Program:
    return Program(concentration_mcg_ml=D(conc), daily_dose_mcg=D(dose), **kwargs)


def fill_at(refill_at: datetime = REFILL, volume: str = "20", **kwargs: object) -> Fill:
    kwargs.setdefault("capacity_ml", D("20"))
    return Fill(refill_at=refill_at, volume_ml=D(volume), **kwargs)


# Day/night schedule used by the flex examples, at 1000 mcg/mL:
# 07:00-19:00 at 10 mcg/h = 0.01 mL/h (0.12 mL), 19:00-07:00 at 30 mcg/h = 0.03 mL/h
# (0.36 mL). 0.48 mL a day, 480 mcg/day. No step starts at midnight: the 19:00 step
# wraps until 07:00.
DAY_NIGHT = Program(
    concentration_mcg_ml=D(1000),
    flex_steps=(FlexStep(time(7), D(10)), FlexStep(time(19), D(30))),
)


# --- simple continuous mode -------------------------------------------------------

SIMPLE_ROWS = [
    # volume, capacity, alarm, one-off, dose, conc -> mL/day, alarm after, empty after
    # 500/2000 = 0.25 mL/day; usable 20-2 = 18 -> 72 days; empty 20/0.25 = 80 days.
    ("20", "20", "2.0", "0", "500", "2000", "0.25", timedelta(72), timedelta(80)),
    # One-off (bridge) bolus 0.5 mL: usable 20-2-0.5 = 17.5 -> 70 d; empty 19.5 -> 78 d.
    ("20", "20", "2.0", "0.5", "500", "2000", "0.25", timedelta(70), timedelta(78)),
    # 40 mL pump, 400/1000 = 0.4 mL/day: usable 38 -> 95 d; empty 40/0.4 = 100 d.
    ("40", "40", "2.0", "0", "400", "1000", "0.4", timedelta(95), timedelta(100)),
    # 1000 mcg/mL, alarm at 3 mL: 250/1000 = 0.25; usable 17 -> 68 d; empty 80 d.
    ("20", "20", "3", "0", "250", "1000", "0.25", timedelta(68), timedelta(80)),
    # 300/500 = 0.6 mL/day: usable 18 -> 30 d; empty 20/0.6 = 33 1/3 d = 33 d 8 h.
    ("20", "20", "2", "0", "300", "500", "0.6", timedelta(30), timedelta(33, hours=8)),
    # Small child, 120/2000 = 0.06 mL/day, 18.5 mL in a 20 mL pump: usable 16.5
    # -> 275 d (past the 180-day cap); empty 18.5/0.06 = 308 1/3 d = 308 d 8 h.
    ("18.5", "20", "2", "0", "120", "2000", "0.06", timedelta(275), timedelta(308, hours=8)),
]


@pytest.mark.parametrize(
    ("volume", "capacity", "alarm", "one_off", "dose", "conc", "per_day", "to_alarm", "to_empty"),
    SIMPLE_ROWS,
)
def test_simple_mode_dates_match_the_worked_examples(
    volume, capacity, alarm, one_off, dose, conc, per_day, to_alarm, to_empty
):
    program = simple(dose, conc, alarm_volume_ml=D(alarm))
    fill = fill_at(volume=volume, capacity_ml=D(capacity), one_off_bolus_ml=D(one_off))

    result = forecast(program, fill)

    assert result.ml_per_day == D(per_day)
    assert result.alarm_at == REFILL + to_alarm
    assert result.empty_at == REFILL + to_empty
    assert result.alarm_at_worst == result.alarm_at  # no patient bolus
    assert result.empty_at_worst == result.empty_at
    assert result.alarm_at.tzinfo is UTC


def test_sixty_days_after_0930_in_january_is_1030_local_in_march():
    # 600/2000 = 0.3 mL/day; usable 20-2 = 18 mL -> exactly 60 days. Denver moves
    # from MST (-7) to MDT (-6) on 10 March 2024: 60 x 24 h after 09:30 MST on
    # 15 January is 09:30 MST on 15 March, which the wall clock shows as 10:30 MDT.
    refill = datetime(2024, 1, 15, 9, 30, tzinfo=DENVER)

    result = forecast(simple("600", "2000"), fill_at(refill))

    assert result.alarm_at == datetime(2024, 3, 15, 16, 30, tzinfo=UTC)
    local = result.alarm_at.astimezone(DENVER)
    assert (local.date(), local.time()) == (date(2024, 3, 15), time(10, 30))


def test_ints_are_accepted_as_decimals():
    program = Program(concentration_mcg_ml=2000, daily_dose_mcg=500)
    fill = Fill(refill_at=REFILL, volume_ml=20, capacity_ml=20)

    assert forecast(program, fill).alarm_at == REFILL + timedelta(72)


def test_floats_are_refused_as_a_programming_error():
    with pytest.raises(TypeError):
        Program(concentration_mcg_ml=2000.0, daily_dose_mcg=D(500))


# --- flex schedules ------------------------------------------------------------------

FLEX_ROWS = [
    # Usable 18 mL = 37 whole days (37 x 0.48 = 17.76 mL) + 0.24 mL. Empty: 20 mL =
    # 41 whole days (19.68 mL) + 0.32 mL. The average rate would say 37 d 12 h for
    # the alarm whatever the refill time; the schedule moves it by up to 4 hours.
    # Refill 07:00: day step 0.12 mL to 19:00, then 0.12 mL more at 0.03/h = 4 h
    # -> 23:00, 37 d 16 h. Empty: 0.12 by 19:00, 0.20 more = 6 h 40 min.
    (time(7), timedelta(37, hours=16), timedelta(41, hours=18, minutes=40)),
    # Refill 19:00: night step, 0.24 / 0.03 = 8 h -> 03:00, 37 d 8 h.
    # Empty: 0.32 / 0.03 = 10 h 40 min.
    (time(19), timedelta(37, hours=8), timedelta(41, hours=10, minutes=40)),
    # Refill 13:00: 6 h of day step (0.06 mL), then 0.18 / 0.03 = 6 h -> 37 d 12 h.
    # Empty: 0.06 by 19:00, 0.26 / 0.03 = 8 h 40 min -> 41 d 14 h 40 min.
    (time(13), timedelta(37, hours=12), timedelta(41, hours=14, minutes=40)),
    # Refill 01:00 (inside the step that began at 19:00 the day before): 6 h of
    # night (0.18 mL), then 0.06 / 0.01 = 6 h -> 13:00, 37 d 12 h.
    # Empty: 0.18 by 07:00, 0.12 by 19:00, 0.02 / 0.03 = 40 min -> 41 d 18 h 40 min.
    (time(1), timedelta(37, hours=12), timedelta(41, hours=18, minutes=40)),
]


@pytest.mark.parametrize(("refill_time", "to_alarm", "to_empty"), FLEX_ROWS)
def test_flex_dates_depend_on_the_refill_time_of_day(refill_time, to_alarm, to_empty):
    refill = datetime.combine(date(2024, 1, 15), refill_time, tzinfo=UTC)

    result = forecast(DAY_NIGHT, fill_at(refill))

    assert DAY_NIGHT.daily_dose() == D(480)
    assert result.ml_per_day == D("0.48")
    assert result.alarm_at == refill + to_alarm
    assert result.empty_at == refill + to_empty


def test_flex_steps_run_on_the_pump_clock_offset_not_utc():
    # 14:00 UTC with the pump set to UTC-7 is 07:00 on the pump: 37 d 16 h as above.
    refill = datetime(2024, 1, 15, 14, tzinfo=UTC)
    on_pump_clock = fill_at(refill, pump_utc_offset=timedelta(hours=-7))
    # Read as 14:00 on a UTC pump clock instead: 5 h of day step (0.05 mL), then
    # 0.19 / 0.03 = 6 h 20 min -> 37 d 11 h 20 min.
    on_utc_clock = fill_at(refill)

    assert forecast(DAY_NIGHT, on_pump_clock).alarm_at == refill + timedelta(37, hours=16)
    assert forecast(DAY_NIGHT, on_utc_clock).alarm_at == refill + timedelta(37, hours=11, minutes=20)


def test_pump_clock_keeps_its_offset_after_the_clocks_go_forward():
    # Programmed 07:00 MST on 20 February: the pump stays on UTC-7 after 10 March,
    # so the 37 d 16 h of the 07:00 example still hold in absolute time: 23:00 on
    # the pump clock on 28 March = 06:00 UTC on 29 March = midnight MDT.
    refill = datetime(2024, 2, 20, 7, tzinfo=DENVER)

    result = forecast(DAY_NIGHT, fill_at(refill))

    assert result.alarm_at == datetime(2024, 3, 29, 6, tzinfo=UTC)
    assert result.alarm_at.astimezone(DENVER) == datetime(2024, 3, 29, 0, tzinfo=DENVER)


def test_a_step_at_zero_is_allowed_and_delivers_nothing():
    # 00:00-12:00 at 0, 12:00-24:00 at 20 mcg/h; 1000 mcg/mL -> 0.24 mL/day.
    # Usable 18 -> 75 whole days exactly, reached at the end of the 20 mcg/h step:
    # refill at 12:00 + 75 d - 12 h = 74 d 12 h.
    program = Program(
        concentration_mcg_ml=D(1000),
        flex_steps=(FlexStep(time(0), D(0)), FlexStep(time(12), D(20))),
    )
    refill = datetime(2024, 1, 15, 12, tzinfo=UTC)

    assert forecast(program, fill_at(refill)).alarm_at == refill + timedelta(74, hours=12)


def test_long_flex_interval_is_exact_and_quick():
    # 12 two-hour steps alternating 1 and 3 mcg/h (48 mcg/day) at 2000 mcg/mL:
    # 0.024 mL/day, so 38 usable mL last 1583 1/3 days. Skipping whole days must
    # land on the same instant as the slow boundary-by-boundary reference walk.
    steps = tuple(FlexStep(time(hour), D(1 + 2 * (i % 2))) for i, hour in enumerate(range(0, 24, 2)))
    program = Program(concentration_mcg_ml=D(2000), flex_steps=steps)
    fill = fill_at(datetime(2024, 1, 15, 5, 17, 3, tzinfo=UTC), volume="40", capacity_ml=D(40))

    result = forecast(program, fill)

    expected = reference_elapsed(program, fill, D(38), bolus_ml=Fraction(0))
    assert (result.alarm_at - fill.refill_at) // timedelta(microseconds=1) == math.floor(expected)
    assert result.alarm_at - fill.refill_at > timedelta(500)


# --- ties: the volume runs out exactly at the end of a delivering step ----------------

# An evening step, 18:00-20:40 at 40 mcg/h, and nothing the rest of the day: 2 h 40 min
# x 40 = 106 2/3 mcg a day, at 500 mcg/mL 16/75 mL a day (not a finite decimal).
# 45 days deliver exactly 45 x 16/75 = 9.6 mL, so 11.6 mL with a 2 mL alarm volume
# alarms the instant the 45th day's step ends: 20:40 on the pump clock.
EVENING = Program(
    concentration_mcg_ml=D(500),
    flex_steps=(FlexStep(time(18), D(40)), FlexStep(time(20, 40), D(0))),
)
# The same delivery, the pause written as two 0 mcg/h steps.
EVENING_TWO_PAUSES = Program(
    concentration_mcg_ml=D(500),
    flex_steps=(FlexStep(time(18), D(40)), FlexStep(time(20, 40), D(0)), FlexStep(time(23), D(0))),
)

TIE_ROWS = [
    # refill time (pump clock = UTC), alarm after, empty after
    # 08:00: the 45th 24-hour period (from 08:00 on day 44) delivers its last drug at
    # 20:40 -> 44 d 12 h 40 min (the old walk said 45 d 10 h, 21 h 20 min late).
    # Empty: 11.6 mL = 54 days (11.52 mL) + 0.08 mL = 40 mcg = 1 h of the step that
    # starts at 18:00 -> 54 d 10 h + 1 h = 54 d 11 h.
    (time(8), timedelta(44, hours=12, minutes=40), timedelta(54, hours=11)),
    # 17:59, a minute before the step: 20:40 is 2 h 41 min into the 45th period.
    # Empty: 1 min of pause, then 1 h of the step -> 54 d 1 h 1 min.
    (time(17, 59), timedelta(44, hours=2, minutes=41), timedelta(54, hours=1, minutes=1)),
    # 21:00, just after the step: its end is 20 min before the period ends.
    # Empty: 21 h of pause, then 1 h -> 54 d 22 h.
    (time(21), timedelta(44, hours=23, minutes=40), timedelta(54, hours=22)),
    # 20:40, at the step's end: the period ends with the step, exactly 45 days.
    # Empty: 21 h 20 min of pause, then 1 h -> 54 d 22 h 20 min.
    (time(20, 40), timedelta(45), timedelta(54, hours=22, minutes=20)),
    # 19:00, inside the step: 19:00-20:40 and 18:00-19:00 of the next day, 45 days.
    # Empty: 40 mcg is the first hour, 19:00-20:00 -> 54 d 1 h.
    (time(19), timedelta(45), timedelta(54, hours=1)),
]


@pytest.mark.parametrize("program", [EVENING, EVENING_TWO_PAUSES], ids=["one-pause", "two-pauses"])
@pytest.mark.parametrize(("refill_time", "to_alarm", "to_empty"), TIE_ROWS)
def test_a_volume_that_runs_out_at_a_step_end_alarms_at_that_instant(
    program, refill_time, to_alarm, to_empty
):
    refill = datetime.combine(date(2024, 1, 15), refill_time, tzinfo=UTC)

    result = forecast(program, fill_at(refill, volume="11.6", capacity_ml=D(20)))

    assert result.alarm_at == refill + to_alarm
    assert result.empty_at == refill + to_empty


def test_a_tie_on_the_pump_clock_after_the_clocks_go_forward():
    # Refill 08:00 MST (15:00 UTC) on 1 March; the pump stays on UTC-7, so the 45th
    # day's step ends at 20:40 pump time = 03:40 UTC on 15 April = 21:40 MDT on 14 April.
    refill = datetime(2024, 3, 1, 8, tzinfo=DENVER)

    result = forecast(EVENING, fill_at(refill, volume="11.6", capacity_ml=D(20)))

    assert result.alarm_at == datetime(2024, 4, 15, 3, 40, tzinfo=UTC)
    assert result.alarm_at.astimezone(DENVER) == datetime(2024, 4, 14, 21, 40, tzinfo=DENVER)


def test_a_tie_with_the_worst_case_boluses():
    # EVENING plus 2 boluses of 20 mcg a day (0.08 mL, taken at the start of each period):
    # 16/75 + 6/75 = 22/75 mL per period. 30 periods deliver exactly 8.8 mL, so 10.8 mL
    # alarms (worst case) at the end of the 30th period's step: 08:00 + 29 d 12 h 40 min.
    # Nominal: 8.8 mL = 41.25 days of 16/75 -> 41 days (8.746 2/3 mL) + 0.053 1/3 mL =
    # 26 2/3 mcg = 40 min of the step -> 41 d 10 h 40 min.
    program = Program(
        concentration_mcg_ml=D(500),
        flex_steps=EVENING.flex_steps,
        bolus_mcg=D(20),
        bolus_max_per_day=2,
    )
    refill = datetime(2024, 1, 15, 8, tzinfo=UTC)

    result = forecast(program, fill_at(refill, volume="10.8", capacity_ml=D(20)))

    assert result.alarm_at_worst == refill + timedelta(29, hours=12, minutes=40)
    assert result.alarm_at == refill + timedelta(41, hours=10, minutes=40)


# --- patient-activated boluses ----------------------------------------------------------


def test_worst_case_counts_every_bolus_at_the_start_of_each_day():
    # 500/2000 = 0.25 mL/day; 4 boluses of 50 mcg = 200 mcg = 0.1 mL a day, all
    # taken at refill + k x 24 h: 0.35 mL per 24 h.
    # Alarm (18 mL): 51 whole days = 17.85 mL; day 52 starts with 0.1 mL of bolus
    # (17.95), then 0.05 / 0.25 = 0.2 day = 4 h 48 min -> 51 d 4 h 48 min.
    # Empty (20 mL): 57 whole days = 19.95; the boluses at the start of day 58
    # take it past 20 -> exactly 57 d.
    program = simple("500", "2000", bolus_mcg=D(50), bolus_max_per_day=4)

    result = forecast(program, fill_at())

    assert result.alarm_at == REFILL + timedelta(72)
    assert result.empty_at == REFILL + timedelta(80)
    assert result.alarm_at_worst == REFILL + timedelta(51, hours=4, minutes=48)
    assert result.empty_at_worst == REFILL + timedelta(57)
    assert result.ml_per_day == D("0.25")


def test_worst_case_with_a_flex_schedule():
    # Day/night schedule (0.48 mL/day) + 3 boluses of 20 mcg (0.06 mL) per day:
    # 0.54 mL per 24 h. Alarm: 33 whole days = 17.82 mL; 0.06 of bolus at the
    # start of day 34 leaves 0.12 mL, exactly the 07:00-19:00 step -> 33 d 12 h.
    program = Program(
        concentration_mcg_ml=D(1000),
        flex_steps=DAY_NIGHT.flex_steps,
        bolus_mcg=D(20),
        bolus_max_per_day=3,
    )
    refill = datetime(2024, 1, 15, 7, tzinfo=UTC)

    result = forecast(program, fill_at(refill))

    assert result.alarm_at == refill + timedelta(37, hours=16)
    assert result.alarm_at_worst == refill + timedelta(33, hours=12)


# --- refill due date ------------------------------------------------------------------

REFILL_DUE_ROWS = [
    # Alarm 16:30 UTC 15 Mar = 10:30 MDT 15 Mar; - 7 days = 8 Mar. The cap,
    # 15 Jan + 180 d (16 + 29 + 31 + 30 + 31 + 30 + 13) = 13 Jul, is later.
    (datetime(2024, 3, 15, 16, 30, tzinfo=UTC), 7, date(2024, 3, 8)),
    # Alarm 03:00 UTC 15 Mar is still 14 Mar in Denver (21:00 MDT) -> 7 Mar.
    (datetime(2024, 3, 15, 3, tzinfo=UTC), 7, date(2024, 3, 7)),
    # The lowest lead time allowed: 3 days -> 12 Mar.
    (datetime(2024, 3, 15, 16, 30, tzinfo=UTC), 3, date(2024, 3, 12)),
    # Alarm 1 Dec (- 7 = 24 Nov) is after the drug-stability cap of 13 Jul.
    (datetime(2024, 12, 1, 16, tzinfo=UTC), 7, date(2024, 7, 13)),
]


@pytest.mark.parametrize(("alarm_at", "lead_days", "expected"), REFILL_DUE_ROWS)
def test_refill_due_is_the_earlier_of_lead_days_and_the_180_day_cap(alarm_at, lead_days, expected):
    last_refill = datetime(2024, 1, 15, 9, 30, tzinfo=DENVER)

    due = refill_due(alarm_at=alarm_at, last_refill_at=last_refill, tz=DENVER, lead_days=lead_days)

    assert due == expected


def test_refill_due_follows_the_clinic_cap_setting():
    # 15 Jan + 90 days = 14 Apr, before alarm - 7 days = 24 Nov.
    due = refill_due(
        alarm_at=datetime(2024, 12, 1, 16, tzinfo=UTC),
        last_refill_at=datetime(2024, 1, 15, 9, 30, tzinfo=DENVER),
        tz=DENVER,
        max_interval_days=90,
    )

    assert due == date(2024, 4, 14)


# --- battery and replacement ----------------------------------------------------------

BATTERY_ROWS = [
    # implant, ERI, shuts off at 7 years -> replace by, window opens
    # ERI first: ERI 1 Mar 2025 + 90 d = 30 May 2025, before 1 Jun 2027 (7 y).
    # Window: ERI (1 Mar 2025) before 1 Jun 2026 + 182 d = 30 Nov 2026.
    (date(2020, 6, 1), date(2025, 3, 1), True, date(2025, 5, 30), date(2025, 3, 1)),
    # 7-year shut-off first: 10 Apr 2025, before ERI + 90 d = 30 May 2025.
    # Window: 10 Apr 2024 + 182 d = 9 Oct 2024, before the ERI.
    (date(2018, 4, 10), date(2025, 3, 1), True, date(2025, 4, 10), date(2024, 10, 9)),
    # No ERI yet: 7 years, and 6 years + 182 days.
    (date(2020, 6, 1), None, True, date(2027, 6, 1), date(2026, 11, 30)),
    # Implanted 29 Feb: 7 years on is 28 Feb 2027; 28 Feb 2026 + 182 d = 29 Aug 2026.
    (date(2020, 2, 29), None, True, date(2027, 2, 28), date(2026, 8, 29)),
    # SynchroMed EL (no 7-year shut-off), ERI 1 Mar 2025: ERI + 90 d; window at ERI.
    (date(2010, 6, 1), date(2025, 3, 1), False, date(2025, 5, 30), date(2025, 3, 1)),
    # EL without ERI: no date yet.
    (date(2010, 6, 1), None, False, None, None),
]


@pytest.mark.parametrize(("implant", "eri", "shuts_off", "replace", "opens"), BATTERY_ROWS)
def test_replace_by_and_battery_window(implant, eri, shuts_off, replace, opens):
    dates = {"implant_date": implant, "eri_date": eri, "shuts_off_at_7_years": shuts_off}

    assert replace_by(**dates) == replace
    assert battery_window_opens(**dates) == opens


def test_battery_window_is_open_from_its_opening_day():
    dates = {"implant_date": date(2020, 6, 1), "eri_date": None}  # opens 30 Nov 2026

    assert not battery_window_open(**dates, today=date(2026, 11, 29))
    assert battery_window_open(**dates, today=date(2026, 11, 30))
    assert battery_window_open(**dates, today=date(2028, 1, 1))


def test_battery_window_never_opens_for_an_el_pump_without_eri():
    assert not battery_window_open(
        implant_date=date(2010, 6, 1),
        eri_date=None,
        today=date(2030, 1, 1),
        shuts_off_at_7_years=False,
    )


# --- days until -------------------------------------------------------------------------

DAYS_UNTIL_ROWS = [
    # now 10:00 MDT 14 Mar; 03:00 UTC 15 Mar is 21:00 MDT 14 Mar: same local day.
    (datetime(2024, 3, 15, 3, tzinfo=UTC), 0),
    # 06:00 UTC 15 Mar is midnight MDT: the next day.
    (datetime(2024, 3, 15, 6, tzinfo=UTC), 1),
    (datetime(2024, 3, 24, 12, tzinfo=DENVER), 10),
    (datetime(2024, 3, 13, 23, 59, tzinfo=DENVER), -1),
]


@pytest.mark.parametrize(("instant", "expected"), DAYS_UNTIL_ROWS)
def test_days_until_counts_calendar_days_in_the_clinic_zone(instant, expected):
    now = datetime(2024, 3, 14, 10, tzinfo=DENVER)

    assert days_until(instant, now=now, tz=DENVER) == expected


# --- validation -------------------------------------------------------------------------

BASE_PROGRAM = {"concentration_mcg_ml": D(2000), "daily_dose_mcg": D(500)}
BASE_FILL = {"refill_at": REFILL, "volume_ml": D(20), "capacity_ml": D(20)}


def steps(*pairs: tuple[time, str]) -> tuple[FlexStep, ...]:
    return tuple(FlexStep(start, D(rate)) for start, rate in pairs)


FLEX_ONLY = {"daily_dose_mcg": None}
INVALID_ROWS = [
    # program changes, fill changes, field named
    ({"concentration_mcg_ml": D(0)}, {}, "concentration_mcg_ml"),
    ({"concentration_mcg_ml": D(-500)}, {}, "concentration_mcg_ml"),
    ({"daily_dose_mcg": D(0)}, {}, "daily_dose_mcg"),
    ({"daily_dose_mcg": D("NaN")}, {}, "daily_dose_mcg"),
    ({"daily_dose_mcg": None}, {}, "daily_dose_mcg"),
    ({"flex_steps": steps((time(0), "20"))}, {}, "daily_dose_mcg"),  # both given
    ({"bolus_mcg": D(-1)}, {}, "bolus_mcg"),
    ({"bolus_max_per_day": -1}, {}, "bolus_max_per_day"),
    ({"alarm_volume_ml": D("-0.5")}, {}, "alarm_volume_ml"),
    ({}, {"volume_ml": D("20.5")}, "volume_ml"),  # overfill
    ({}, {"volume_ml": D(0)}, "volume_ml"),
    ({}, {"volume_ml": D(2)}, "volume_ml"),  # not above the alarm volume
    ({}, {"volume_ml": D(5), "one_off_bolus_ml": D(3)}, "volume_ml"),  # 2 mL left
    ({}, {"capacity_ml": D(0)}, "capacity_ml"),
    ({}, {"one_off_bolus_ml": D("-0.1")}, "one_off_bolus_ml"),
    ({}, {"refill_at": datetime(2024, 1, 15, 9, 30)}, "refill_at"),
    ({}, {"pump_utc_offset": timedelta(hours=24)}, "pump_utc_offset"),
    ({**FLEX_ONLY, "flex_steps": steps(*((time(h), "5") for h in range(14)))}, {}, "flex_steps"),
    ({**FLEX_ONLY, "flex_steps": steps((time(0), "5"), (time(8), "-1"))}, {}, "flex_steps"),
    ({**FLEX_ONLY, "flex_steps": steps((time(8), "5"), (time(8), "6"))}, {}, "flex_steps"),
    ({**FLEX_ONLY, "flex_steps": steps((time(8), "5"), (time(6), "6"))}, {}, "flex_steps"),
    ({**FLEX_ONLY, "flex_steps": steps((time(0), "0"), (time(6), "0"))}, {}, "flex_steps"),
    (
        {
            **FLEX_ONLY,
            "flex_steps": steps(
                (time(0, tzinfo=UTC), "5"),
            ),
        },
        {},
        "flex_steps",
    ),
]


@pytest.mark.parametrize(("program_changes", "fill_changes", "field"), INVALID_ROWS)
def test_invalid_input_names_its_field_in_a_sentence(program_changes, fill_changes, field):
    program = Program(**{**BASE_PROGRAM, **program_changes})
    fill = Fill(**{**BASE_FILL, **fill_changes})

    with pytest.raises(ForecastError) as caught:
        forecast(program, fill)

    assert caught.value.field == field
    assert str(caught.value) == caught.value.message
    assert caught.value.message[0].isupper() and caught.value.message.endswith(".")


def test_forecast_error_survives_pickling():
    error = pickle.loads(pickle.dumps(ForecastError("lead_days", "Book the refill earlier.")))

    assert (error.field, error.message, str(error)) == (
        "lead_days",
        "Book the refill earlier.",
        error.message,
    )


def test_overfill_message_tells_the_nurse_never_to_overfill():
    fill = Fill(**{**BASE_FILL, "volume_ml": D(21)})

    with pytest.raises(ForecastError, match="Never overfill"):
        forecast(Program(**BASE_PROGRAM), fill)


def test_boundary_values_are_accepted():
    # Full to capacity, alarm volume 0, 13 steps: all allowed.
    program = Program(
        concentration_mcg_ml=D(2000),
        flex_steps=steps(*((time(h), "5") for h in range(13))),
        alarm_volume_ml=D(0),
    )

    assert forecast(program, Fill(**BASE_FILL)).alarm_at == forecast(program, Fill(**BASE_FILL)).empty_at


OTHER_INVALID_CALLS = [
    (lambda: refill_due(alarm_at=REFILL, last_refill_at=REFILL, tz=UTC, lead_days=2), "lead_days"),
    (
        lambda: refill_due(alarm_at=REFILL, last_refill_at=REFILL, tz=UTC, max_interval_days=0),
        "max_interval_days",
    ),
    (
        lambda: refill_due(alarm_at=datetime(2024, 3, 1), last_refill_at=REFILL, tz=UTC),
        "alarm_at",
    ),
    (
        lambda: refill_due(alarm_at=REFILL, last_refill_at=datetime(2024, 3, 1), tz=UTC),
        "last_refill_at",
    ),
    (lambda: replace_by(implant_date=date(2024, 1, 1), eri_date=date(2023, 1, 1)), "eri_date"),
    (
        lambda: battery_window_opens(implant_date=date(2024, 1, 1), eri_date=date(2023, 1, 1)),
        "eri_date",
    ),
    (lambda: days_until(datetime(2024, 3, 1), now=REFILL, tz=UTC), "instant"),
    (lambda: days_until(REFILL, now=datetime(2024, 3, 1), tz=UTC), "now"),
]


@pytest.mark.parametrize(("call", "field"), OTHER_INVALID_CALLS)
def test_invalid_dates_and_settings_name_their_field(call, field):
    with pytest.raises(ForecastError) as caught:
        call()

    assert caught.value.field == field


# --- properties -------------------------------------------------------------------------

ZONES = [UTC, DENVER, ZoneInfo("Europe/London"), ZoneInfo("Australia/Lord_Howe")]
refill_instants = st.datetimes(
    min_value=datetime(2020, 1, 1),
    max_value=datetime(2035, 12, 31),
    timezones=st.sampled_from(ZONES),
)
concentrations = st.sampled_from([D(500), D(1000), D(2000)])
rates = st.decimals(min_value=0, max_value=60, places=1)
volumes = st.decimals(min_value=D("2.1"), max_value=40, places=1)


@st.composite
def flex_schedules(draw: st.DrawFn, pauses: bool = False) -> tuple[FlexStep, ...]:
    minutes = sorted(draw(st.lists(st.integers(0, 1439), min_size=1 + pauses, max_size=13, unique=True)))
    step_rate = st.one_of(st.just(D(0)), rates) if pauses else rates
    step_rates = draw(st.lists(step_rate, min_size=len(minutes), max_size=len(minutes)))
    assume(sum(step_rates) > 0 and (not pauses or min(step_rates) == 0))
    return tuple(FlexStep(time(m // 60, m % 60), rate) for m, rate in zip(minutes, step_rates, strict=True))


@st.composite
def programs(draw: st.DrawFn) -> Program:
    conc = draw(concentrations)
    bolus = {
        "bolus_mcg": draw(st.decimals(min_value=0, max_value=100, places=0)),
        "bolus_max_per_day": draw(st.integers(0, 6)),
    }
    if draw(st.booleans()):
        dose = draw(st.decimals(min_value=25, max_value=1200, places=1))
        return Program(concentration_mcg_ml=conc, daily_dose_mcg=dose, **bolus)
    return Program(concentration_mcg_ml=conc, flex_steps=draw(flex_schedules()), **bolus)


def fill_of(refill_at: datetime, volume: D) -> Fill:
    return Fill(refill_at=refill_at, volume_ml=volume, capacity_ml=D(40))


def reference_elapsed(program: Program, fill: Fill, threshold: D, bolus_ml: Fraction) -> Fraction:
    """Microseconds to deliver ``threshold`` mL, walking boundary to boundary with
    exact fractions from the refill, without the module's whole-day skip."""
    conc = Fraction(program.concentration_mcg_ml)
    if program.is_flex:
        starts = [step.start.hour * 3600 + step.start.minute * 60 for step in program.flex_steps]
        rates = [Fraction(step.mcg_per_hour) / 3600 / conc for step in program.flex_steps]
    else:  # one all-day step, in exact fractions
        starts, rates = [0], [Fraction(program.daily_dose_mcg) / 86400 / conc]
    offset = fill.pump_utc_offset if fill.pump_utc_offset is not None else fill.refill_at.utcoffset()
    local = fill.refill_at.astimezone(timezone(offset))
    clock = Fraction(local.hour * 3600 + local.minute * 60 + local.second) + Fraction(
        local.microsecond, 10**6
    )
    remaining, elapsed, next_bolus = Fraction(threshold), Fraction(0), Fraction(0)
    while True:
        if elapsed == next_bolus:
            remaining -= bolus_ml
            if remaining <= 0:
                return elapsed * 10**6
            next_bolus += 86400
        of_day = clock % 86400
        begun = [i for i, start in enumerate(starts) if start <= of_day]
        if begun:
            i = begun[-1]
            boundary = starts[i + 1] if i + 1 < len(starts) else starts[0] + 86400
        else:
            i, boundary = len(starts) - 1, starts[0]
        length = min(boundary - of_day, next_bolus - elapsed)
        if rates[i] * length >= remaining:
            return (elapsed + remaining / rates[i]) * 10**6
        remaining -= rates[i] * length
        elapsed += length
        clock += length


@settings(max_examples=60, deadline=None)
@given(program=programs(), refill_at=refill_instants, volume=volumes)
def test_forecast_matches_a_slow_exact_walk(program, refill_at, volume):
    # Keep the reference walk short enough: at least 100 mcg/day.
    assume(program.daily_dose() >= 100)
    fill = fill_of(refill_at, volume)
    bolus_ml = Fraction(program.bolus_mcg * program.bolus_max_per_day) / Fraction(
        program.concentration_mcg_ml
    )

    result = forecast(program, fill)

    for instant, threshold, bolus in [
        (result.alarm_at, volume - 2, Fraction(0)),
        (result.alarm_at_worst, volume - 2, bolus_ml),
        (result.empty_at, volume, Fraction(0)),
        (result.empty_at_worst, volume, bolus_ml),
    ]:
        got = (instant - refill_at) // timedelta(microseconds=1)
        assert got == math.floor(reference_elapsed(program, fill, threshold, bolus))


# The brute-force reference: a minute-by-minute walk in whole units of 1/14400 mcg, so
# that a flex step (0.1 mcg/h steps) and a simple dose (0.1 mcg/day steps) both deliver
# a whole number of units each minute. Steps and the refill are on whole pump-clock
# minutes, so the rate is constant within each minute of the walk.
UNITS_PER_MCG = 14400
minute_refills = st.builds(
    lambda day, minute, zone: datetime.combine(day, time(minute // 60, minute % 60), tzinfo=zone),
    st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)),
    st.integers(0, 1439),
    st.sampled_from(ZONES),
)


def units_per_minute(program: Program) -> list[int]:
    """Units delivered in each minute of the pump-clock day, 00:00 first."""
    if not program.is_flex:
        return [int(program.daily_dose_mcg * 10)] * 1440
    per_minute = [0] * 1440
    starts = [step.start.hour * 60 + step.start.minute for step in program.flex_steps]
    for i, step in enumerate(program.flex_steps):
        end = starts[(i + 1) % len(starts)]
        for minute in range(starts[i], end if end > starts[i] else end + 1440):
            per_minute[minute % 1440] = int(step.mcg_per_hour * 10) * 24
    return per_minute


def pump_minute_of_day(refill_at: datetime) -> int:
    local = refill_at.astimezone(timezone(refill_at.utcoffset()))
    return local.hour * 60 + local.minute


def minute_walk(program: Program, refill_at: datetime, threshold_units: int, bolus_units: int) -> Fraction:
    """Microseconds until ``threshold_units`` have left: one minute at a time."""
    per_minute = units_per_minute(program)
    first = pump_minute_of_day(refill_at)
    remaining, minute = threshold_units, 0
    while True:
        if minute % 1440 == 0:  # the day's boluses, all at once
            remaining -= bolus_units
            if remaining <= 0:
                return Fraction(minute * 60_000_000)
        rate = per_minute[(first + minute) % 1440]
        if rate and rate >= remaining:
            return (minute + Fraction(remaining, rate)) * 60_000_000
        remaining -= rate
        minute += 1


def minute_programs(draw: st.DrawFn, *, flex: bool) -> Program:
    conc = draw(st.sampled_from([D(500), D(1000)]))
    bolus = {
        "bolus_mcg": draw(st.decimals(min_value=0, max_value=100, places=0)),
        "bolus_max_per_day": draw(st.integers(0, 6)),
    }
    if not flex:
        dose = draw(st.decimals(min_value=100, max_value=1200, places=1))
        return Program(concentration_mcg_ml=conc, daily_dose_mcg=dose, **bolus)
    program = Program(concentration_mcg_ml=conc, flex_steps=draw(flex_schedules()), **bolus)
    # Keep the walk short: at least 100 mcg/day.
    assume(program.daily_dose() >= 100)
    return program


@settings(max_examples=80, deadline=None)
@given(data=st.data(), flex=st.booleans(), refill_at=minute_refills, volume=volumes)
def test_forecast_equals_a_brute_force_minute_walk(data, flex, refill_at, volume):
    program = minute_programs(data.draw, flex=flex)
    conc = program.concentration_mcg_ml
    bolus = int(program.bolus_mcg * program.bolus_max_per_day * UNITS_PER_MCG)

    result = forecast(program, fill_of(refill_at, volume))

    for instant, ml, daily_bolus in [
        (result.alarm_at, volume - 2, 0),
        (result.alarm_at_worst, volume - 2, bolus),
        (result.empty_at, volume, 0),
        (result.empty_at_worst, volume, bolus),
    ]:
        walked = minute_walk(program, refill_at, int(ml * conc * UNITS_PER_MCG), daily_bolus)
        assert (instant - refill_at) // timedelta(microseconds=1) == math.floor(walked)


@settings(max_examples=80, deadline=None)
@given(data=st.data(), refill_at=minute_refills, days=st.integers(0, 60))
def test_a_volume_that_runs_out_at_a_step_end_alarms_at_that_instant_always(data, refill_at, days):
    # A schedule with pauses; the volume is chosen to run out exactly when a
    # delivering minute is followed by a paused one, ``days`` whole periods in.
    conc = data.draw(concentrations)
    program = Program(concentration_mcg_ml=conc, flex_steps=data.draw(flex_schedules(pauses=True)))
    per_minute = units_per_minute(program)
    first = pump_minute_of_day(refill_at)
    in_period = [per_minute[(first + minute) % 1440] for minute in range(1440)]
    ends = [m + 1 for m in range(1440) if in_period[m] and not per_minute[(first + m + 1) % 1440]]
    assume(ends)
    end = data.draw(st.sampled_from(ends))
    delivered = Fraction(days * sum(in_period) + sum(in_period[:end]), UNITS_PER_MCG)
    usable = delivered / Fraction(program.concentration_mcg_ml)
    # The volume must be a finite decimal, and fit a 40 mL pump above the alarm volume.
    assume(usable <= 38 and is_finite_decimal(usable))
    volume = D(usable.numerator) / D(usable.denominator) + 2

    alarm_at = forecast(program, fill_of(refill_at, volume)).alarm_at

    assert alarm_at == refill_at.astimezone(UTC) + timedelta(days=days, minutes=end)
    walked = minute_walk(program, refill_at, int(delivered * UNITS_PER_MCG), 0)
    assert walked == (days * 1440 + end) * 60_000_000


def is_finite_decimal(value: Fraction) -> bool:
    denominator = value.denominator
    for prime in (2, 5):
        while denominator % prime == 0:
            denominator //= prime
    return denominator == 1


@given(
    start=st.times(),
    rate=st.decimals(min_value=D("0.5"), max_value=60, places=2),
    conc=concentrations,
    refill_at=refill_instants,
    volume=volumes,
)
def test_one_constant_flex_step_equals_simple_mode(start, rate, conc, refill_at, volume):
    flex = Program(concentration_mcg_ml=conc, flex_steps=(FlexStep(start, rate),))
    plain = Program(concentration_mcg_ml=conc, daily_dose_mcg=rate * 24)
    fill = fill_of(refill_at, volume)

    one, other = forecast(flex, fill), forecast(plain, fill)

    assert abs(one.alarm_at - other.alarm_at) <= timedelta(seconds=1)
    assert abs(one.empty_at - other.empty_at) <= timedelta(seconds=1)


@given(program=programs(), refill_at=refill_instants, volumes=st.lists(volumes, min_size=2, max_size=2))
def test_more_volume_never_makes_the_alarm_earlier(program, refill_at, volumes):
    less, more = sorted(volumes)

    low, high = forecast(program, fill_of(refill_at, less)), forecast(program, fill_of(refill_at, more))

    assert high.alarm_at >= low.alarm_at
    assert high.alarm_at_worst >= low.alarm_at_worst


@given(
    program=programs(),
    refill_at=refill_instants,
    volume=volumes,
    extra=st.decimals(min_value=0, max_value=50, places=1),
    index=st.integers(0, 12),
)
def test_a_higher_dose_never_makes_the_alarm_later(program, refill_at, volume, extra, index):
    if program.is_flex:
        steps = list(program.flex_steps)
        i = index % len(steps)
        steps[i] = FlexStep(steps[i].start, steps[i].mcg_per_hour + extra)
        higher = Program(concentration_mcg_ml=program.concentration_mcg_ml, flex_steps=tuple(steps))
    else:
        higher = Program(
            concentration_mcg_ml=program.concentration_mcg_ml,
            daily_dose_mcg=program.daily_dose_mcg + extra,
        )
    fill = fill_of(refill_at, volume)

    assert forecast(higher, fill).alarm_at <= forecast(program, fill).alarm_at


@given(program=programs(), refill_at=refill_instants, volume=volumes)
def test_worst_case_is_never_later_than_nominal(program, refill_at, volume):
    result = forecast(program, fill_of(refill_at, volume))

    assert result.alarm_at_worst <= result.alarm_at
    assert result.empty_at_worst <= result.empty_at
    assert result.alarm_at < result.empty_at


@given(
    alarm_at=refill_instants,
    last_refill_at=refill_instants,
    tz=st.sampled_from(ZONES),
    lead_days=st.integers(3, 60),
    cap=st.integers(1, 365),
)
def test_refill_due_is_never_after_either_limit(alarm_at, last_refill_at, tz, lead_days, cap):
    due = refill_due(
        alarm_at=alarm_at,
        last_refill_at=last_refill_at,
        tz=tz,
        lead_days=lead_days,
        max_interval_days=cap,
    )

    assert due <= alarm_at.astimezone(tz).date() - timedelta(days=lead_days)
    assert due <= last_refill_at.astimezone(tz).date() + timedelta(days=cap)
    assert due in {
        alarm_at.astimezone(tz).date() - timedelta(days=lead_days),
        last_refill_at.astimezone(tz).date() + timedelta(days=cap),
    }

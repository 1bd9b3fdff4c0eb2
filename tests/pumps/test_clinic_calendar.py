"""Tests for pumps.clinic_calendar: open days, hours and closed dates, by table."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pumps.clinic_calendar import CalendarError, ClinicCalendar
from pumps.forecast import refill_due

DENVER = ZoneInfo("America/Denver")
# 2026: Thanksgiving Thursday 26 Nov and the Friday after; Christmas Friday 25 Dec;
# New Year's Day Friday 1 Jan 2027.
HOLIDAYS = frozenset({date(2026, 11, 26), date(2026, 11, 27), date(2026, 12, 25), date(2027, 1, 1)})
CLINIC = ClinicCalendar(tz=DENVER, closed_dates=HOLIDAYS)  # Mon-Fri 08:00-17:00

OPEN_DAY_ROWS = [
    # day, open?, open day on or before
    (date(2026, 11, 30), True, date(2026, 11, 30)),  # a Monday
    (date(2026, 11, 28), False, date(2026, 11, 25)),  # Saturday, Friday and Thursday closed
    (date(2026, 11, 29), False, date(2026, 11, 25)),  # Sunday: the same chain back
    (date(2026, 11, 27), False, date(2026, 11, 25)),  # the Friday after Thanksgiving
    (date(2026, 11, 26), False, date(2026, 11, 25)),  # Thanksgiving
    (date(2026, 12, 25), False, date(2026, 12, 24)),  # Christmas, a Friday
    (date(2026, 12, 27), False, date(2026, 12, 24)),  # Sunday after Christmas
    (date(2027, 1, 3), False, date(2026, 12, 31)),  # Sun, Sat, New Year's Day Fri -> Thu
    (date(2026, 12, 31), True, date(2026, 12, 31)),
]


@pytest.mark.parametrize(("day", "is_open", "moved_to"), OPEN_DAY_ROWS)
def test_a_closed_day_moves_to_the_open_day_before_it(day, is_open, moved_to):
    assert CLINIC.is_open(day) is is_open
    assert CLINIC.open_day_on_or_before(day) == moved_to


def test_a_clinic_open_on_saturdays_keeps_saturday():
    saturdays_too = ClinicCalendar(tz=DENVER, open_weekdays={0, 1, 2, 3, 4, 5}, closed_dates=HOLIDAYS)

    assert saturdays_too.open_day_on_or_before(date(2026, 11, 29)) == date(2026, 11, 28)


def test_a_long_chain_of_closed_dates_ends_on_the_open_day_before_it():
    # A clinic closed for the two weeks around New Year: 21 Dec 2026 to 3 Jan 2027.
    closure = frozenset(date(2026, 12, 21) + timedelta(days=n) for n in range(14))
    calendar = ClinicCalendar(tz=DENVER, closed_dates=closure)

    assert calendar.open_day_on_or_before(date(2027, 1, 2)) == date(2026, 12, 18)


OPEN_AT_ROWS = [
    # instant, open?
    (datetime(2026, 11, 30, 8, 0, tzinfo=DENVER), True),  # opening time
    (datetime(2026, 11, 30, 7, 59, tzinfo=DENVER), False),
    (datetime(2026, 11, 30, 16, 59, tzinfo=DENVER), True),
    (datetime(2026, 11, 30, 17, 0, tzinfo=DENVER), False),  # closing time: closed
    (datetime(2026, 11, 26, 10, 0, tzinfo=DENVER), False),  # Thanksgiving
    (datetime(2026, 11, 28, 10, 0, tzinfo=DENVER), False),  # Saturday
    # 03:00 MST (10:00 UTC) on a Tuesday: the night hour CI runs under.
    (datetime(2026, 12, 1, 10, 0, tzinfo=UTC), False),
    # 16:00 UTC Monday 30 Nov is 09:00 MST: open.
    (datetime(2026, 11, 30, 16, 0, tzinfo=UTC), True),
    # 01:00 UTC Tuesday 1 Dec is still 18:00 MST on Monday: closed for the evening.
    (datetime(2026, 12, 1, 1, 0, tzinfo=UTC), False),
    # DST: 14:30 UTC is 07:30 MST on Friday 6 Mar 2026 (closed) but 08:30 MDT on Monday
    # 9 Mar, the day after the clocks go forward (open).
    (datetime(2026, 3, 6, 14, 30, tzinfo=UTC), False),
    (datetime(2026, 3, 9, 14, 30, tzinfo=UTC), True),
    # And back: 23:30 UTC is 17:30 MDT on Friday 30 Oct (closed), 16:30 MST on Monday
    # 2 Nov, the day after the clocks go back (open).
    (datetime(2026, 10, 30, 23, 30, tzinfo=UTC), False),
    (datetime(2026, 11, 2, 23, 30, tzinfo=UTC), True),
]


@pytest.mark.parametrize(("instant", "is_open"), OPEN_AT_ROWS)
def test_open_at_reads_the_instant_in_the_clinic_zone(instant, is_open):
    assert CLINIC.open_at(instant) is is_open


def test_the_hours_of_a_dst_day_are_wall_clock_hours():
    # A clinic open every day 01:00-04:00 (a night clinic): on Sunday 8 Mar 2026 the
    # clocks go from 02:00 MST to 03:00 MDT. 09:30 UTC = 03:30 MDT: open; 10:30 UTC =
    # 04:30 MDT: closed, although 04:30 MST would be 11:30 UTC.
    night = ClinicCalendar(tz=DENVER, open_weekdays=set(range(7)), opens_at=time(1), closes_at=time(4))

    assert night.open_at(datetime(2026, 3, 8, 9, 30, tzinfo=UTC))
    assert not night.open_at(datetime(2026, 3, 8, 10, 30, tzinfo=UTC))
    # On 1 Nov 2026 01:30 happens twice (MDT, then MST): both are in hours.
    assert night.open_at(datetime(2026, 11, 1, 7, 30, tzinfo=UTC))
    assert night.open_at(datetime(2026, 11, 1, 8, 30, tzinfo=UTC))


WITHIN_HOURS_ROWS = [
    # start (Denver), minutes -> inside the hours of one open day?
    (datetime(2026, 11, 30, 8, 0), 30, True),
    (datetime(2026, 11, 30, 16, 30), 30, True),  # ends at closing time
    (datetime(2026, 11, 30, 16, 45), 30, False),  # runs past closing time
    (datetime(2026, 11, 30, 7, 45), 30, False),  # starts before opening
    (datetime(2026, 11, 26, 10, 0), 30, False),  # Thanksgiving
]


@pytest.mark.parametrize(("start", "minutes", "inside"), WITHIN_HOURS_ROWS)
def test_a_visit_is_within_hours_when_it_starts_and_ends_inside_them(start, minutes, inside):
    start = start.replace(tzinfo=DENVER)

    assert CLINIC.within_hours(start, start + timedelta(minutes=minutes)) is inside


@pytest.mark.parametrize(
    "changes",
    [{"open_weekdays": set()}, {"open_weekdays": {7}}, {"opens_at": time(17), "closes_at": time(8)}],
)
def test_a_calendar_that_cannot_work_is_refused_in_words(changes):
    with pytest.raises(CalendarError) as caught:
        ClinicCalendar(tz=DENVER, **changes)

    assert str(caught.value).endswith(".")


def test_naive_instants_are_a_programming_error():
    with pytest.raises(ValueError, match="aware"):
        CLINIC.open_at(datetime(2026, 11, 30, 10))


# --- the refill-due date follows the calendar --------------------------------------------

REFILL_DUE_ROWS = [
    # alarm (Denver), expected refill due
    # Alarm Thu 3 Dec - 7 days = Thu 26 Nov, Thanksgiving: the Wednesday before.
    (datetime(2026, 12, 3, 10, tzinfo=DENVER), date(2026, 11, 25)),
    # Alarm Sat 5 Dec - 7 = Sat 28 Nov: back past Fri and Thu (closed) to Wed 25 Nov.
    (datetime(2026, 12, 5, 10, tzinfo=DENVER), date(2026, 11, 25)),
    # Alarm Mon 7 Dec - 7 = Mon 30 Nov, open: unchanged.
    (datetime(2026, 12, 7, 10, tzinfo=DENVER), date(2026, 11, 30)),
    # Alarm 03:00 UTC Fri 1 Jan 2027 is 20:00 MST Thu 31 Dec; - 7 = Thu 24 Dec, open.
    (datetime(2027, 1, 1, 3, tzinfo=UTC), date(2026, 12, 24)),
    # Alarm Fri 1 Jan 2027 10:00 MST - 7 = Fri 25 Dec, Christmas: Thu 24 Dec.
    (datetime(2027, 1, 1, 10, tzinfo=DENVER), date(2026, 12, 24)),
]


@pytest.mark.parametrize(("alarm_at", "expected"), REFILL_DUE_ROWS)
def test_a_refill_due_date_on_a_closed_day_moves_to_the_open_day_before(alarm_at, expected):
    last_refill = datetime(2026, 9, 1, 10, tzinfo=DENVER)

    due = refill_due(alarm_at=alarm_at, last_refill_at=last_refill, tz=DENVER, calendar=CLINIC)

    assert due == expected


def test_the_180_day_cap_moves_too():
    # 1 Jun 2026 + 180 days = Sat 28 Nov 2026 (the alarm is much later): Wed 25 Nov.
    due = refill_due(
        alarm_at=datetime(2027, 6, 1, tzinfo=UTC),
        last_refill_at=datetime(2026, 6, 1, 10, tzinfo=DENVER),
        tz=DENVER,
        calendar=CLINIC,
    )

    assert due == date(2026, 11, 25)


@given(
    day=st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)),
    open_weekdays=st.sets(st.integers(0, 6), min_size=1),
    closed=st.sets(st.dates(min_value=date(2019, 12, 1), max_value=date(2035, 12, 31)), max_size=40),
)
def test_the_moved_day_is_the_latest_open_day_not_after_the_given_one(day, open_weekdays, closed):
    calendar = ClinicCalendar(tz=DENVER, open_weekdays=open_weekdays, closed_dates=frozenset(closed))

    moved = calendar.open_day_on_or_before(day)

    assert moved <= day
    assert calendar.is_open(moved)
    assert not any(calendar.is_open(moved + timedelta(days=n)) for n in range(1, (day - moved).days + 1))


def test_a_clinic_open_round_the_clock_is_open_across_midnight_between_open_days():
    tz = ZoneInfo("America/Denver")
    always = ClinicCalendar(tz=tz, open_weekdays=range(7), opens_at=time(0), closes_at=time.max)
    late = datetime(2026, 12, 1, 23, 45, tzinfo=tz)
    assert always.within_hours(late, late + timedelta(minutes=30))
    holiday = ClinicCalendar(
        tz=tz, open_weekdays=range(7), opens_at=time(0), closes_at=time.max, closed_dates={date(2026, 12, 2)}
    )
    assert not holiday.within_hours(late, late + timedelta(minutes=30))
    usual = ClinicCalendar(tz=tz, open_weekdays=range(7), opens_at=time(8), closes_at=time(17))
    assert not usual.within_hours(late, late + timedelta(minutes=30))

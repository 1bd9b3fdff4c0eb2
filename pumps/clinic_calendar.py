"""The clinic's calendar: open weekdays, opening hours and closed dates (holidays).

Pure: no Django import, no clock read (``instant`` is a parameter). Conventions:

* Days are calendar dates in the clinic's time zone; an instant is converted to
  that zone (with the daylight-saving offset of that instant) before it is read.
* Opening hours are wall-clock times, the same on every open day; a visit is
  within hours when it starts at or after ``opens_at`` and ends by
  ``closes_at`` on the same open day (or, for a clinic open round the clock,
  on the next day when that day is open too).
* A refill-due date that falls on a closed day moves to the open day before it
  (docs/rules.md#refill-due): earlier, never later.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo

WEEKDAYS = range(7)  # Monday = 0, as date.weekday()


class CalendarError(ValueError):
    """A calendar that cannot work; the message is a sentence for a clinic admin."""


@dataclass(frozen=True)
class ClinicCalendar:
    tz: tzinfo
    open_weekdays: frozenset[int] = frozenset(range(5))
    opens_at: time = time(8)
    closes_at: time = time(17)
    closed_dates: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        object.__setattr__(self, "open_weekdays", frozenset(self.open_weekdays))
        object.__setattr__(self, "closed_dates", frozenset(self.closed_dates))
        if not self.open_weekdays or not self.open_weekdays <= set(WEEKDAYS):
            raise CalendarError("Choose at least one day of the week when the clinic is open.")
        if not self.opens_at < self.closes_at:
            raise CalendarError("The clinic must open before it closes.")

    @property
    def round_the_clock(self) -> bool:
        return self.opens_at == time(0) and self.closes_at == time.max

    def is_open(self, day: date) -> bool:
        """True on an open weekday that is not a closed date."""
        return day.weekday() in self.open_weekdays and day not in self.closed_dates

    def open_day_on_or_before(self, day: date) -> date:
        """``day`` itself when the clinic is open then, else the open day before it."""
        # Each step back passes a closed date or a closed weekday; there are finitely
        # many closed dates and at least one open weekday, so this ends.
        for _ in range(len(self.closed_dates) + 8):
            if self.is_open(day):
                return day
            day -= timedelta(days=1)
        raise AssertionError("unreachable: an open weekday comes within a week")

    def open_at(self, instant: datetime) -> bool:
        """True when the clinic is open at ``instant`` (an aware datetime)."""
        return self.within_hours(instant, instant)

    def within_hours(self, start: datetime, end: datetime) -> bool:
        """True when ``start`` to ``end`` lies inside the opening hours of one open day."""
        if start.utcoffset() is None or end.utcoffset() is None:
            raise ValueError("start and end must be aware datetimes")
        local_start, local_end = start.astimezone(self.tz), end.astimezone(self.tz)
        if local_end.date() == local_start.date() + timedelta(days=1) and self.round_the_clock:
            # A clinic open 00:00-24:00 is open across midnight between two open days.
            return self.is_open(local_start.date()) and self.is_open(local_end.date())
        return (
            self.is_open(local_start.date())
            and local_end.date() == local_start.date()
            and self.opens_at <= local_start.time()
            and local_end.time() <= self.closes_at
            and (local_start.time() < self.closes_at)
        )

    def _period(self, day: date) -> tuple[datetime, datetime]:
        """One open day's hours as UTC instants (a clinic open to 24:00 closes at midnight)."""
        start = datetime.combine(day, self.opens_at, tzinfo=self.tz)
        if self.closes_at == time.max:
            end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=self.tz)
        else:
            end = datetime.combine(day, self.closes_at, tzinfo=self.tz)
        return start.astimezone(UTC), end.astimezone(UTC)

    def open_period(self, instant: datetime) -> tuple[datetime, datetime]:
        """The opening hours ``instant`` falls in, from ``instant`` on, or else the next opening
        hours after it: (start, end) as UTC instants."""
        if instant.utcoffset() is None:
            raise ValueError("instant must be an aware datetime")
        instant = instant.astimezone(UTC)
        day = instant.astimezone(self.tz).date() - timedelta(days=1)  # open to 24:00 spans midnight
        for _ in range(len(self.closed_dates) + 10):
            if self.is_open(day):
                start, end = self._period(day)
                if end > instant:
                    return max(start, instant), end
            day += timedelta(days=1)
        raise AssertionError("unreachable: an open weekday comes within a week")

    def open_periods(self, since: datetime, *, days: int) -> list[tuple[datetime, datetime]]:
        """The opening hours from ``since`` for the next ``days`` days, in order."""
        periods, until = [], since.astimezone(UTC) + timedelta(days=days)
        start, end = self.open_period(since)
        while start < until:
            periods.append((start, end))
            start, end = self.open_period(end)
        return periods

    def after_open_time(self, since: datetime, wait: timedelta) -> datetime:
        """The instant at which the clinic has been open for ``wait`` since ``since``: the clock
        runs only while the clinic is open, and starts at the next opening when it is closed."""
        left = wait
        start, end = self.open_period(since)
        while start + left > end:
            left -= end - start
            start, end = self.open_period(end)
        return start + left

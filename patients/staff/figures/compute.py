"""The clinic's safety figures, month by month, as pure functions (no Django import; `now` and
the clinic's time zone are parameters). Each figure's HOW text is shown on the page under it.

Months are calendar months in the clinic's time zone; an event belongs to the month of its
local date.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

UNDELIVERED = {"undelivered", "failed"}
RUNGS = ("text", "text_next", "call", "call_list")
DAY = Decimal(86400)

HOW = {
    "refills": "Refill visits recorded (first fills after implant and dose changes without a refill "
    "are not counted), by the month of the visit.",
    "margin": "Days to spare: for each refill, the alarm date in force just before it minus the "
    "moment of the refill, in days (negative when the refill came after the alarm). The chart shows "
    "the middle value: half of the month's refills had fewer days to spare. The table adds the "
    "number of days that 1 in 10 refills had less than (the lowest tenth), and the fewest.",
    "after_due": "Refills on a clinic date later than the refill-due date of the pump's previous visit.",
    "alarms_passed": "Alarm dates (worst case) that passed before the next visit to that pump, or that "
    "have passed with no visit yet, by the month of the alarm; divided by the pump-months of the month "
    "(each pump in service counts the days of the month it was implanted and not explanted, over the "
    "days of the month; the current month counts up to today) and multiplied by 100.",
    "texts": "Texts about the clinic's children sent to families (reminders and ladder texts; replies "
    "and number-check codes excluded) whose final status from Twilio is "
    "undelivered or failed, out of all texts sent that month.",
    "ack": "For critical concerns that began in the month and that a nurse acknowledged: the middle "
    "time from the concern's start to the acknowledgement (half were acknowledged sooner), in hours. "
    "Concerns not acknowledged are counted apart.",
    "ladder": "Ladder steps taken in the month: texts asking for an answer, texts to the next "
    "caregiver, phone calls, and children put on the nurses' call list (a child on the list two "
    "days counts twice).",
}


@dataclass(frozen=True)
class Visit:
    """One visit of one pump, with the worst-case alarm and the refill-due date it set."""

    pump_id: int
    at: datetime
    kind: str
    alarm_at: datetime
    refill_due: date
    pump_in_service: bool = True  # an explanted pump's last alarm date no longer counts


@dataclass(frozen=True)
class PumpSpan:
    implant: date
    explant: date | None = None


@dataclass(frozen=True)
class CriticalConcern:
    began_at: datetime
    acknowledged_at: datetime | None


@dataclass
class Month:
    start: date
    refills: int = 0
    margins: list[Decimal] = field(default_factory=list)
    after_due: int = 0
    alarms_passed: int = 0
    pump_months: Decimal = Decimal(0)
    texts_sent: int = 0
    texts_undelivered: int = 0
    ack_hours: list[Decimal] = field(default_factory=list)
    not_acknowledged: int = 0
    ladder: dict[str, int] = field(default_factory=lambda: dict.fromkeys(RUNGS, 0))

    @property
    def margin_median(self) -> Decimal | None:
        return _one_decimal(statistics.median(self.margins)) if self.margins else None

    @property
    def margin_p10(self) -> Decimal | None:
        return nearest_rank(self.margins, 10)

    @property
    def margin_min(self) -> Decimal | None:
        return min(self.margins) if self.margins else None

    @property
    def alarms_per_100(self) -> Decimal | None:
        if not self.pump_months:
            return None
        return _one_decimal(Decimal(self.alarms_passed) * 100 / self.pump_months)

    @property
    def ack_median_hours(self) -> Decimal | None:
        return _one_decimal(statistics.median(self.ack_hours)) if self.ack_hours else None


def _one_decimal(value) -> Decimal:
    return Decimal(value).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def nearest_rank(values: list[Decimal], percent: int) -> Decimal | None:
    """The value at rank ⌈percent/100 × n⌉ (1-based) of the sorted values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(percent / 100 * len(ordered)), 1) - 1]


def month_starts(*, today: date, count: int = 12) -> list[date]:
    """The first days of the last `count` months, oldest first, ending with this month."""
    starts, year, month = [], today.year, today.month
    for _ in range(count):
        starts.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return starts[::-1]


def _next_month(start: date) -> date:
    return date(start.year + start.month // 12, start.month % 12 + 1, 1)


def compute(
    *,
    months: list[date],
    tz: ZoneInfo,
    now: datetime,
    visits: list[Visit],
    pumps: list[PumpSpan],
    texts: list[tuple[datetime, str]],
    criticals: list[CriticalConcern],
    ladder_steps: list[tuple[datetime, str]],
) -> list[Month]:
    """Every figure for every month in `months` (first days, oldest first)."""
    table = {start: Month(start=start) for start in months}

    def month_of(moment: datetime) -> Month | None:
        day = moment.astimezone(tz).date()
        return table.get(date(day.year, day.month, 1))

    _visits(visits, month_of, now, tz)
    today = now.astimezone(tz).date()
    for row in table.values():
        row.pump_months = pump_months(pumps, start=row.start, today=today)
    for at, status in texts:
        if row := month_of(at):
            row.texts_sent += 1
            row.texts_undelivered += status in UNDELIVERED
    for concern in criticals:
        if row := month_of(concern.began_at):
            if concern.acknowledged_at is None:
                row.not_acknowledged += 1
            else:
                hours = Decimal((concern.acknowledged_at - concern.began_at).total_seconds()) / 3600
                row.ack_hours.append(hours)
    for at, rung in ladder_steps:
        if (row := month_of(at)) and rung in row.ladder:
            row.ladder[rung] += 1
    return [table[start] for start in months]


def _visits(visits: list[Visit], month_of, now: datetime, tz: ZoneInfo) -> None:
    by_pump: dict[int, list[Visit]] = {}
    for visit in sorted(visits, key=lambda v: (v.pump_id, v.at)):
        by_pump.setdefault(visit.pump_id, []).append(visit)
    for history in by_pump.values():
        for before, visit in zip(history, history[1:], strict=False):
            if visit.at > before.alarm_at and (row := month_of(before.alarm_at)):
                row.alarms_passed += 1
            if visit.kind != "refill" or not (row := month_of(visit.at)):
                continue
            row.refills += 1
            row.margins.append(_one_decimal(Decimal((before.alarm_at - visit.at).total_seconds()) / DAY))
            row.after_due += visit.at.astimezone(tz).date() > before.refill_due
        last = history[-1]
        if last.pump_in_service and last.alarm_at <= now and (row := month_of(last.alarm_at)):
            row.alarms_passed += 1


def pump_months(pumps: list[PumpSpan], *, start: date, today: date) -> Decimal:
    """Days each pump was in service in the month, over the days of the month (up to today)."""
    end = min(_next_month(start), today + timedelta(days=1))
    if end <= start:
        return Decimal(0)
    days_in_month = (_next_month(start) - start).days
    total = 0
    for pump in pumps:
        first = max(pump.implant, start)
        last = min(pump.explant or end, end)
        total += max((last - first).days, 0)
    return Decimal(total) / days_in_month

"""The escalation ladder's timing, as pure functions (no Django import; `now` is a parameter).

The rungs, in order, each recorded on the child's concern (alerts/ladder.py does the I/O):
  text       a text to the first caregiver who can receive texts, asking for an answer (1 or 2);
  text_next  no answer within the wait: a text to the next caregiver who can receive texts;
  call       still no answer: a phone call that speaks the message, pressing 1 confirms;
  call_list  still nothing: the child is on the nurses' call list for the day (again each day).
A rung whose recipient does not exist (nobody can receive texts, only one caregiver, nobody has a
number) is passed over. The ladder stops when a refill is booked (the concern resolves) or a
caregiver answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from pumps.clinic_calendar import ClinicCalendar

RUNGS = ("text", "text_next", "call", "call_list")
SHORTEST_WAIT = timedelta(hours=1)
# The share of the time left before the alarm that the family is given to answer a rung.
WAIT_SHARE_OF_TIME_LEFT = 4


def answer_wait(*, base: timedelta, since: datetime, alarm_at: datetime | None) -> timedelta:
    """How long a rung waits for an answer: the clinic's setting, shorter as the alarm nears
    (a quarter of the time left), never under an hour. Without an alarm date: the setting."""
    if alarm_at is None:
        return base
    share = (alarm_at - since) / WAIT_SHARE_OF_TIME_LEFT
    return max(SHORTEST_WAIT, min(base, share))


@dataclass(frozen=True)
class Climbed:
    """A rung already taken: which, and when."""

    rung: str
    at: datetime


@dataclass(frozen=True)
class Reachable:
    """Who the ladder can reach: caregivers who can receive texts, and who have a number to call."""

    textable: int
    callable: int


def next_rung(
    *, climbed: list[Climbed], reachable: Reachable, now: datetime, wait: timedelta, today: date, list_day
) -> str | None:
    """The rung due now, or None. `wait` is answer_wait() from the last rung taken; `list_day`
    the day of the latest call_list rung (the child goes back on the list each new day)."""
    if climbed and climbed[-1].rung == "call_list":
        return "call_list" if list_day is not None and list_day < today else None
    if climbed and now < climbed[-1].at + wait:
        return None
    start = RUNGS.index(climbed[-1].rung) + 1 if climbed else 0
    for rung in RUNGS[start:]:
        if _possible(rung, reachable, climbed):
            return rung
    return "call_list"


def _possible(rung: str, reachable: Reachable, climbed: list[Climbed]) -> bool:
    if rung == "text":
        return reachable.textable >= 1
    if rung == "text_next":
        # The next caregiver: a second one if the first text went to someone; the first otherwise.
        texted = sum(c.rung in ("text", "text_next") for c in climbed)
        return reachable.textable > texted
    if rung == "call":
        return reachable.callable >= 1
    return True


def signs_ack_due(*, reported_at: datetime, minutes: int, calendar: ClinicCalendar) -> datetime:
    """When a report of warning signs not yet acknowledged by a nurse goes on the call list (and
    the nurse inbox is told again): after the clinic's minutes of open-clinic time. A report made
    while the clinic is closed waits for the opening; its clock starts then."""
    return calendar.after_open_time(reported_at, timedelta(minutes=minutes))

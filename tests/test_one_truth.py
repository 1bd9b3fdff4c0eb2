"""One child on every surface, one set of dates and words (issue 20, point 1: "One truth").

The same child is read where people meet it: the nurses' worklist row and chart, the family's home
card and child page (HTTP pages, by URL name), the after-visit summary (the HTML its PDF is
rendered from), the family's calendar feed (.ics) and the planned texts. Every surface must show
the governing dates and the concerns the stored assessment found (pumps/safety.py), none its own.

The clinic is closed at weekends; in cases (a) and (b) the governing refill-due date falls on
Sunday 29 March 2026 and moves to Friday 27 March, and the governing alarm date is Sunday 5 April.
Time is pinned (time-machine): the suite runs at three clocks and never at the real date.
"""

import re
from datetime import date, datetime, time
from decimal import Decimal
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from alerts.concerns import concerns_refresh
from alerts.models import Reminder
from alerts.planning import reminders_replan
from alerts.sending import message_for
from pumps.documents import SUMMARY_TEMPLATE, visit_summary_context
from pumps.pdf import render_html
from tests.factories import (
    AppointmentFactory,
    CaregiverLinkFactory,
    ClinicFactory,
    PatientFactory,
    PumpFactory,
    StaffFactory,
    refill,
)
from tests.helpers import login_as

pytestmark = pytest.mark.django_db

DENVER = ZoneInfo("America/Denver")
FRIDAY = date(2026, 3, 27)  # the governing refill-due date: the open day before...
SUNDAY = date(2026, 3, 29)  # ...the Sunday the arithmetic alone gives
ALARM = date(2026, 4, 5)  # the governing alarm date (a Sunday)
NOW = datetime(2026, 3, 10, 9, 0, tzinfo=DENVER)


def at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=DENVER)


# --- How each surface writes a date -------------------------------------------------------------


def worklist_day(day: date) -> str:  # "27 Mar 2026"
    return f"{day.day} {day:%b %Y}"


def chart_day(day: date) -> str:  # "Fri 27 Mar 2026"
    return f"{day:%a} {day.day} {day:%b %Y}"


def family_day(day: date) -> str:  # "Friday, March 27, 2026" (the family pages and the summary)
    return f"{day:%A, %B} {day.day}, {day.year}"


def text_day(day: date) -> str:  # "Fri Mar 27"
    return f"{day:%a %b} {day.day}"


# --- Reading the surfaces -----------------------------------------------------------------------


def plain(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def flags(html: str) -> set[tuple[str, str, str]]:
    """(kind, tier, nurse's words) of each concern listed, the worklist's markup."""
    found = re.findall(r'<li class="flag flag-([a-z_]+) tier-([a-z]+)">(.*?)</li>', html, re.S)
    return {(kind, tier, plain(words).strip()) for kind, tier, words in found}


def worklist_row(html: str, child) -> str:
    chart = reverse("staff:chart", args=[child.pk])
    [row] = [r for r in re.findall(r"<tr[ >].*?</tr>", html, re.S) if f'href="{chart}"' in r]
    return row


def surfaces(child, visit, nurse, parent) -> dict:
    """Everything each surface says about the child, read now (the pinned clock)."""
    staff = login_as(Client(), nurse)
    family = login_as(Client(), parent)
    worklist = staff.get(reverse("staff:worklist"))
    chart = staff.get(reverse("staff:chart", args=[child.pk]))
    home = family.get(reverse("family:home"))
    page = family.get(reverse("family:child", args=[child.pk]))
    feed = family.get(reverse("family:calendar", args=[parent.caregiver.calendar_token]))
    for response in (worklist, chart, home, page, feed):
        assert response.status_code == 200
    events = {str(e["uid"]).split("-patient")[0]: e for e in Calendar.from_ical(feed.content).walk("VEVENT")}
    summary = render_html(
        template=SUMMARY_TEMPLATE, context=visit_summary_context(visit), language="en", title="t"
    )
    reminders_replan(patient=child, now=timezone.now())
    texts = [
        (r.kind, r.target_date, message_for(r))
        for r in Reminder.objects.filter(patient=child, status=Reminder.Status.PLANNED).select_related(
            "patient__clinic", "caregiver__user", "appointment"
        )
    ]
    return {
        "worklist": worklist_row(worklist.content.decode(), child),
        "chart": chart.content.decode(),
        "home": home.content.decode(),
        "child": page.content.decode(),
        "summary": plain(summary),
        "ics": {kind: event.decoded("dtstart") for kind, event in events.items()},
        "texts": texts,
    }


def disagreements(seen: dict, *, refill_due: date, alarm: date, never: tuple[date, ...] = ()) -> list[str]:
    """Where a surface does not show the governing refill-due and alarm dates, or shows a date
    in `never` (all of them, so that a failure names every surface that disagrees)."""
    row, chart = seen["worklist"], seen["chart"]
    texts = seen["texts"]
    due_texts = [(target, body) for kind, target, body in texts if kind == "refill_due"]
    alarm_texts = [(target, body) for kind, target, body in texts if kind == "alarm"]
    checks = {
        "worklist: refill due": worklist_day(refill_due) in row,
        "worklist: alarm": worklist_day(alarm) in row,
        "chart: refill due": bool(
            re.search(rf"Refill due</dt>\s*<dd[^>]*><strong>{chart_day(refill_due)}</strong>", chart)
        ),
        "chart: alarm": bool(re.search(rf"<strong>{chart_day(alarm)}[,<]", chart)),  # the one in bold
        "summary: refill due": f"Refill due by {family_day(refill_due)}" in seen["summary"],
        "summary: alarm": f"New pump alarm date {family_day(alarm)}" in seen["summary"],
        "calendar feed: refill due": seen["ics"].get("refill-due") == refill_due,
        "calendar feed: alarm": seen["ics"].get("alarm") == alarm,
        "texts: refill due": bool(due_texts)
        and all(target == refill_due and text_day(refill_due) in body for target, body in due_texts),
        "texts: alarm": bool(alarm_texts)
        and all(target == alarm and text_day(alarm) in body for target, body in alarm_texts),
    }
    for name in ("home", "child"):
        checks[f"{name}: refill due"] = family_day(refill_due) in plain(seen[name])
        checks[f"{name}: alarm"] = family_day(alarm) in plain(seen[name])
    for day in never:
        checks[f"worklist never {day}"] = worklist_day(day) not in row
        checks[f"chart never {day}"] = chart_day(day) not in chart
        for name in ("home", "child", "summary"):
            checks[f"{name} never {day}"] = family_day(day) not in plain(seen[name])
        checks[f"calendar feed never {day}"] = day not in seen["ics"].values()
        checks[f"texts never {day}"] = all(target != day for _, target, _ in texts)
    return [name for name, ok in checks.items() if not ok]


def assert_one_set_of_words(seen: dict) -> set:
    """The chart lists the open concerns in the worklist's words, and the family's two pages
    say the same headline."""
    on_worklist = flags(seen["worklist"])
    assert flags(seen["chart"]) == on_worklist
    headline = re.findall(r'<div class="urgency-band" role="status">(.*?)</div>', seen["home"], re.S)
    assert headline and headline == re.findall(
        r'<div class="urgency-band" role="status">(.*?)</div>', seen["child"], re.S
    )
    return on_worklist


@pytest.fixture
def family(time_machine):
    """A nurse, a child with a pump and a parent who receives texts, at a clinic closed at
    weekends, made at the pinned clock."""
    time_machine.move_to(NOW, tick=False)
    clinic = ClinicFactory(
        name="Clinic A", open_weekdays=[0, 1, 2, 3, 4], opens_at=time(8), closes_at=time(17)
    )
    nurse = StaffFactory(clinic=clinic).user
    child = PatientFactory(clinic=clinic, first_name="Sofia")
    pump = PumpFactory(patient=child)
    parent = CaregiverLinkFactory(patient=child).caregiver.user
    return nurse, child, pump, parent


def test_a_refill_due_date_on_a_closed_day_is_the_open_day_before_on_every_surface(family):
    nurse, child, pump, parent = family
    # 19 mL at 0.3 mL a day, alarm at 2 mL: the alarm is Sunday 5 April; 7 days before is Sunday.
    visit = refill(pump, visit_at=at(date(2026, 2, 7)))
    assert timezone.localdate(visit.alarm_at_worst, DENVER) == ALARM
    assert visit.refill_due == FRIDAY

    seen = surfaces(child, visit, nurse, parent)

    wrong = disagreements(seen, refill_due=FRIDAY, alarm=ALARM, never=(SUNDAY,))
    assert not wrong, f"surfaces that disagree: {wrong}"
    assert_one_set_of_words(seen)


def test_an_earlier_printed_alarm_date_governs_every_surface(family, time_machine):
    nurse, child, pump, parent = family
    # Computed: alarm Sunday 12 April, refill due Friday 3 April. The printout says 5 April: it
    # governs, and the refill-due date moves with it to Sunday 29 March, so to Friday 27 March.
    visit = refill(pump, visit_at=at(date(2026, 2, 14)), printed_alarm_date=ALARM)
    computed_alarm, computed_due = date(2026, 4, 12), date(2026, 4, 3)
    assert timezone.localdate(visit.alarm_at_worst, DENVER) == computed_alarm
    assert visit.refill_due == computed_due
    # Booked for Wednesday 8 April: in time for the computed alarm, after the governing one.
    booked = AppointmentFactory(patient=child, start=at(date(2026, 4, 8), 10))

    seen = surfaces(child, visit, nurse, parent)

    wrong = disagreements(seen, refill_due=FRIDAY, alarm=ALARM, never=(SUNDAY, computed_due))
    assert not wrong, f"surfaces that disagree: {wrong}"
    words = assert_one_set_of_words(seen)
    assert {(k, t) for k, t, _ in words} >= {
        ("booked_after_alarm", "critical"),
        ("printed_differs", "urgent"),
    }
    assert "printed date governs" in seen["worklist"] and "printed date governs" in seen["chart"]
    [appointment] = re.findall(
        rf"<strong>{chart_day(booked.start.date())}, 10:00</strong>.*?</li>", seen["chart"], re.S
    )
    assert "after the alarm date" in appointment, "chart: the booking is after the governing alarm"
    assert "Call the clinic today" in plain(seen["home"])

    # The governing alarm date passes (the computed one has not): the pump may be beeping.
    time_machine.move_to(at(date(2026, 4, 6)), tick=False)
    concerns_refresh(patient=child)
    seen = surfaces(child, visit, nurse, parent)

    words = assert_one_set_of_words(seen)
    assert ("alarm_passed", "critical") in {(k, t) for k, t, _ in words}
    passed = '<span class="badge text-bg-danger">passed</span>'
    assert passed in seen["worklist"], "worklist: passed"
    assert passed in seen["chart"], "chart: passed"
    assert "Call the clinic today" in plain(seen["home"])
    assert seen["ics"]["alarm"] == ALARM


def test_a_growing_residual_difference_is_growing_on_the_worklist_and_the_chart(family):
    nurse, child, pump, parent = family
    for day, actual in ((date(2025, 11, 3), "4.3"), (date(2026, 1, 5), "4.6"), (date(2026, 3, 1), "4.9")):
        visit = refill(
            pump, visit_at=at(day), expected_residual_ml=Decimal(4), actual_residual_ml=Decimal(actual)
        )
    alarm = timezone.localdate(visit.alarm_at_worst, DENVER)
    assert (alarm, visit.refill_due) == (date(2026, 4, 27), date(2026, 4, 20))  # Mondays: open

    seen = surfaces(child, visit, nurse, parent)

    wrong = disagreements(seen, refill_due=visit.refill_due, alarm=alarm)
    assert not wrong, f"surfaces that disagree: {wrong}"
    said = re.search(r"Shaded: within ±2 mL\.(.*?)</p>", seen["chart"], re.S).group(1)
    assert "growing" in said and "Stable" not in said, "chart: the residual trend"
    words = assert_one_set_of_words(seen)
    [(_, tier, trend)] = [w for w in words if w[0] == "residual_trend"]
    assert tier == "attention" and "growing" in trend and "0.30, 0.60, 0.90 mL" in trend

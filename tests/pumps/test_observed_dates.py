"""The dates at the observed delivery rate: a table at the clinic calendar and the clock changes
(pure), then one child through the services to every date the surfaces read."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest
import time_machine

from pumps import delivery as dl
from pumps import forecast as fc
from pumps import safety as s
from pumps.clinic_calendar import ClinicCalendar

DENVER = ZoneInfo("America/Denver")
PROGRAM = fc.Program(concentration_mcg_ml=D(500), daily_dose_mcg=D(100))  # 0.2 mL a day


def dates_at(refill_local: datetime, ratio: str | None, *, calendar=None, printed=None) -> s.Dates:
    """A 20 mL fill at ``refill_local`` (Denver), the pump delivering ``ratio`` of its program
    over one earlier interval, read as the assessment reads it."""
    fill = fc.Fill(refill_at=refill_local, volume_ml=D(20), capacity_ml=D(20))
    programmed = fc.forecast(PROGRAM, fill)
    found = None
    if ratio is not None:
        found = dl.estimate([dl.Reading(at=refill_local, programmed_ml=D(16), delivered_ml=D(16) * D(ratio))])
    observed = dl.observed_forecast(PROGRAM, fill, found)
    due = fc.refill_due(
        alarm_at=programmed.alarm_at_worst, last_refill_at=refill_local, tz=DENVER, calendar=calendar
    )
    facts = s.Facts(
        tz=DENVER,
        calendar=calendar,
        latest=s.Visit(
            visit_id=1,
            at=refill_local,
            alarm_at=programmed.alarm_at_worst,
            refill_due=due,
            printed_alarm_date=printed,
            observed_alarm_at=observed.alarm_at if observed else None,
        ),
    )
    return s.governing_dates(facts)


WEEKDAYS = ClinicCalendar(tz=DENVER)  # Monday to Friday


@pytest.mark.parametrize(
    ("refill", "ratio", "calendar", "printed", "alarm_day", "refill_due", "source"),
    [
        # 18 mL to the alarm: 90 days programmed, 80.36 days at 112 %. From 10:00 MST on Mon 5 Jan,
        # across the spring change: 90 days is Sun 5 Apr 11:00 MDT; 80 d 8 h 34 min is Thu 26 Mar
        # 19:34 MDT (01:34 UTC on the 27th). The refill-due date follows the observed date: Thu 19 Mar.
        (datetime(2026, 1, 5, 10, tzinfo=DENVER), "1.12", None, None, date(2026, 3, 26), date(2026, 3, 19), "observed"),  # noqa: E501
        # The same with 19 March a closed day: the open day before it.
        (datetime(2026, 1, 5, 10, tzinfo=DENVER), "1.12", replace(WEEKDAYS, closed_dates=frozenset({date(2026, 3, 19)})), None, date(2026, 3, 26), date(2026, 3, 18), "observed"),  # noqa: E501
        # Across the autumn change: from 10:00 MDT on Tue 1 Sep, 80 d 8 h 34 min is Fri 20 Nov
        # 17:34 MST (00:34 UTC on the 21st: the local day, not the UTC one). Due Fri 13 Nov.
        (datetime(2026, 9, 1, 10, tzinfo=DENVER), "1.12", WEEKDAYS, None, date(2026, 11, 20), date(2026, 11, 13), "observed"),  # noqa: E501
        # 125 %: 72 days from Mon 5 Jan 10:00 MST is Wed 18 Mar 11:00 MDT; due Wed 11 Mar.
        (datetime(2026, 1, 5, 10, tzinfo=DENVER), "1.25", WEEKDAYS, None, date(2026, 3, 18), date(2026, 3, 11), "observed"),  # noqa: E501
        # A due date on a weekend moves to the Friday: 112 % from Thu 8 Jan 10:00 MST is Sun 29 Mar
        # 19:34 MDT; alarm - 7 is Sun 22 Mar, so Fri 20 Mar.
        (datetime(2026, 1, 8, 10, tzinfo=DENVER), "1.12", WEEKDAYS, None, date(2026, 3, 29), date(2026, 3, 20), "observed"),  # noqa: E501
        # Delivering as programmed, or less: the programmed date stands (Sun 5 Apr; due Sun 29 Mar,
        # the Friday before on the weekday calendar).
        (datetime(2026, 1, 5, 10, tzinfo=DENVER), "1.00", WEEKDAYS, None, date(2026, 4, 5), date(2026, 3, 27), "programmed"),  # noqa: E501
        (datetime(2026, 1, 5, 10, tzinfo=DENVER), "0.80", WEEKDAYS, None, date(2026, 4, 5), date(2026, 3, 27), "programmed"),  # noqa: E501
        (datetime(2026, 1, 5, 10, tzinfo=DENVER), None, WEEKDAYS, None, date(2026, 4, 5), date(2026, 3, 27), "programmed"),  # noqa: E501
        # A printed date earlier still governs: the earliest of the three.
        (datetime(2026, 1, 5, 10, tzinfo=DENVER), "1.12", WEEKDAYS, date(2026, 3, 20), date(2026, 3, 20), date(2026, 3, 13), "printed"),  # noqa: E501
        # A printed date between the observed and the programmed ones: the observed one governs.
        (datetime(2026, 1, 5, 10, tzinfo=DENVER), "1.12", WEEKDAYS, date(2026, 4, 1), date(2026, 3, 26), date(2026, 3, 19), "observed"),  # noqa: E501
    ],
)  # fmt: skip
def test_observed_dates_at_the_clinic_calendar_and_the_clock_changes(
    refill, ratio, calendar, printed, alarm_day, refill_due, source
):
    dates = dates_at(refill, ratio, calendar=calendar, printed=printed)
    assert (dates.alarm_day, dates.refill_due, dates.source) == (alarm_day, refill_due, source)


def test_the_observed_earlier_concern_needs_more_than_the_lead_days():
    """7 days earlier is not more than the 7 lead days; 8 is."""
    refill = datetime(2026, 1, 5, 10, tzinfo=DENVER)
    fill = fc.Fill(refill_at=refill, volume_ml=D(20), capacity_ml=D(20))
    programmed = fc.forecast(PROGRAM, fill).alarm_at_worst
    now = datetime(2026, 1, 10, 17, tzinfo=UTC)

    def kinds(days_earlier: float) -> set:
        latest = s.Visit(
            visit_id=1,
            at=refill,
            alarm_at=programmed,
            refill_due=date(2026, 3, 27),
            observed_alarm_at=programmed - timedelta(days=days_earlier),
            delivery_ratio=D("1.09"),
            delivery_fills=2,
        )
        facts = s.Facts(tz=DENVER, pump_id=1, latest=latest, refills=(s.Refill(visit_id=1, at=refill),))
        return {c.kind for c in s.assess(facts, now=now).concerns}

    assert s.Kind.OBSERVED_EARLIER not in kinds(7)
    assert s.Kind.OBSERVED_EARLIER in kinds(8)


# --- Through the services ------------------------------------------------------------------------

SIMPLE = {"concentration_mcg_ml": D(500), "mode": "simple", "daily_dose_mcg": D(100)}


@pytest.mark.django_db
def test_a_pump_delivering_more_moves_every_date_the_surfaces_read(clinic, nurse):
    from alerts.models import ChildSafety
    from appointments.services import governing_alarm_at
    from pumps.documents import visit_summary_context
    from pumps.services import refill_record
    from tests.factories import CaregiverLinkFactory, PatientFactory, PumpFactory

    first = datetime(2025, 11, 3, 10, tzinfo=DENVER)
    second = datetime(2026, 1, 5, 10, tzinfo=DENVER)  # 63 days later: 12.6 mL programmed
    with time_machine.travel(first, tick=False):
        child = PatientFactory(clinic=clinic, first_name="Rosa")
        CaregiverLinkFactory(patient=child)
        pump = PumpFactory(patient=child)
        refill_record(pump=pump, by=nurse, visit_at=first, volume_after_ml=D(20), program=SIMPLE)
    with time_machine.travel(second, tick=False):
        # 7.4 mL expected, 5.888 mL aspirated: 14.112 mL delivered of 12.6, 112 %.
        visit = refill_record(
            pump=pump,
            by=nurse,
            visit_at=second,
            volume_after_ml=D(20),
            program=SIMPLE,
            expected_residual_ml=D("7.40"),
            actual_residual_ml=D("5.89"),
        )
    visit.refresh_from_db()
    assert (visit.delivery_ratio, visit.delivery_fills) == (D("1.120"), 1)
    observed_day = visit.observed_alarm_at.astimezone(DENVER).date()
    assert observed_day == date(2026, 3, 26)
    assert visit.alarm_at_worst.astimezone(DENVER).date() == date(2026, 4, 5)
    state = ChildSafety.objects.get(patient=child)
    assert (state.alarm_day, state.refill_due, state.alarm_source) == (
        observed_day,
        date(2026, 3, 19),
        "observed",
    )
    assert governing_alarm_at(child) == visit.observed_alarm_at
    assert visit_summary_context(visit)["alarm_date"] == observed_day
    # 10 days earlier than programmed, more than the 7 lead days: the nurse is told.
    assert child.concerns.filter(kind="observed_earlier", resolved_at__isnull=True).exists()

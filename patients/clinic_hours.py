"""The clinic's calendar read from the database, and the number a family should call now.

The rules themselves are pure, in pumps/clinic_calendar.py; this module only reads a
clinic's rows into that calendar."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from patients.models import Clinic
from pumps.clinic_calendar import ClinicCalendar


def clinic_calendar(clinic: Clinic) -> ClinicCalendar:
    """The clinic's open weekdays, hours and closed dates (one query, for the closed dates)."""
    return ClinicCalendar(
        tz=clinic.tzinfo,
        open_weekdays=frozenset(clinic.open_weekdays),
        opens_at=clinic.opens_at,
        closes_at=clinic.closes_at,
        closed_dates=frozenset(clinic.closed_dates.values_list("day", flat=True)),
    )


@dataclass(frozen=True)
class CallNumber:
    """Whom a family should call at a given moment: the clinic while it is open, else the
    hospital operator (who pages the rehabilitation doctor on call), as the handout says."""

    number: str
    clinic_open: bool


def call_number(
    clinic: Clinic, *, now: datetime | None = None, calendar: ClinicCalendar | None = None
) -> CallNumber:
    calendar = calendar or clinic_calendar(clinic)
    if calendar.open_at(now or timezone.now()):
        return CallNumber(number=clinic.phone_business_hours, clinic_open=True)
    return CallNumber(number=clinic.phone_after_hours, clinic_open=False)


def hours_text(clinic: Clinic) -> str:
    """'Mon–Fri 08:00–17:00' style summary for staff messages (English: staff pages are English)."""
    names = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    days = sorted(set(clinic.open_weekdays))
    runs, start = [], None
    for i, day in enumerate(days):
        if start is None:
            start = day
        if i + 1 == len(days) or days[i + 1] != day + 1:
            runs.append(names[start] if start == day else f"{names[start]}–{names[day]}")
            start = None
    return f"{', '.join(runs)} {clinic.opens_at:%H:%M}–{clinic.closes_at:%H:%M}"


def appointments_outside_hours(clinic: Clinic, *, now: datetime | None = None) -> list:
    """The clinic's open upcoming appointments that fall on a closed day or outside hours."""
    from appointments.models import Appointment

    calendar = clinic_calendar(clinic)
    upcoming = (
        Appointment.objects.filter(patient__clinic=clinic)
        .upcoming(now=now or timezone.now())
        .select_related("patient")
    )
    return [a for a in upcoming if not calendar.within_hours(a.start, a.end)]

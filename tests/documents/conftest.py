"""A visit worth summarising: a dose change, a booked appointment, a nurse, a Spanish option."""

from datetime import datetime, timedelta
from decimal import Decimal
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from appointments.models import Appointment
from tests.factories import ProgramFactory, StaffFactory, refill

DENVER = ZoneInfo("America/Denver")


def pdf_text(data: bytes) -> str:
    """The PDF's text, with whitespace collapsed so a phrase broken across lines still matches."""
    reader = PdfReader(BytesIO(data))
    return " ".join(" ".join(page.extract_text() or "" for page in reader.pages).split())


@pytest.fixture
def dose_change_visit(child, clinic):
    """Sofia's refill on 2026-11-13 09:30: 300 -> 330 mcg/day, next refill booked."""
    nurse = StaffFactory(clinic=clinic, user__first_name="Rosa", user__last_name="Nurse").user
    pump = child.pumps.get()
    visit_at = datetime(2026, 11, 13, 9, 30, tzinfo=DENVER)
    program = ProgramFactory(pump=pump, effective_from=visit_at, daily_dose_mcg=Decimal(330))
    appointment = Appointment.objects.create(
        patient=child,
        kind=Appointment.Kind.REFILL,
        start=datetime(2027, 2, 3, 14, 30, tzinfo=DENVER),
        location="Rehabilitation Clinic, 2nd floor",
    )
    return refill(
        pump,
        visit_at=visit_at,
        program=program,
        nurse=nurse,
        pre_daily_dose_mcg=Decimal(300),
        pre_concentration_mcg_ml=Decimal(1000),
        dose_changed=True,
        dose_change_reason="tone",
        next_appointment=appointment,
    )


@pytest.fixture
def spanish_parent(parent):
    caregiver = parent.caregiver
    caregiver.preferred_language = "es"
    caregiver.save()
    return parent


def later(dt, days):
    return dt + timedelta(days=days)

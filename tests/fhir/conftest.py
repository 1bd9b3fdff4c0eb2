"""A child with every kind of record the FHIR export maps, at a pinned moment."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from alerts.concerns import concerns_refresh
from appointments.models import Appointment
from pumps.models import Document, Program
from tests.factories import (
    AppointmentFactory,
    CaregiverLinkFactory,
    PatientFactory,
    ProgramFactory,
    PumpFactory,
    refill,
)

NOW = datetime(2026, 6, 1, 16, 0, tzinfo=UTC)


@pytest.fixture
def pinned():
    with time_machine.travel(NOW, tick=False):
        yield NOW


@pytest.fixture
def full_child(pinned, clinic):
    """Two caregivers, an explanted and an active pump, a simple and a flex program (with a
    patient bolus), refills with residuals, a programming visit, appointments, summaries in two
    versions, and open concerns from the stored assessment (the last refill is long ago)."""
    patient = PatientFactory(clinic=clinic, first_name="Sofia", last_name="Reyes", mrn="MRN-77")
    CaregiverLinkFactory(patient=patient, relationship="mother", primary_contact=True)
    CaregiverLinkFactory(patient=patient, relationship="foster")
    old = PumpFactory(
        patient=patient, serial_number="OLD001", explant_date=pinned.date() - timedelta(days=400)
    )
    refill(old, visit_at=pinned - timedelta(days=500))
    pump = PumpFactory(
        patient=patient,
        serial_number="NGP123456",
        model="sm2_40",
        eri_date=pinned.date() - timedelta(days=10),
    )
    first = refill(
        pump,
        visit_at=pinned - timedelta(days=260),
        expected_residual_ml=Decimal("3.10"),
        actual_residual_ml=Decimal("2.95"),
        volume_instilled_ml=Decimal("37.00"),
        volume=Decimal(40),
        notes="Tolerated well.",
    )
    flex = ProgramFactory(
        pump=pump,
        effective_from=pinned - timedelta(days=250),
        mode=Program.Mode.FLEX,
        concentration_mcg_ml=Decimal(2000),
        daily_dose_mcg=Decimal("312.00"),
        flex_steps=[{"start": "07:00", "mcg_per_hour": "14.0"}, {"start": "21:00", "mcg_per_hour": "10.5"}],
        bolus_mcg=Decimal("25.00"),
        bolus_max_per_day=2,
        change_reason="More tone in the mornings.",
    )
    refill(pump, visit_at=pinned - timedelta(days=250), program=flex, kind="programming", volume=Decimal(38))
    for version in (1, 2):
        Document.objects.create(
            kind=Document.Kind.VISIT_SUMMARY,
            patient=patient,
            visit=first,
            language="en",
            version=version,
            file="documents/x.pdf",
            sha256="0" * 64,
            created_at=pinned - timedelta(days=260) + timedelta(hours=version),
        )
    AppointmentFactory(patient=patient, start=pinned + timedelta(days=3), status=Appointment.Status.CONFIRMED)
    AppointmentFactory(patient=patient, start=pinned - timedelta(days=30), status=Appointment.Status.NO_SHOW)
    concerns_refresh(patient=patient, now=timezone.now())
    return patient

"""factory_boy factories. Every child gets a pump, a program and a refill with a real forecast."""

from datetime import date, time, timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from alerts.concerns import concerns_refresh
from appointments.models import Appointment
from patients.models import Caregiver, CaregiverLink, Clinic, Patient, StaffProfile, User
from pumps.models import Program, Pump, RefillVisit
from pumps.services import visit_forecast

PASSWORD = "Correct-horse-battery-9"


class ClinicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Clinic

    name = factory.Sequence(lambda n: f"Clinic {n}")
    time_zone = "America/Denver"
    phone_business_hours = "801.213.3599"
    phone_after_hours = "801.662.1000"
    phone_nurse_line = "801.213.7694"
    default_location = "Rehabilitation Clinic"
    # Open every day, all day: tests that are not about the clinic's calendar book at any
    # time and keep the plain refill-due arithmetic. Calendar tests set these themselves.
    open_weekdays = factory.LazyFunction(lambda: list(range(7)))
    opens_at = time(0)
    closes_at = time.max


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    first_name = "Pat"
    last_name = factory.Sequence(lambda n: f"Person{n}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class StaffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StaffProfile

    user = factory.SubFactory(UserFactory)
    clinic = factory.SubFactory(ClinicFactory)
    role = StaffProfile.Role.NURSE


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    clinic = factory.SubFactory(ClinicFactory)
    first_name = factory.Sequence(lambda n: f"Child{n}")
    last_name = "Test"
    date_of_birth = date(2016, 5, 1)
    mrn = factory.Sequence(lambda n: f"MRN{n:05d}")


class CaregiverFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Caregiver

    user = factory.SubFactory(UserFactory)
    mobile = factory.Sequence(lambda n: f"+1801555{n % 10000:04d}")
    sms_consent = True
    sms_consent_at = factory.LazyFunction(timezone.now)


class CaregiverLinkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CaregiverLink

    caregiver = factory.SubFactory(CaregiverFactory)
    patient = factory.SubFactory(PatientFactory)
    relationship = "mother"
    primary_contact = True


class PumpFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Pump

    patient = factory.SubFactory(PatientFactory)
    model = "sm2_20"
    serial_number = factory.Sequence(lambda n: f"NGP{n:06d}")
    implant_date = date(2024, 1, 10)


class ProgramFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Program

    pump = factory.SubFactory(PumpFactory)
    effective_from = factory.LazyFunction(timezone.now)
    concentration_mcg_ml = Decimal(1000)
    daily_dose_mcg = Decimal(300)


def refill(
    pump: Pump, *, visit_at=None, volume=Decimal(19), program: Program | None = None, **extra
) -> RefillVisit:
    """A refill visit with its real forecast, as the console would save it."""
    visit_at = visit_at or timezone.now() - timedelta(days=10)
    program = program or ProgramFactory(pump=pump, effective_from=visit_at)
    fields = visit_forecast(pump=pump, program=program, visit_at=visit_at, volume_after_ml=volume)
    visit = RefillVisit.objects.create(
        pump=pump, program=program, visit_at=visit_at, volume_after_ml=volume, **fields, **extra
    )
    # Written directly, as the console's service would: assess the child as the service does.
    concerns_refresh(patient=pump.patient)
    return visit


class AppointmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Appointment

    patient = factory.SubFactory(PatientFactory)
    kind = Appointment.Kind.REFILL
    start = factory.LazyFunction(lambda: timezone.now() + timedelta(days=3))
    location = "Rehabilitation Clinic"

    @factory.post_generation
    def _assess(obj, create, extracted, **kwargs):
        if create:
            concerns_refresh(patient=obj.patient)

"""Demo data for `manage.py seed_demo`: one clinic, two nurses, six parents, twenty children
in the states a nurse must notice. Dates are placed relative to `now`, so the demo always
shows a child due this week, one whose alarm is in 3 days, one whose alarm has passed, etc."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from alerts.models import Reminder
from alerts.planning import reminders_replan_all
from appointments.models import Appointment
from patients.clinic_hours import clinic_calendar
from patients.demo import history as demo_history
from patients.models import Clinic, ClosedDate, Patient, StaffProfile
from patients.services import caregiver_create, caregiver_link, sms_consent_record, staff_create
from pumps.documents import visit_summary_store
from pumps.models import Program, Pump, PumpModel, RefillVisit
from pumps.services import visit_forecast

DEMO_PASSWORD = "Demo-pump-2026!"
# The demo nurses' authenticator key (base32 JBSWY3DPEHPK3PXP is this hex). Staff must pass a second
# step; `manage.py demo_code` prints the current code, or add the key to any authenticator app.
DEMO_TOTP_HEX = "48656c6c6f21deadbeef"
NURSES = [
    ("nurse.rosa@demo.itbportal.test", "Rosa", "Martinez"),
    ("nurse.ben@demo.itbportal.test", "Ben", "Okafor"),
]
PARENTS = [
    ("maria.garcia@demo.itbportal.test", "María", "García", "es", True),
    ("james.smith@demo.itbportal.test", "James", "Smith", "en", True),
    ("ana.lopez@demo.itbportal.test", "Ana", "López", "es", True),
    ("david.chen@demo.itbportal.test", "David", "Chen", "en", True),
    ("sarah.jones@demo.itbportal.test", "Sarah", "Jones", "en", False),
    ("tom.jones@demo.itbportal.test", "Tom", "Jones", "en", True),
]


@dataclass
class Child:
    first: str
    last: str
    age: int
    alarm_in_days: float  # worst-case alarm relative to now
    parents: tuple[int, ...] = ()
    dose: Decimal = Decimal(300)
    conc: Decimal = Decimal(1000)
    model: str = PumpModel.SYNCHROMED_II_20
    implant_years_ago: float = 2.0
    flex: list = field(default_factory=list)
    bolus: tuple[Decimal, int] = (Decimal(0), 0)
    appointment_in_days: float | None = None
    appointment_reason: str = ""
    eri_days_ago: int | None = None
    residual_off: Decimal = Decimal(0)
    previous_dose: Decimal | None = None
    goals: tuple[str, ...] = ("comfort", "easier_care")


CHILDREN = [
    Child("Sofia", "García", 9, 10.5, (0,), appointment_in_days=2),  # refill due this week, booked
    Child("Mateo", "García", 6, 12, (0,), dose=Decimal(200), appointment_in_days=4),  # 2nd child, same family
    # Alarm within 2 days, nothing booked: its alarm text is never held by quiet hours, so the
    # demo's first text goes out at any hour (see _first_text_now).
    Child("Liam", "Smith", 11, 1.5, (1,)),
    Child("Ava", "Chen", 8, -2, (3,)),  # alarm passed with no refill
    Child(
        "Noah",
        "Lopez",
        13,
        12,
        (2,),
        dose=Decimal(450),
        appointment_in_days=15,
        appointment_reason="Family travelling; nurse will call on the alarm date.",
    ),  # booked after alarm
    Child(
        "Emma",
        "Jones",
        10,
        40,
        (4, 5),
        flex=[("00:00", "10"), ("07:00", "14"), ("19:00", "11")],
        appointment_in_days=31,
    ),  # flex, two caregivers
    Child(
        "Lucas",
        "Smith",
        15,
        30,
        (1,),
        dose=Decimal(600),
        conc=Decimal(2000),
        bolus=(Decimal(50), 3),
        appointment_in_days=18,
    ),  # patient bolus
    Child("Mia", "Chen", 12, 55, (3,), implant_years_ago=6.7, appointment_in_days=45),  # battery window
    Child(
        "Elena", "Ruiz", 7, 20, (2,), eri_days_ago=10, implant_years_ago=5.5, appointment_in_days=11
    ),  # ERI reported
    # residual: 12 mL more left than expected, about a third of the programmed volume delivered
    Child("Oliver", "Brown", 14, 25, (1,), residual_off=Decimal("12.0"), appointment_in_days=15),
    Child(
        "Isabella", "Lee", 9, 35, (3,), dose=Decimal(360), previous_dose=Decimal(280), appointment_in_days=25
    ),  # dose change over 20%
    Child(
        "Ethan", "Nguyen", 5, 42.5, (5,), implant_years_ago=0.04, goals=("comfort", "sleep", "seating")
    ),  # implanted two weeks ago
    Child("Camila", "Torres", 11, 45, (2,), appointment_in_days=35),
    Child(
        "Benjamin",
        "Wright",
        16,
        40,
        (5,),
        dose=Decimal(700),
        model=PumpModel.SYNCHROMED_II_40,
        appointment_in_days=30,
    ),
    Child("Harper", "Hall", 8, 80, (4,), dose=Decimal(150), appointment_in_days=72),
    Child("Daniel", "King", 12, 16, (1,), appointment_in_days=9),
    Child("Valentina", "Diaz", 10, 28, (0,), appointment_in_days=18),
    Child(
        "Jack",
        "Scott",
        13,
        50,
        (3,),
        model=PumpModel.SYNCHROMED_II_40,
        dose=Decimal(500),
        appointment_in_days=40,
    ),
    Child("Lily", "Adams", 6, 90, (4,), dose=Decimal(120), appointment_in_days=80),
    Child("Samuel", "Baker", 14, 8.5, (5,), appointment_in_days=1),  # refill tomorrow
]


def _at_local(clinic: Clinic, day: date, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, 0)), clinic.tzinfo)


def _weekday(clinic: Clinic, day: date) -> date:
    """The clinic is closed at weekends and on holidays: move the day back to the open day before."""
    return clinic_calendar(clinic).open_day_on_or_before(day)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The n-th given weekday of a month (n = -1: the last one)."""
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _holidays(clinic: Clinic, today: date) -> None:
    """The clinic's usual closed days around today, so the calendar shows in the demo."""
    for year in (today.year - 1, today.year, today.year + 1):
        days = {
            date(year, 1, 1): "New Year's Day",
            _nth_weekday(year, 5, 0, -1): "Memorial Day",
            date(year, 7, 4): "Independence Day",
            _nth_weekday(year, 9, 0, 1): "Labor Day",
            _nth_weekday(year, 11, 3, 4): "Thanksgiving Day",
            date(year, 12, 25): "Christmas Day",
        }
        for day, name in days.items():
            ClosedDate.objects.get_or_create(clinic=clinic, day=day, defaults={"name": name})


def _place(pump: Pump, program: Program, alarm_target: datetime, volume: Decimal) -> datetime:
    """When a refill must happen for its worst-case alarm to land at `alarm_target` (10:00 local)."""
    probe_at = alarm_target - timedelta(days=365)
    probe = visit_forecast(pump=pump, program=program, visit_at=probe_at, volume_after_ml=volume)
    visit_at = alarm_target - (probe["alarm_at_worst"] - probe_at)
    # Refills happen in clinic hours: round to 10:00 local on that day.
    return _at_local(pump.patient.clinic, timezone.localtime(visit_at, pump.patient.clinic.tzinfo).date())


def _visit_for(pump: Pump, program: Program, alarm_target: datetime, volume: Decimal, **extra) -> RefillVisit:
    """Place a refill so that its worst-case alarm lands at `alarm_target`."""
    visit_at = _place(pump, program, alarm_target, volume)
    assert visit_at <= timezone.now(), "a demo refill must lie in the past"
    fields = visit_forecast(pump=pump, program=program, visit_at=visit_at, volume_after_ml=volume)
    return RefillVisit.objects.create(
        pump=pump, program=program, visit_at=visit_at, volume_after_ml=volume, **fields, **extra
    )


def _seed_child(n: int, spec: Child, clinic: Clinic, nurse, parents, now: datetime) -> None:
    today = timezone.localdate(now, clinic.tzinfo)
    patient = Patient.objects.create(
        clinic=clinic,
        first_name=spec.first,
        last_name=spec.last,
        mrn=f"DEMO-{n:03d}",
        date_of_birth=today.replace(year=today.year - spec.age) - timedelta(days=40 + n),
        goals=list(spec.goals),
    )
    for i, parent_index in enumerate(spec.parents):
        caregiver_link(
            caregiver=parents[parent_index],
            patient=patient,
            relationship="mother" if parent_index in (0, 2, 4) else "father",
            primary_contact=i == 0,
        )
    implant = today - timedelta(days=int(spec.implant_years_ago * 365.25))
    pump = Pump.objects.create(
        patient=patient,
        model=spec.model,
        serial_number=f"NGP{400000 + n * 137}",
        implant_date=implant,
        eri_date=today - timedelta(days=spec.eri_days_ago) if spec.eri_days_ago is not None else None,
    )
    volume = Decimal(19) if spec.model == PumpModel.SYNCHROMED_II_20 else Decimal(38)
    steps = [{"start": s, "mcg_per_hour": r} for s, r in spec.flex]
    flex_daily = None
    if steps:
        from pumps import forecast as fc

        flex_daily = fc.Program(
            concentration_mcg_ml=spec.conc,
            flex_steps=tuple(fc.FlexStep(time.fromisoformat(s), Decimal(r)) for s, r in spec.flex),
        ).daily_dose()
    alarm_target = now + timedelta(days=spec.alarm_in_days)
    first_dose = spec.previous_dose or spec.dose
    new_implant = spec.implant_years_ago < 0.1

    def program_for(dose: Decimal) -> Program:
        return Program.objects.create(
            pump=pump,
            effective_from=now,
            concentration_mcg_ml=spec.conc,
            mode=Program.Mode.FLEX if steps else Program.Mode.SIMPLE,
            daily_dose_mcg=(flex_daily or dose).quantize(Decimal("0.01")),
            flex_steps=steps,
            bolus_mcg=spec.bolus[0],
            bolus_max_per_day=spec.bolus[1],
            created_by=nurse,
        )

    # A year of refills, planned backwards from the current one: each earlier refill's alarm
    # falls a few days (the margin, demo_history.MARGINS) after the next refill.
    plan = [(program_for(spec.dose), alarm_target)]
    while not new_implant and len(plan) < 9:
        later_at = _place(pump, plan[-1][0], plan[-1][1], volume)
        if later_at < now - timedelta(days=365) or later_at - timedelta(days=120) < _at_local(
            clinic, implant
        ):
            break
        margin = demo_history.margin(n, len(plan))
        plan.append((program_for(first_dose), later_at + timedelta(days=margin)))
    history = []
    for k, (program, target) in reversed(list(enumerate(plan))):
        expected = Decimal("2.5") + Decimal(k % 3) / 4
        actual = expected + (spec.residual_off if k == 0 else Decimal("0.2"))
        previous = history[-1] if history else None
        visit = _visit_for(
            pump,
            program,
            target,
            volume,
            nurse=nurse,
            kind=RefillVisit.Kind.IMPLANT if new_implant else RefillVisit.Kind.REFILL,
            pre_concentration_mcg_ml=spec.conc,
            pre_mode=program.mode,
            pre_daily_dose_mcg=previous.program.daily_dose_mcg if previous else program.daily_dose_mcg,
            expected_residual_ml=expected if previous else None,
            actual_residual_ml=actual if previous else None,
            volume_instilled_ml=volume - actual if previous else volume,
            dose_changed=bool(previous and previous.program.daily_dose_mcg != program.daily_dose_mcg),
            dose_change_confirmed=bool(
                previous and previous.program.daily_dose_mcg != program.daily_dose_mcg
            ),
            dose_change_reason="Tone still high in the legs" if spec.previous_dose and k == 0 else "",
            tone_assessment="Modified Ashworth 2 in the legs, 1 in the arms.",
        )
        Program.objects.filter(pk=program.pk).update(effective_from=visit.visit_at)
        history.append(visit)
    demo_history.seed_history(patient=patient, visits=history, nurse=nurse, now=now)
    if spec.appointment_in_days is not None:
        Appointment.objects.create(
            patient=patient,
            kind=Appointment.Kind.REFILL,
            booked_by=nurse,
            start=_at_local(
                clinic, _weekday(clinic, (now + timedelta(days=spec.appointment_in_days)).date()), 9 + n % 6
            ),
            location=clinic.default_location,
            after_alarm_reason=spec.appointment_reason,
        )


@transaction.atomic
def seed(now: datetime | None = None, *, summaries: bool = True) -> bool:
    """Create the demo once. Returns False when it is already there (nothing changes).
    `summaries=False` skips rendering the after-visit PDFs (tests of other things, faster)."""
    now = now or timezone.now()
    clinic = Clinic.objects.order_by("pk").first()
    if Patient.objects.filter(clinic=clinic, mrn="DEMO-001").exists():
        return False
    _holidays(clinic, timezone.localdate(now, clinic.tzinfo))
    nurses = [
        staff_create(
            email=e,
            password=DEMO_PASSWORD,
            clinic=clinic,
            role=StaffProfile.Role.NURSE,
            first_name=f,
            last_name=last,
        )
        for e, f, last in NURSES
    ]
    for nurse in nurses:
        TOTPDevice.objects.create(user=nurse, name="Demo authenticator", key=DEMO_TOTP_HEX, confirmed=True)
    parents = []
    for i, (email, first, last, lang, consent) in enumerate(PARENTS):
        caregiver = caregiver_create(
            email=email,
            password=DEMO_PASSWORD,
            first_name=first,
            last_name=last,
            mobile=f"+1801555{100 + i:04d}",
            preferred_language=lang,
        )
        if consent:
            sms_consent_record(caregiver=caregiver, given=True, source="nurse", by=nurses[0], now=now)
        parents.append(caregiver)
    for n, spec in enumerate(CHILDREN, start=1):
        _seed_child(n, spec, clinic, nurses[n % 2], parents, now)
    _first_ten_minutes(now, summaries=summaries)
    # The demo rows were written directly: assess every child once, as the beat would.
    from alerts.concerns import concerns_refresh_many

    concerns_refresh_many(
        patient_ids=list(Patient.objects.filter(clinic=clinic).values_list("pk", flat=True)), now=now
    )
    demo_history.seed_call_list(clinic=clinic, now=now)
    return True


def _first_ten_minutes(now: datetime, *, summaries: bool = True) -> None:
    """What a newcomer sees within a minute of `make run`: every child's texts planned, the
    latest visit's after-visit summary of every child stored, and the first text due now."""
    reminders_replan_all(now=now)
    for patient in Patient.objects.filter(mrn__startswith="DEMO-").order_by("pk") if summaries else ():
        latest = RefillVisit.objects.filter(pump__patient=patient).order_by("-visit_at", "-pk").first()
        if latest is not None:
            visit_summary_store(visit=latest)
    _first_text_now(now)


def _first_text_now(now: datetime) -> None:
    """Bring the soonest alarm text forward to `now` (texts otherwise go out at 10:00 clinic
    time). Its alarm is within 2 days, so the caregiver's quiet hours do not hold it at night."""
    first = (
        Reminder.objects.filter(
            status=Reminder.Status.PLANNED, kind=Reminder.Kind.ALARM, patient__mrn__startswith="DEMO-"
        )
        .order_by("target_date", "send_after", "pk")
        .first()
    )
    if first is not None and first.send_after > now:
        Reminder.objects.filter(pk=first.pk).update(send_after=now)


def logins() -> list[tuple[str, str, str]]:
    rows = [("nurse", e, DEMO_PASSWORD) for e, _, _ in NURSES]
    rows += [("parent", p[0], DEMO_PASSWORD) for p in PARENTS]
    return rows


LANGUAGE_NAMES = {"en": "reads English", "es": "reads Spanish"}


def login_notes() -> dict[str, str]:
    """What each demo parent's login shows, from the data: how many children, which language,
    whether texts are on. E.g. 'reads Spanish, 3 children: Sofia, Mateo, Valentina'."""
    from patients.models import Caregiver

    notes = {}
    caregivers = Caregiver.objects.filter(user__email__in=[p[0] for p in PARENTS]).select_related("user")
    for caregiver in caregivers.prefetch_related("links__patient"):
        names = [link.patient.first_name for link in caregiver.links.all() if link.active]
        count = f"{len(names)} child" if len(names) == 1 else f"{len(names)} children"
        texts = "" if caregiver.sms_consent else "; texts off"
        notes[caregiver.user.email] = (
            f"{LANGUAGE_NAMES.get(caregiver.preferred_language, caregiver.preferred_language)}, "
            f"{count}: {', '.join(names)}{texts}"
        )
    return notes


def current_code() -> str:
    """The demo nurses' second-step code right now."""
    from django_otp.oath import TOTP

    totp = TOTP(bytes.fromhex(DEMO_TOTP_HEX))
    return f"{totp.token():06d}"

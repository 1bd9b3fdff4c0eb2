"""The clinic's calendar in the console: stored refill-due dates follow closed days, and
booking on a closed day or outside hours needs the nurse's tick, with everything typed kept."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from alerts.models import Reminder
from appointments import services
from appointments.models import Appointment
from patients.models import ClosedDate
from patients.staff.visit_forms import VisitForm
from pumps.models import RefillVisit
from pumps.services import refill_due_refresh, refill_record
from tests.console.test_refill import _data as refill_form_data
from tests.factories import CaregiverLinkFactory, PatientFactory, PumpFactory, StaffFactory
from tests.helpers import login_as

pytestmark = pytest.mark.django_db

DENVER = ZoneInfo("America/Denver")
# Monday 16 November 2026, 10:00 in Denver: every test here runs at this instant.
NOW = datetime(2026, 11, 16, 10, tzinfo=DENVER)
# 300 mcg/day at 1000 mcg/mL, 19 mL: 17 usable mL last 56 d 16 h. Refilled 18:00 UTC on
# 7 Oct, the alarm is 10:00 UTC on 3 Dec = 03:00 MST Thursday 3 Dec; 7 days before is
# Thursday 26 Nov, Thanksgiving.
VISIT_AT = datetime(2026, 10, 7, 12, tzinfo=DENVER)
PROGRAM = {"concentration_mcg_ml": Decimal(1000), "mode": "simple", "daily_dose_mcg": Decimal(300)}


@pytest.fixture
def clinic_week(clinic):
    """Clinic A as the handout's clinic keeps it: Mon-Fri 08:00-17:00, closed Thanksgiving."""
    clinic.open_weekdays = [0, 1, 2, 3, 4]
    clinic.opens_at, clinic.closes_at = time(8), time(17)
    clinic.save()
    ClosedDate.objects.create(clinic=clinic, day=date(2026, 11, 26), name="Thanksgiving Day")
    return clinic


@pytest.fixture
def pinned():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def family(clinic_week, pinned):
    patient = PatientFactory(clinic=clinic_week, first_name="Sofia")
    PumpFactory(patient=patient)
    CaregiverLinkFactory(patient=patient)
    return patient


def _record(patient, nurse, **kwargs):
    pump = patient.pumps.select_related("patient__clinic").get()
    return refill_record(
        pump=pump, by=nurse, visit_at=VISIT_AT, volume_after_ml=Decimal(19), program=PROGRAM, **kwargs
    )


def _due_reminder_dates(patient) -> set[date]:
    rows = Reminder.objects.filter(patient=patient, kind="refill_due", status="planned")
    return set(rows.values_list("target_date", flat=True))


def test_a_refill_due_date_on_a_holiday_is_stored_as_the_open_day_before(family, nurse):
    visit = _record(family, nurse)

    assert visit.alarm_at_worst.astimezone(DENVER).date() == date(2026, 12, 3)
    assert visit.refill_due == date(2026, 11, 25)  # Wednesday, not Thanksgiving
    assert _due_reminder_dates(family) == {date(2026, 11, 25)}


def test_a_new_holiday_on_the_due_date_moves_it_and_replans_the_texts(family, nurse):
    ClosedDate.objects.filter(clinic=family.clinic).delete()
    visit = _record(family, nurse)
    assert visit.refill_due == date(2026, 11, 26)

    ClosedDate.objects.create(clinic=family.clinic, day=date(2026, 11, 26), name="Thanksgiving Day")
    ClosedDate.objects.create(clinic=family.clinic, day=date(2026, 11, 25), name="Staff training")
    moved = refill_due_refresh(clinic=family.clinic)

    visit.refresh_from_db()
    assert (moved, visit.refill_due) == (1, date(2026, 11, 24))
    assert _due_reminder_dates(family) == {date(2026, 11, 24)}
    assert refill_due_refresh(clinic=family.clinic) == 0  # nothing left to move


def test_a_clinic_admin_adding_a_closed_date_in_the_admin_moves_the_due_date(family, nurse, client):
    ClosedDate.objects.filter(clinic=family.clinic).delete()
    visit = _record(family, nurse)
    admin = StaffFactory(clinic=family.clinic, role="clinic_admin").user
    admin.is_staff = True
    admin.save()
    from django.contrib.auth.models import Group

    admin.groups.add(Group.objects.get(name="Clinic admin"))
    login_as(client, admin)
    clinic = family.clinic
    url = reverse("admin:patients_clinic_change", args=[clinic.pk])
    assert client.get(url).status_code == 200
    data = {
        "name": clinic.name,
        "time_zone": clinic.time_zone,
        "default_location": clinic.default_location,
        "nurse_inbox_email": "",
        "phone_business_hours": clinic.phone_business_hours,
        "phone_after_hours": clinic.phone_after_hours,
        "phone_nurse_line": clinic.phone_nurse_line,
        "open_weekdays": ["0", "1", "2", "3", "4"],
        "opens_at": "08:00",
        "closes_at": "17:00",
        "refill_lead_days": "7",
        "max_refill_interval_days": "180",
        "reminder_refill_due_days": "[14, 7, 3, 1]",
        "reminder_alarm_days": "[3, 1, 0]",
        "reminder_appointment_days": "[1]",
        "reminder_battery_repeat_days": "30",
        "texts_held_tell_nurses_minutes": "30",
        "sms_sender_name": clinic.sms_sender_name,
        "signs_ack_minutes": "15",
        **{
            f"sign_instructions_{group}{suffix}": getattr(clinic, f"sign_instructions_{group}{suffix}")
            for group in ("withdrawal", "too_much", "infection")
            for suffix in ("", "_es")
        },
        "closed_dates-TOTAL_FORMS": "1",
        "closed_dates-INITIAL_FORMS": "0",
        "closed_dates-0-day": "2026-11-26",
        "closed_dates-0-name": "Thanksgiving Day",
    }

    response = client.post(url, data, follow=True)

    assert response.status_code == 200, response.content
    visit.refresh_from_db()
    assert visit.refill_due == date(2026, 11, 25)
    assert "Refill-due dates moved for 1 children" in response.content.decode()


def test_another_clinics_admin_cannot_open_this_clinic(family, other_clinic, client):
    admin = StaffFactory(clinic=other_clinic, role="clinic_admin").user
    admin.is_staff = True
    admin.save()
    from django.contrib.auth.models import Group

    admin.groups.add(Group.objects.get(name="Clinic admin"))
    login_as(client, admin)

    response = client.get(reverse("admin:patients_clinic_change", args=[family.clinic.pk]))

    assert response.status_code in (302, 404)
    assert family.clinic.name not in client.get(reverse("admin:patients_clinic_changelist")).content.decode()


BOOKING_ROWS = [
    # start (Denver), message words
    (datetime(2026, 11, 26, 10), ["Thursday 26 November 2026", "(Thanksgiving Day)", "tick the box"]),
    (datetime(2026, 11, 28, 10), ["Saturday 28 November 2026", "open Mon–Fri 08:00–17:00"]),
    (datetime(2026, 11, 30, 18, 30), ["Monday 30 November 2026 at 18:30", "Mon–Fri 08:00–17:00"]),
    (datetime(2026, 11, 30, 16, 45), ["at 16:45 for 30 minutes", "outside the clinic's opening hours"]),
]


@pytest.mark.parametrize(("start", "words"), BOOKING_ROWS)
def test_booking_on_a_closed_day_or_outside_hours_needs_the_tick(family, nurse, start, words):
    start = start.replace(tzinfo=DENVER)

    with pytest.raises(services.AppointmentError) as caught:
        services.appointment_book(patient=family, by=nurse, kind="follow_up", start=start)

    assert caught.value.field == "outside_hours_confirmed"
    assert all(word in caught.value.message for word in words), caught.value.message
    assert not Appointment.objects.exists()
    booked = services.appointment_book(
        patient=family, by=nurse, kind="follow_up", start=start, outside_hours_confirmed=True
    )
    assert booked.start == start


def test_booking_inside_hours_needs_no_tick(family, nurse):
    start = datetime(2026, 11, 30, 16, 30, tzinfo=DENVER)  # ends at 17:00, closing time

    assert services.appointment_book(patient=family, by=nurse, kind="follow_up", start=start).pk


def test_moving_an_appointment_to_a_closed_day_needs_the_tick(family, nurse):
    appt = services.appointment_book(
        patient=family, by=nurse, kind="follow_up", start=datetime(2026, 11, 30, 10, tzinfo=DENVER)
    )
    holiday = datetime(2026, 11, 26, 10, tzinfo=DENVER)

    with pytest.raises(services.AppointmentError, match="Thanksgiving Day"):
        services.appointment_reschedule(appointment=appt, by=nurse, start=holiday)

    appt.refresh_from_db()
    assert appt.start == datetime(2026, 11, 30, 10, tzinfo=DENVER)
    moved = services.appointment_reschedule(
        appointment=appt, by=nurse, start=holiday, outside_hours_confirmed=True
    )
    assert moved.start == holiday


def test_the_booking_form_asks_for_the_tick_and_keeps_what_was_typed(family, nurse, client):
    login_as(client, nurse)
    url = reverse("staff:appointment_book", args=[family.pk])
    typed = {
        "kind": "follow_up",
        "start": "2026-11-26T10:00",
        "duration_minutes": "45",
        "location": "Room 4",
        "notes": "Bring the wheelchair seating report",
    }

    html = client.post(url, typed).content.decode()

    assert "The clinic is closed on Thursday 26 November 2026 (Thanksgiving Day)" in html
    assert 'type="checkbox" name="outside_hours_confirmed"' in html
    assert "Bring the wheelchair seating report" in html and 'value="Room 4"' in html
    assert 'value="45"' in html and 'value="2026-11-26T10:00"' in html
    assert not Appointment.objects.exists()

    response = client.post(url, {**typed, "outside_hours_confirmed": "on"})

    assert response.status_code == 302
    assert Appointment.objects.get().notes == "Bring the wheelchair seating report"


def test_the_booking_form_hides_the_tick_until_it_is_needed(family, nurse, client):
    login_as(client, nurse)

    html = client.get(reverse("staff:appointment_book", args=[family.pk])).content.decode()

    assert 'type="hidden" name="outside_hours_confirmed"' in html
    assert 'type="checkbox" name="outside_hours_confirmed"' not in html


def _visit_data(**over) -> dict:
    return refill_form_data(visit_at="2026-11-16T09:30", tone_assessment="Ashworth 2 in the legs", **over)


def test_the_refill_forms_next_appointment_on_a_weekend_needs_the_tick(family, nurse, client):
    _record(family, nurse)
    login_as(client, nurse)
    url = reverse("staff:visit", args=[family.pk, "refill"])
    saturday = _visit_data(next_appointment_at="2027-01-02T10:00")

    html = client.post(url, saturday).content.decode()

    assert "The clinic is closed on Saturday 2 January 2027 (it is open Mon–Fri 08:00–17:00)" in html
    assert 'type="checkbox" name="next_appointment_hours_confirmed"' in html
    assert "Ashworth 2 in the legs" in html
    assert RefillVisit.objects.filter(pump__patient=family).count() == 1

    response = client.post(url, {**saturday, "next_appointment_hours_confirmed": "on"})

    assert response.status_code == 302
    assert RefillVisit.objects.filter(pump__patient=family).count() == 2
    assert Appointment.objects.get().start == datetime(2027, 1, 2, 10, tzinfo=DENVER)


def test_the_refill_form_takes_a_next_appointment_inside_hours_without_a_tick(family, nurse):
    _record(family, nurse)
    pump = family.pumps.select_related("patient__clinic").get()

    form = VisitForm(_visit_data(next_appointment_at="2027-01-04T10:00"), pump=pump, kind="refill")

    assert form.is_valid(), form.errors


def test_nurses_see_the_calendar_and_the_appointments_it_now_forbids(family, nurse, client):
    Appointment.objects.create(
        patient=family, kind="refill", start=datetime(2026, 11, 26, 9, tzinfo=DENVER), booked_by=nurse
    )
    login_as(client, nurse)

    html = client.get(reverse("staff:clinic_calendar")).content.decode()

    assert "Mon–Fri 08:00–17:00" in html
    assert "Thu 26 Nov 2026: Thanksgiving Day" in html
    assert "Pump refill, Thu 26 Nov 2026, 09:00" in html
    assert "Change hours and closed dates" not in html  # a nurse reads, a clinic admin edits


def test_parents_cannot_open_the_clinic_calendar(family, client):
    parent = family.caregiver_links.get().caregiver.user
    login_as(client, parent)

    assert client.get(reverse("staff:clinic_calendar")).status_code == 403


def test_the_refresh_leaves_earlier_visits_as_they_were(family, nurse):
    pump = family.pumps.select_related("patient__clinic").get()
    earlier = refill_record(
        pump=pump,
        by=nurse,
        visit_at=VISIT_AT - timedelta(days=56),
        volume_after_ml=Decimal(19),
        program=PROGRAM,
    )
    _record(family, nurse)
    ClosedDate.objects.create(clinic=family.clinic, day=earlier.refill_due, name="Inventory day")

    assert refill_due_refresh(clinic=family.clinic) == 0
    assert RefillVisit.objects.get(pk=earlier.pk).refill_due == earlier.refill_due


def test_the_move_form_asks_for_the_tick_on_a_closed_day(family, nurse, client):
    appt = services.appointment_book(
        patient=family, by=nurse, kind="follow_up", start=datetime(2026, 11, 30, 10, tzinfo=DENVER)
    )
    login_as(client, nurse)
    url = reverse("staff:appointment_reschedule", args=[appt.pk])

    html = client.post(url, {"start": "2026-11-28T10:00"}).content.decode()

    assert "The clinic is closed on Saturday 28 November 2026" in html
    assert 'type="checkbox" name="outside_hours_confirmed"' in html and 'value="2026-11-28T10:00"' in html
    assert client.post(url, {"start": "2026-11-28T10:00", "outside_hours_confirmed": "on"}).status_code == 302
    appt.refresh_from_db()
    assert appt.start == datetime(2026, 11, 28, 10, tzinfo=DENVER)

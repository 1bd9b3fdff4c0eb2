"""Appointments: book, move, cancel, complete, no-show; a refill after the alarm needs a reason."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from appointments import services
from appointments.models import Appointment

pytestmark = pytest.mark.django_db


def _alarm(child):
    return child.pumps.get().latest_visit.alarm_at_worst


def _noon_after_alarm(child):
    """Midday on the day after the alarm: after it, whatever hour the test runs (an hour after
    the alarm may run past midnight, outside any clinic's hours)."""
    local = timezone.localtime(_alarm(child), child.clinic.tzinfo) + timedelta(days=1)
    return local.replace(hour=12, minute=0, second=0, microsecond=0)


def test_booking_a_refill_after_the_alarm_without_a_reason_is_refused(child, nurse):
    with pytest.raises(services.AppointmentError, match="after the pump's alarm date"):
        services.appointment_book(patient=child, by=nurse, kind="refill", start=_noon_after_alarm(child))
    assert not Appointment.objects.exists()
    appt = services.appointment_book(
        patient=child,
        by=nurse,
        kind="refill",
        start=_noon_after_alarm(child),
        after_alarm_reason="Travel",
    )
    assert appt.after_alarm_reason == "Travel"


def test_other_kinds_may_be_booked_after_the_alarm(child, nurse):
    services.appointment_book(
        patient=child, by=nurse, kind="yearly", start=_alarm(child) + timedelta(days=30)
    )


def test_moving_a_refill_after_the_alarm_needs_a_reason_and_asks_the_family_again(child, nurse):
    appt = services.appointment_book(
        patient=child, by=nurse, kind="refill", start=timezone.now() + timedelta(days=1)
    )
    services.appointment_confirm(appointment=appt)
    with pytest.raises(services.AppointmentError):
        services.appointment_reschedule(appointment=appt, by=nurse, start=_alarm(child) + timedelta(days=1))
    appt.refresh_from_db()
    assert appt.status == "confirmed"
    moved = services.appointment_reschedule(
        appointment=appt, by=nurse, start=timezone.now() + timedelta(days=2)
    )
    assert moved.status == "scheduled" and moved.confirmed_at is None


@pytest.mark.parametrize(
    ("action", "status"), [("cancel", "cancelled"), ("complete", "completed"), ("no_show", "no_show")]
)
def test_closing_actions_from_the_chart(nurse_client, child, nurse, action, status):
    appt = services.appointment_book(
        patient=child, by=nurse, kind="refill", start=timezone.now() + timedelta(days=1)
    )
    response = nurse_client.post(reverse("staff:appointment_act", args=[appt.pk, action]))
    assert response.status_code == 302
    appt.refresh_from_db()
    assert appt.status == status
    response = nurse_client.post(reverse("staff:appointment_act", args=[appt.pk, "cancel"]), follow=True)
    assert "already closed" in response.content.decode()


def test_every_change_replans_reminders_in_the_transaction(child, nurse, monkeypatch):
    calls = []
    monkeypatch.setattr("alerts.receivers.reminders_replan", lambda **kw: calls.append(kw["patient"]))
    appt = services.appointment_book(
        patient=child, by=nurse, kind="refill", start=timezone.now() + timedelta(days=1)
    )
    services.appointment_reschedule(appointment=appt, by=nurse, start=timezone.now() + timedelta(days=2))
    services.appointment_cancel(appointment=appt, by=nurse)
    assert calls == [child, child, child]


def test_booking_form_shows_the_after_alarm_error_and_keeps_the_input(nurse_client, child):
    late = timezone.localtime(_alarm(child) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = nurse_client.post(
        reverse("staff:appointment_book", args=[child.pk]),
        {"kind": "refill", "start": late, "duration_minutes": "30", "notes": "Bring card"},
    )
    html = response.content.decode()
    assert response.status_code == 200 and "after the pump&#x27;s alarm date" in html and "Bring card" in html
    assert not Appointment.objects.exists()


def test_booking_from_the_worklist_returns_to_the_worklist(nurse_client, child):
    soon = (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = nurse_client.post(
        reverse("staff:appointment_book", args=[child.pk]),
        {"kind": "refill", "start": soon, "duration_minutes": "30", "next": "/staff/?flag=no_refill_booked"},
    )
    assert response["Location"] == "/staff/?flag=no_refill_booked"


def test_day_view_lists_the_clinics_appointments_of_that_day(
    nurse_client, child, child_in_other_clinic, nurse
):
    start = timezone.localtime().replace(hour=10, minute=0) + timedelta(days=3)
    services.appointment_book(patient=child, by=nurse, kind="refill", start=start)
    Appointment.objects.create(patient=child_in_other_clinic, kind="refill", start=start)
    response = nurse_client.get(reverse("staff:day"), {"date": start.date().isoformat()})
    assert response.context["count"] == 1
    assert "Sofia" in response.content.decode()


def test_battery_list_offers_to_book_the_surgery(nurse_client, child):
    pump = child.pumps.get()
    pump.eri_date = timezone.localdate() - timedelta(days=3)
    pump.save()
    response = nurse_client.get(reverse("staff:battery"))
    html = response.content.decode()
    assert "Book surgery" in html and "?kind=battery" in html
    assert response.context["rows"][0]["replace_by"] == pump.eri_date + timedelta(days=90)


def test_the_worklist_offers_to_move_a_booked_refill_and_to_book_a_missing_one(
    nurse_client, child, other_child, nurse
):
    appt = services.appointment_book(
        patient=child, by=nurse, kind="refill", start=timezone.now() + timedelta(days=1)
    )
    html = nurse_client.get(reverse("staff:worklist")).content.decode()
    assert reverse("staff:appointment_reschedule", args=[appt.pk]) in html
    assert reverse("staff:appointment_book", args=[other_child.pk]) in html


def test_moving_from_the_day_view_returns_to_the_day_view_and_shows_the_alarm_date(
    nurse_client, child, nurse
):
    appt = services.appointment_book(
        patient=child, by=nurse, kind="refill", start=timezone.now() + timedelta(days=1)
    )
    back = "/staff/day/?date=2026-11-24"
    page = nurse_client.get(reverse("staff:appointment_reschedule", args=[appt.pk]), {"next": back})
    assert "Pump alarm date (worst case)" in page.content.decode() and back in page.content.decode()
    soon = (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = nurse_client.post(
        reverse("staff:appointment_reschedule", args=[appt.pk]), {"start": soon, "next": back}
    )
    assert response["Location"] == back


def test_the_consent_page_shows_the_exact_wording_to_read(nurse_client, child, parent):
    link = child.caregiver_links.get()
    html = nurse_client.get(reverse("staff:caregiver_contact", args=[child.pk, link.pk])).content.decode()
    assert "Reply STOP to stop" in html

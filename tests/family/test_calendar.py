"""The private calendar feed: the parent's appointments and refill-due days, no drug or dose."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from appointments.models import Appointment


def feed(client, caregiver):
    response = client.get(reverse("family:calendar", args=[caregiver.calendar_token]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    return response.content


def test_the_feed_lists_open_appointments_and_the_refill_due_day(client, parent, child):
    start = timezone.now().replace(microsecond=0) + timedelta(days=6)
    appointment = Appointment.objects.create(patient=child, start=start, location="Rehab clinic")
    Appointment.objects.create(patient=child, start=start, status=Appointment.Status.CANCELLED)
    cal = Calendar.from_ical(feed(client, parent.caregiver))
    events = {str(e["uid"]): e for e in cal.walk("VEVENT")}
    assert set(events) == {
        f"appointment-{appointment.pk}@itbportal",
        f"refill-due-patient-{child.pk}@itbportal",
        f"alarm-patient-{child.pk}@itbportal",
    }
    appt = events[f"appointment-{appointment.pk}@itbportal"]
    assert appt.decoded("dtstart") == start
    assert appt.decoded("dtstart").utcoffset() == timedelta(0)
    assert str(appt["summary"]).startswith("Sofia: ")
    due = events[f"refill-due-patient-{child.pk}@itbportal"]
    visit = child.pumps.get().visits.get()
    assert due.decoded("dtstart") == visit.refill_due  # an all-day date, not a time
    assert str(due["summary"]) == "Sofia: pump refill due"
    alarm = events[f"alarm-patient-{child.pk}@itbportal"]
    assert alarm.decoded("dtstart") == timezone.localdate(visit.alarm_at_worst, child.clinic.tzinfo)
    assert str(alarm["summary"]) == "Sofia: pump alarm date"


def test_a_new_refill_moves_the_same_all_day_events(client, parent, child):
    """The alarm and refill-due events keep their UIDs and take the new dates, with a higher
    SEQUENCE, once a refill is recorded."""
    from decimal import Decimal

    from tests.factories import refill

    def dated():
        cal = Calendar.from_ical(feed(client, parent.caregiver))
        return {
            str(e["uid"]).split("-patient")[0]: (e.decoded("dtstart"), int(e["sequence"]))
            for e in cal.walk("VEVENT")
        }

    before = dated()
    refill(child.pumps.get(), visit_at=timezone.now() - timedelta(hours=1), volume=Decimal(19))
    after = dated()
    assert set(before) == set(after) == {"alarm", "refill-due"}
    for kind in ("alarm", "refill-due"):
        assert after[kind][0] > before[kind][0] and after[kind][1] > before[kind][1], kind


def test_the_feed_names_no_drug_dose_or_last_name(client, parent, child):
    Appointment.objects.create(patient=child, start=timezone.now() + timedelta(days=6))
    body = feed(client, parent.caregiver).decode().lower()
    for word in ("baclofen", "mcg", "microgram", child.last_name.lower(), child.mrn.lower()):
        assert word not in body


def test_uids_are_stable_between_fetches(client, parent, child):
    Appointment.objects.create(patient=child, start=timezone.now() + timedelta(days=6))

    def uids():
        return sorted(
            str(e["uid"]) for e in Calendar.from_ical(feed(client, parent.caregiver)).walk("VEVENT")
        )

    assert uids() == uids()


def test_an_unknown_token_is_404(client, parent):
    assert client.get(reverse("family:calendar", args=["not-a-token"])).status_code == 404


def test_the_feed_is_in_the_parents_language(client, parent, child):
    parent.caregiver.preferred_language = "es"
    parent.caregiver.save()
    body = feed(client, parent.caregiver).decode()
    assert "Sofia: fecha límite de recarga" in body


def test_resetting_the_token_stops_the_old_link(parent_client, parent):
    old = parent.caregiver.calendar_token
    page = parent_client.get(reverse("family:calendar_page")).content.decode()
    assert old in page
    response = parent_client.post(reverse("family:calendar_reset"), follow=True)
    parent.caregiver.refresh_from_db()
    new = parent.caregiver.calendar_token
    assert new != old and len(new) >= 40
    assert new in response.content.decode()
    assert parent_client.get(reverse("family:calendar", args=[old])).status_code == 404
    assert parent_client.get(reverse("family:calendar", args=[new])).status_code == 200


def test_the_calendar_page_names_the_feeds_dates_and_the_steps_for_android_and_iphone(
    parent_client, parent, child
):
    """Issue 24, item 5: the https address to copy, the steps for Google Calendar and iPhone,
    and the dates the feed carries, each the same as in the feed itself."""
    from django.utils import translation

    from patients.family.templatetags import longdate

    html = parent_client.get(reverse("family:calendar_page"), secure=True).content.decode()
    assert f'value="https://testserver/family/calendar/{parent.caregiver.calendar_token}.ics"' in html
    assert "calendar.google.com" in html and "From URL" in html
    assert "Add Subscribed Calendar" in html and 'href="webcal://' in html
    cal = Calendar.from_ical(feed(parent_client, parent.caregiver))
    days = {str(e["summary"]): e.decoded("dtstart") for e in cal.walk("VEVENT")}
    alarm = days["Sofia: pump alarm date"]
    due = days["Sofia: pump refill due"]
    dates = html[html.index('id="feed-dates"') : html.index("</section>", html.index('id="feed-dates"'))]
    assert f"Pump alarm date: {longdate(alarm)}" in " ".join(dates.split())
    assert f"Refill due by: {longdate(due)}" in " ".join(dates.split())
    parent.caregiver.preferred_language = "es"
    parent.caregiver.save(update_fields=["preferred_language"])
    html = parent_client.get(reverse("family:calendar_page")).content.decode()
    translation.deactivate()
    assert "Teléfono Android (Google Calendar)" in html and "Añadir calendario suscrito" in html
    assert "Las fechas en el calendario" in html

"""The child page: dose and pump facts, appointments to confirm, visits and summaries, goals."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from appointments.models import Appointment
from pumps.models import Document


def test_the_child_page_shows_dose_pump_dates_and_goals(parent_client, child):
    child.goals = ["walking", "sleep"]
    child.save()
    html = parent_client.get(reverse("family:child", args=[child.pk])).content.decode()
    assert "300 micrograms a day" in html
    assert "1000 micrograms per mL" in html
    pump = child.pumps.get()
    assert pump.get_model_display() in html
    assert "Pump must be replaced by" in html
    assert "Walking" in html and "Sleep" in html
    assert "Refill due by" in html and "Pump alarm date" in html


def test_a_parent_confirms_an_appointment_with_one_post(parent_client, child):
    appointment = Appointment.objects.create(patient=child, start=timezone.now() + timedelta(days=3))
    url = reverse("family:child", args=[child.pk])
    assert "Confirm I will come" in parent_client.get(url).content.decode()
    assert parent_client.get(reverse("family:appointment_confirm", args=[appointment.pk])).status_code == 405
    response = parent_client.post(reverse("family:appointment_confirm", args=[appointment.pk]), follow=True)
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CONFIRMED and appointment.confirmed_at
    html = response.content.decode()
    assert "The clinic knows you will come" in html and "You said you will come." in html


def test_a_cancelled_appointment_cannot_be_confirmed_and_says_so(parent_client, child):
    appointment = Appointment.objects.create(
        patient=child, start=timezone.now() + timedelta(days=3), status=Appointment.Status.CANCELLED
    )
    response = parent_client.post(reverse("family:appointment_confirm", args=[appointment.pk]), follow=True)
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED
    assert "can no longer be confirmed" in response.content.decode()


def test_past_visits_list_their_after_visit_summaries(parent_client, child, django_assert_max_num_queries):
    visit = child.pumps.get().visits.get()
    for version, language in ((1, "en"), (2, "en"), (1, "es")):
        Document.objects.create(
            kind=Document.Kind.VISIT_SUMMARY,
            patient=child,
            visit=visit,
            language=language,
            version=version,
            file="documents/x.pdf",
            sha256="0" * 64,
            created_at=timezone.now(),
        )
    # Two reads of the stored safety state (ChildSafety, the family-facing concern) and the
    # clinic calendar of the call button: constant, whatever the history. (The session's first
    # page also reads the page's frame and keeps it: issue 27.)
    parent_client.get(reverse("family:home"))
    with django_assert_max_num_queries(17):
        html = parent_client.get(reverse("family:child", args=[child.pk])).content.decode()
    assert "Past visits" in html
    assert "After-visit summary" in html
    assert "No after-visit summary yet." not in html
    # The newest version in each language, not every regeneration, each a link to the download.
    newest = Document.objects.filter(visit=visit).order_by("language", "-version").distinct()
    links = {
        reverse("documents:summary", args=[d.pk]) for d in newest if d.version == 2 or d.language == "es"
    }
    assert len(links) == 2 and all(html.count(f'href="{link}"') == 1 for link in links)


def test_appointment_times_show_in_the_clinics_time_zone(parent_client, child):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    start = datetime(2030, 1, 15, 10, 0, tzinfo=ZoneInfo("America/Denver"))
    Appointment.objects.create(patient=child, start=start)
    html = parent_client.get(reverse("family:child", args=[child.pk])).content.decode()
    assert "Tuesday, January 15, 2030 · 10:00 AM" in html


def test_summary_links_are_left_out_until_the_documents_view_exists():
    from patients.family.templatetags import url_or_empty

    assert url_or_empty("documents:no-such-view", 1) == ""
    assert url_or_empty("family:child", 7) == "/family/children/7/"


def test_child_page_queries_stay_constant_however_long_the_history(
    parent_client, child, django_assert_max_num_queries
):
    from datetime import timedelta as td

    from tests.factories import refill

    pump = child.pumps.get()
    for k in range(25, 0, -1):
        refill(pump, visit_at=timezone.now() - td(days=60 * k + 20))
    for k in range(15):
        Appointment.objects.create(patient=child, start=timezone.now() + td(days=10 + k))
    # Two reads of the stored safety state (ChildSafety, the family-facing concern) and the
    # clinic calendar of the call button: constant, whatever the history. (The session's first
    # page also reads the page's frame and keeps it: issue 27.)
    parent_client.get(reverse("family:home"))
    with django_assert_max_num_queries(17):
        html = parent_client.get(reverse("family:child", args=[child.pk])).content.decode()
    assert html.count("Confirm I will come") == 15

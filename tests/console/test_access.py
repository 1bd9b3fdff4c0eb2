"""Staff pages are for staff of the child's clinic: another clinic's nurse gets 404 on every URL
that takes an id, a parent gets 403, an anonymous visitor is sent to sign in."""

import pytest
from django.urls import reverse

from appointments.models import Appointment
from tests.helpers import login_as

pytestmark = pytest.mark.django_db


def _id_urls(child, appointment, link):
    return [
        ("get", reverse("staff:chart", args=[child.pk])),
        ("get", reverse("staff:visit", args=[child.pk, "refill"])),
        ("get", reverse("staff:visit", args=[child.pk, "programming"])),
        ("post", reverse("staff:visit_preview", args=[child.pk, "refill"])),
        ("get", reverse("staff:appointment_book", args=[child.pk])),
        ("get", reverse("staff:caregivers", args=[child.pk])),
        ("get", reverse("staff:caregiver_contact", args=[child.pk, link.pk])),
        ("post", reverse("staff:caregiver_deactivate", args=[child.pk, link.pk])),
        ("get", reverse("staff:appointment_reschedule", args=[appointment.pk])),
        ("post", reverse("staff:appointment_act", args=[appointment.pk, "cancel"])),
        ("post", reverse("staff:appointment_act", args=[appointment.pk, "complete"])),
        ("post", reverse("staff:appointment_act", args=[appointment.pk, "no_show"])),
    ]


@pytest.fixture
def appointment(child, nurse):
    from django.utils import timezone

    return Appointment.objects.create(patient=child, kind="refill", start=timezone.now(), booked_by=nurse)


def test_a_nurse_of_another_clinic_gets_404_on_every_chart_url(
    client, child, parent, other_nurse, appointment
):
    login_as(client, other_nurse)
    link = child.caregiver_links.get()
    for method, url in _id_urls(child, appointment, link):
        assert getattr(client, method)(url).status_code == 404, url
    appointment.refresh_from_db()
    link.refresh_from_db()
    assert appointment.status == "scheduled" and link.active


def test_a_parent_gets_403_on_every_staff_page(client, child, parent, appointment):
    login_as(client, parent)
    link = child.caregiver_links.get()
    urls = _id_urls(child, appointment, link) + [
        ("get", reverse("staff:worklist")),
        ("get", reverse("staff:battery")),
        ("get", reverse("staff:day")),
        ("get", reverse("staff:patient_new")),
        ("post", reverse("staff:patient_new_preview")),
    ]
    for method, url in urls:
        assert getattr(client, method)(url).status_code == 403, url


def test_anonymous_visitors_are_sent_to_sign_in(client, child):
    response = client.get(reverse("staff:chart", args=[child.pk]))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_home_sends_staff_to_the_worklist_and_parents_to_their_page(client, nurse, parent):
    login_as(client, nurse)
    assert client.get(reverse("home"))["Location"] == reverse("staff:worklist")
    login_as(client, parent)
    assert client.get(reverse("home"))["Location"] == reverse("family:home")


def test_the_nurse_of_the_clinic_opens_every_page(nurse_client, child, parent, appointment):
    link = child.caregiver_links.get()
    for method, url in _id_urls(child, appointment, link)[:7]:
        assert getattr(nurse_client, method)(url).status_code == 200, url

"""A parent sees only linked children: every family URL answers 404 for another family's ids."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from appointments.models import Appointment
from tests.helpers import login_as


@pytest.fixture
def other_appointment(other_child):
    return Appointment.objects.create(patient=other_child, start=timezone.now() + timedelta(days=5))


def test_another_familys_child_page_is_404(parent_client, other_child, child_in_other_clinic):
    for pk in (other_child.pk, child_in_other_clinic.pk, 999999):
        assert parent_client.get(reverse("family:child", args=[pk])).status_code == 404


def test_confirming_another_familys_appointment_is_404_and_changes_nothing(parent_client, other_appointment):
    url = reverse("family:appointment_confirm", args=[other_appointment.pk])
    assert parent_client.post(url).status_code == 404
    other_appointment.refresh_from_db()
    assert other_appointment.status == Appointment.Status.SCHEDULED
    assert parent_client.post(reverse("family:appointment_confirm", args=[999999])).status_code == 404


def test_an_unlinked_child_is_404_even_for_a_former_caregiver(parent_client, parent, child):
    parent.caregiver.links.update(active=False)
    assert parent_client.get(reverse("family:child", args=[child.pk])).status_code == 404
    assert "Sofia" not in parent_client.get(reverse("family:home")).content.decode()


def test_another_familys_children_never_show_on_the_parents_pages(
    parent_client, other_child, other_appointment
):
    for name in ("family:home", "family:texts", "family:calendar_page"):
        html = parent_client.get(reverse(name)).content.decode()
        assert "Liam" not in html
    feed = parent_client.get(reverse("family:calendar", args=[parent_client_token(parent_client)]))
    assert b"Liam" not in feed.content


def parent_client_token(client):
    from patients.models import Caregiver

    return Caregiver.objects.get(user_id=client.session["_auth_user_id"]).calendar_token


@pytest.mark.parametrize(
    "name, args",
    [
        ("family:home", []),
        ("family:child", [1]),
        ("family:texts", []),
        ("family:calendar_page", []),
    ],
)
def test_family_pages_ask_a_stranger_to_sign_in_and_refuse_staff(client, nurse, name, args):
    url = reverse(name, args=args)
    response = client.get(url)
    assert response.status_code == 302 and reverse("login") in response["Location"]
    login_as(client, nurse)
    assert client.get(url).status_code == 403


def test_posts_ask_a_stranger_to_sign_in(client, child):
    appointment = Appointment.objects.create(patient=child, start=timezone.now() + timedelta(days=5))
    for url in (
        reverse("family:appointment_confirm", args=[appointment.pk]),
        reverse("family:calendar_reset"),
        reverse("family:language"),
    ):
        response = client.post(url)
        assert response.status_code == 302 and reverse("login") in response["Location"]
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.SCHEDULED


def test_site_home_sends_a_parent_to_the_family_home(parent_client):
    response = parent_client.get(reverse("home"))
    assert response.status_code == 302 and response["Location"] == reverse("family:home")


def test_a_parent_cannot_open_the_admin(parent_client):
    response = parent_client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]

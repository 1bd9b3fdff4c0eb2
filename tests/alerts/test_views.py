"""The staff pages: outbox and escalations, scoped to the nurse's clinic, with engine health."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from alerts.models import Escalation, Heartbeat, SmsMessage
from tests.factories import CaregiverLinkFactory

pytestmark = pytest.mark.django_db


def escalation(patient, key, **fields):
    return Escalation.objects.create(
        clinic=patient.clinic,
        patient=patient,
        kind="reminder_failed",
        dedupe_key=key,
        message=f"Text for {patient.first_name} not delivered",
        created_at=timezone.now(),
        **fields,
    )


def test_the_outbox_shows_texts_of_this_clinics_families_only(
    nurse_client, parent, child_in_other_clinic, django_assert_max_num_queries
):
    mine = parent.caregiver
    theirs = CaregiverLinkFactory(patient=child_in_other_clinic).caregiver
    for caregiver, body in [(mine, "for my clinic"), (theirs, "for the other clinic")] * 5:
        SmsMessage.objects.create(
            direction="out",
            caregiver=caregiver,
            to_number=str(caregiver.mobile),
            body=body,
            backend="console",
            status="delivered",
            created_at=timezone.now(),
        )
    with django_assert_max_num_queries(9):  # 8 + the held-texts banner
        response = nurse_client.get(reverse("alerts:outbox"))
    html = response.content.decode()
    assert html.count("for my clinic") == 5 and "for the other clinic" not in html


def test_the_escalations_page_lists_open_ones_of_this_clinic_and_resolves(
    nurse_client, child, child_in_other_clinic, django_assert_max_num_queries
):
    for i in range(5):
        escalation(child, f"k{i}")
    escalation(child_in_other_clinic, "other")
    with django_assert_max_num_queries(9):  # 8 + the held-texts banner
        html = nurse_client.get(reverse("alerts:escalations")).content.decode()
    assert html.count("Text for Sofia not delivered") == 5 and "Text for Ava" not in html
    first = Escalation.objects.get(dedupe_key="k0")
    response = nurse_client.post(reverse("alerts:escalation_resolve", args=[first.pk]))
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.resolved_at is not None and first.resolved_by is not None
    assert nurse_client.get(reverse("alerts:escalations")).content.decode().count("Text for Sofia") == 4


def test_a_nurse_cannot_resolve_another_clinics_escalation(nurse_client, child_in_other_clinic):
    other = escalation(child_in_other_clinic, "other")
    assert nurse_client.post(reverse("alerts:escalation_resolve", args=[other.pk])).status_code == 404
    other.refresh_from_db()
    assert other.resolved_at is None


@pytest.mark.parametrize("name", ["alerts:outbox", "alerts:escalations"])
def test_parents_get_403_and_strangers_go_to_sign_in(parent_client, client, name):
    assert parent_client.get(reverse(name)).status_code == 403
    parent_client.logout()
    assert client.get(reverse(name)).status_code == 302


def test_staff_see_when_the_sweep_last_ran_and_a_warning_when_it_stalled(nurse_client):
    html = nurse_client.get(reverse("alerts:escalations")).content.decode()
    assert "has never run" in html
    Heartbeat.objects.create(name="sweep", last_run_at=timezone.now() - timedelta(minutes=6))
    assert "Reminder texts are not being sent" in nurse_client.get(reverse("alerts:outbox")).content.decode()
    Heartbeat.objects.filter(name="sweep").update(last_run_at=timezone.now())
    html = nurse_client.get(reverse("alerts:outbox")).content.decode()
    assert "Reminder sender last ran" in html and "not being sent" not in html

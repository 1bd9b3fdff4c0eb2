"""Every page's frame (the clinic's numbers in the footer, staff or family menu) is kept in the
session (issue 27) and read again after every write that changes it: never a stale number."""

from datetime import timedelta

import time_machine
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from patients.common.context_processors import SESSION_KEY, portal
from patients.models import CaregiverLink, Clinic, StaffProfile
from patients.page_context import MAX_AGE
from tests.factories import CaregiverLinkFactory
from tests.helpers import login_as

NEW_NUMBER = "801.555.0199"


def footer_numbers(client, url_name="family:home") -> str:
    response = client.get(reverse(url_name))
    assert response.status_code == 200
    html = response.content.decode()
    return html[html.index('<footer class="container py-3 small footer-contacts">') :]


def test_the_session_keeps_the_frame_and_the_next_page_reads_no_clinic(
    parent_client, parent, clinic, django_assert_num_queries
):
    footer_numbers(parent_client)  # the first page reads it and keeps it
    parent.refresh_from_db()  # as the next request loads the user, with the version
    session = parent_client.session
    assert session[SESSION_KEY]["clinic"]["phone_business_hours"] == clinic.phone_business_hours
    request = RequestFactory().get("/")
    request.user, request.session = parent, session

    with django_assert_num_queries(0):
        context = portal(request)
    assert context["clinic"] == clinic and context["is_staff_user"] is False
    assert context["clinic"].phone_after_hours == clinic.phone_after_hours
    assert context["clinic"].closes_at == clinic.closes_at and context["clinic"].tzinfo == clinic.tzinfo


def test_a_new_clinic_number_shows_on_the_next_page(parent_client, clinic):
    assert NEW_NUMBER not in footer_numbers(parent_client)

    clinic.phone_business_hours = NEW_NUMBER
    clinic.save()

    assert f"tel:{NEW_NUMBER}" in footer_numbers(parent_client)


def test_a_child_moving_clinic_moves_the_parents_footer(parent_client, child, other_clinic):
    other_clinic.phone_after_hours = NEW_NUMBER
    other_clinic.save()
    assert NEW_NUMBER not in footer_numbers(parent_client)

    child.clinic = other_clinic
    child.save()

    assert f"tel:{NEW_NUMBER}" in footer_numbers(parent_client)


def test_an_ended_link_and_a_new_one_move_the_footer(parent_client, parent, child, child_in_other_clinic):
    Clinic.objects.filter(pk=child_in_other_clinic.clinic_id).update(phone_after_hours=NEW_NUMBER)
    assert NEW_NUMBER not in footer_numbers(parent_client)

    link = CaregiverLink.objects.get(caregiver=parent.caregiver, patient=child)
    link.active = False
    link.save()
    CaregiverLinkFactory(caregiver=parent.caregiver, patient=child_in_other_clinic)

    assert f"tel:{NEW_NUMBER}" in footer_numbers(parent_client)


def test_a_staff_member_moved_to_another_clinic_sees_its_numbers(client, nurse, other_clinic):
    login_as(client, nurse)
    Clinic.objects.filter(pk=other_clinic.pk).update(phone_business_hours=NEW_NUMBER)
    assert NEW_NUMBER not in footer_numbers(client, "staff:worklist")

    profile = StaffProfile.objects.get(user=nurse)
    profile.clinic = other_clinic
    profile.save()

    assert f"tel:{NEW_NUMBER}" in footer_numbers(client, "staff:worklist")


def test_a_write_without_signals_shows_within_max_age(parent_client, clinic):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        footer_numbers(parent_client)
        Clinic.objects.filter(pk=clinic.pk).update(phone_business_hours=NEW_NUMBER)  # no signal
        assert NEW_NUMBER not in footer_numbers(parent_client)  # the kept copy, still young
    with time_machine.travel(start + timedelta(seconds=MAX_AGE), tick=False):
        assert f"tel:{NEW_NUMBER}" in footer_numbers(parent_client)


def test_a_copy_made_for_another_user_is_not_believed(parent_client, parent, other_parent):
    footer_numbers(parent_client)
    session = parent_client.session
    kept = session[SESSION_KEY]
    other_parent.page_context_version = kept["version"]
    other_parent.save()
    login_as(parent_client, other_parent)
    session = parent_client.session
    session[SESSION_KEY] = {**kept, "clinic": {**kept["clinic"], "phone_business_hours": NEW_NUMBER}}
    session.save()

    assert NEW_NUMBER not in footer_numbers(parent_client)

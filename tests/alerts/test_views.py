"""The staff pages: outbox and escalations, scoped to the nurse's clinic, with engine health."""

from __future__ import annotations

import re
from datetime import timedelta
from html import escape

import pytest
from django.urls import reverse
from django.utils import timezone

from alerts.models import Concern, Heartbeat, SmsMessage
from tests.factories import CaregiverLinkFactory
from tests.helpers import login_as

pytestmark = pytest.mark.django_db


def concern(patient, key, *, tier="urgent", **fields):
    now = timezone.now()
    fields.setdefault("nurse_words", f"Texts for {patient.first_name} not delivered")
    return Concern.objects.create(
        clinic=patient.clinic,
        patient=patient,
        kind="unreachable",
        tier=tier,
        tier_rank={"critical": 0, "urgent": 1, "attention": 2}[tier],
        key=key,
        began_at=now,
        opened_at=now,
        updated_at=now,
        needs_nurse=tier != "attention",
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
    nurse_client.get(reverse("alerts:outbox"))  # not counted: a session's first page stores its frame
    with django_assert_max_num_queries(10):  # 8 + the held-texts banner + the worklist order
        response = nurse_client.get(reverse("alerts:outbox"))
    html = response.content.decode()
    assert html.count("for my clinic") == 5 and "for the other clinic" not in html


def test_the_escalations_page_lists_open_concerns_needing_a_nurse_of_this_clinic_danger_first(
    nurse_client, child, child_in_other_clinic, django_assert_max_num_queries
):
    for i in range(4):
        concern(child, f"k{i}")
    concern(child, "crit", tier="critical", nurse_words="Critical one for Sofia")
    concern(child, "calm", tier="attention", nurse_words="Attention only")
    concern(child_in_other_clinic, "other")
    nurse_client.get(reverse("alerts:escalations"))  # not counted: a session's first page stores its frame
    with django_assert_max_num_queries(10):  # 8 + the held-texts banner + the worklist order
        html = nurse_client.get(reverse("alerts:escalations")).content.decode()
    assert html.count("Texts for Sofia not delivered") == 4 and "Texts for Ava" not in html
    assert "Attention only" not in html
    assert html.index("Critical one for Sofia") < html.index("Texts for Sofia not delivered")


def test_acknowledging_records_who_and_when_and_keeps_it_listed(nurse_client, nurse, child):
    first = concern(child, "k0")
    response = nurse_client.post(reverse("alerts:concern_acknowledge", args=[first.pk]))
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.acknowledged_at is not None and first.acknowledged_by == nurse and first.resolved_at is None
    html = nurse_client.get(reverse("alerts:escalations")).content.decode()
    assert "Texts for Sofia not delivered" in html and "Acknowledged" in html


def test_the_history_shows_resolved_concerns_with_their_reason(nurse_client, child):
    concern(child, "old", resolved_at=timezone.now(), resolved_reason="texts reach the family again")
    assert (
        "texts reach the family again" not in nurse_client.get(reverse("alerts:escalations")).content.decode()
    )
    html = nurse_client.get(reverse("alerts:escalations"), {"resolved": "1"}).content.decode()
    assert "texts reach the family again" in html


def test_a_nurse_cannot_acknowledge_another_clinics_concern(nurse_client, child_in_other_clinic):
    other = concern(child_in_other_clinic, "other")
    assert nurse_client.post(reverse("alerts:concern_acknowledge", args=[other.pk])).status_code == 404
    other.refresh_from_db()
    assert other.acknowledged_at is None


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


def test_the_escalations_page_has_one_card_per_child_in_the_worklists_order(demo_nurse_client):
    """Issue 24, item 10: the demo's children in danger, each once, in the worklist's order, each
    child's concerns on its card; a critical battery concern names the rule that makes it so."""
    from alerts.models import ChildSafety
    from patients.staff.worklist import worklist

    client, nurse = demo_nurse_client
    html = client.get(reverse("alerts:escalations")).content.decode()
    names = re.findall(r'<h2 class="h5 mb-0" id="child-(\d+)">', html)
    assert len(names) == len(set(names)), "one card per child"
    in_danger = set(
        Concern.objects.open()
        .filter(needs_nurse=True, patient__clinic=nurse.staff_profile.clinic)
        .values_list("patient_id", flat=True)
    )
    assert {int(pk) for pk in names} == in_danger
    order = [pk for pk in worklist(user=nurse).values_list("patient_id", flat=True) if pk in in_danger]
    assert [int(pk) for pk in names] == order
    assert ChildSafety.objects.filter(patient_id=order[0]).get().tier_rank == 0
    # Liam's two concerns are on his one card.
    liam = Concern.objects.filter(patient__first_name="Liam", needs_nurse=True).open()
    card = html[html.index(f'id="child-{liam[0].patient_id}"') :].split("</section>")[0]
    assert all(escape(c.nurse_words) in card for c in liam) and len(liam) == 2
    assert "Critical by the ERI rule" in html


@pytest.fixture
def demo_nurse_client(client, db):
    from django.core.management import call_command

    from patients.models import User

    call_command("seed_demo", "--no-summaries", verbosity=0)
    nurse = User.objects.get(email="nurse.rosa@demo.itbportal.test")
    return login_as(client, nurse), nurse

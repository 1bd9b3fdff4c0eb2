"""The five personas of the URL walk, and family A's objects that every URL is tried with."""

from types import SimpleNamespace

import pytest
from django.test import Client
from django.utils import timezone

from alerts.models import Concern, LadderStep
from pumps.documents import visit_summary_store
from tests.factories import AppointmentFactory
from tests.helpers import login_as


@pytest.fixture
def world(child, parent, other_child, other_parent, nurse, other_nurse, child_in_other_clinic, other_clinic):
    # A name and MRN that appear nowhere else, so a leak of child A is easy to spot in any page.
    child.last_name, child.mrn = "Quillfeather", "LEAKCHK7731"
    child.save(update_fields=["last_name", "mrn"])
    pump_a = child.pumps.first()
    users = {"parent_a": parent, "parent_b": other_parent, "nurse_a": nurse, "nurse_b": other_nurse}
    visit_a = pump_a.visits.order_by("-pk").first()
    document_a = visit_summary_store(visit=visit_a)[0]
    appointment_a = AppointmentFactory(patient=child)
    link_a = parent.caregiver.links.get(patient=child)
    now = timezone.now()
    fields = {"clinic": child.clinic, "patient": child, "tier": "urgent", "tier_rank": 1, "needs_nurse": True,
              "began_at": now, "opened_at": now, "updated_at": now}  # fmt: skip
    concern_a = Concern.objects.create(
        kind="unreachable", key=f"walk-{child.pk}", nurse_words="No caregiver can receive texts.", **fields
    )
    printed_a = Concern.objects.create(
        kind="printed_differs", key=f"printed_differs:{visit_a.pk}", nurse_words="Dates differ.", **fields
    )
    call_step_a = LadderStep.objects.create(
        concern=concern_a, rung="call_list", at=now, list_day=timezone.localdate(now, child.clinic.tzinfo)
    )
    return SimpleNamespace(
        child_a=child,
        call_step_a=call_step_a,
        concern_a=concern_a,
        printed_a=printed_a,
        appointment_a=appointment_a,
        link_a=link_a,
        pump_a=pump_a,
        visit_a=visit_a,
        document_a=document_a,
        parent_a=parent,
        parent_b=other_parent,
        nurse_a=nurse,
        nurse_b=other_nurse,
        other_child=other_child,
        child_in_other_clinic=child_in_other_clinic,
        other_clinic=other_clinic,
        users=users,
        secrets=(child.last_name, child.mrn),
    )


@pytest.fixture
def persona_client(world):
    """persona_client("nurse_a") -> a fresh client signed in as that persona (anonymous: none)."""

    def make(persona: str) -> Client:
        client = Client()
        if persona != "anonymous":
            login_as(client, world.users[persona])
        return client

    return make

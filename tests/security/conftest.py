"""The five personas of the URL walk, and family A's objects that every URL is tried with."""

from types import SimpleNamespace

import pytest
from django.test import Client
from django.utils import timezone

from alerts.models import Concern, LadderStep, Reminder, SmsMessage
from patients.contact import _token_hash
from patients.models import LinkInvitation, SignReport
from pumps.documents import visit_summary_store
from tests.factories import AppointmentFactory, CaregiverLinkFactory, PatientFactory, PumpFactory, refill
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
    # Family A is shared: parent A also has a child at clinic B. What each clinic sees of parent A
    # follows the child: its texts, reminders, documents. Each text carries a marker to spot a leak.
    child_a2 = PatientFactory(
        clinic=other_clinic, first_name="Marisol", last_name="Brightwater", mrn="LEAKB2"
    )
    refill(PumpFactory(patient=child_a2))
    CaregiverLinkFactory(patient=child_a2, caregiver=parent.caregiver)
    for patient, marker in ((child, "TXTMARK-A1"), (child_a2, "TXTMARK-B2")):
        reminder = Reminder.objects.create(
            patient=patient,
            caregiver=parent.caregiver,
            kind="refill_due",
            target_date=timezone.now().date(),
            offset_days=99,
            send_after=timezone.now(),
            status="sent",
        )
        SmsMessage.objects.create(
            direction="out", reminder=reminder, patient=patient, caregiver=parent.caregiver,
            to_number="+18015550001", body=f"{marker} refill due", status="delivered",
            created_at=timezone.now(),
        )  # fmt: skip
    SmsMessage.objects.create(
        direction="in", caregiver=parent.caregiver, to_number="+18015550100", from_number="+18015550001",
        body="TXTMARK-REPLY is the visit still on?", status="received", created_at=timezone.now(),
    )  # fmt: skip
    # Parent A, linked at both clinics, gets a real ladder text about child A (clinic A's danger):
    # it counts in clinic A's figures and outbox only (tests/security/test_ladder_and_codes.py).
    ladder_concern_a = Concern.objects.create(
        kind="alarm_near", key=f"walk-alarm-{child.pk}", nurse_words="Alarm near.", **fields
    )
    ladder_step_a = _ladder_text(ladder_concern_a, parent.caregiver, now)
    # A child of clinic A that a nurse asks to add to parent A's account (not linked until accepted).
    child_a3 = PatientFactory(clinic=child.clinic, first_name="Nico")
    invitation_a = LinkInvitation.objects.create(
        caregiver=parent.caregiver,
        patient=child_a3,
        relationship="father",
        token_hash=_token_hash("walk-invitation-token"),
        invited_by=nurse,
        created_at=timezone.now(),
    )
    sign_report_a = SignReport.objects.create(
        patient=child, clinic=child.clinic, reporter=parent.caregiver, reporter_name="Parent A",
        signs=["tone"], groups=["withdrawal"], reported_at=now, last_reported_at=now,
    )  # fmt: skip
    return SimpleNamespace(
        sign_report_a=sign_report_a,
        child_a=child,
        child_a2=child_a2,
        invitation_a=invitation_a,
        invitation_token="walk-invitation-token",
        call_step_a=call_step_a,
        ladder_concern_a=ladder_concern_a,
        ladder_step_a=ladder_step_a,
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
        # What each persona must never see: (secret words, the personas who may).
        secrets_by_owners=[
            ((child.last_name, child.mrn, "TXTMARK-A1"), {"parent_a", "nurse_a"}),
            ((child_a2.last_name, child_a2.mrn, "TXTMARK-B2"), {"parent_a", "nurse_b"}),
            (("TXTMARK-REPLY",), set()),
        ],
    )


def _ladder_text(concern, caregiver, now):
    """The ladder's own first rung (alerts.ladder), as the beat takes it: a text asking for an answer."""
    from alerts.ladder import _text, _text_send
    from alerts.words import sender_of

    clinic = concern.patient.clinic
    words = {
        "danger": "alarm_near",
        "language": caregiver.preferred_language,
        "child": concern.patient.name_in_texts,
        "day": timezone.localdate(now, clinic.tzinfo),
        "phone": clinic.phone_nurse_line,
        "sender": sender_of(clinic),
    }
    step = _text(concern, LadderStep.Rung.TEXT, caregiver, words, now)  # begun, then sent
    _text_send(step.pk, step.send_started_at, now)
    step.refresh_from_db()
    return step


@pytest.fixture
def persona_client(world):
    """persona_client("nurse_a") -> a fresh client signed in as that persona (anonymous: none)."""

    def make(persona: str) -> Client:
        client = Client()
        if persona != "anonymous":
            login_as(client, world.users[persona])
        return client

    return make


def pytest_terminal_summary(terminalreporter):
    """The figures issue 13 asks for: requests walked, personas, inputs fuzzed, 500s seen."""
    from tests.security.test_fuzz import FIGURES

    if FIGURES["requests"]:
        terminalreporter.write_line(
            "hostile-input walk: {requests} requests, {personas} personas, {inputs} inputs, "
            "{500s} responses of 500".format(**FIGURES)
        )

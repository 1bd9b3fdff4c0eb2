"""Tenancy through shared parents, and proven numbers: a parent with children at two clinics,
a parent who saves another family's number, inbound replies from a number not proven."""

import pytest
from django.test import Client, TestCase
from django.urls import reverse

from alerts.concerns import concern_acknowledge
from alerts.inbound import sms_inbound_receive
from alerts.models import Concern
from appointments.models import Appointment
from patients.contact import ProofError, mobile_proof_check, mobile_proof_start
from patients.models import CaregiverLink, MobileProof
from patients.registration import CaregiverError, caregiver_contact_record
from tests.factories import AppointmentFactory
from tests.helpers import code_texted_to, login_as

pytestmark = pytest.mark.django_db


def test_a_nurse_cannot_change_the_number_of_a_parent_shared_with_another_clinic(world):
    caregiver = world.parent_a.caregiver
    before = str(caregiver.mobile)
    with pytest.raises(CaregiverError):
        caregiver_contact_record(
            caregiver=caregiver, by=world.nurse_b, mobile="+18015550777", consent_given=True
        )
    page = login_as(Client(), world.nurse_b).post(
        reverse("staff:caregiver_contact", args=[world.child_a2.pk, world.child_a2.caregiver_links.get().pk]),
        {"mobile": "801 555 0777", "consent": "given", "record": "1"},
    )
    assert page.status_code == 200 and "only the parent can change" in page.content.decode()
    caregiver.refresh_from_db()
    assert str(caregiver.mobile) == before and not MobileProof.objects.exists()


def test_a_shared_parent_who_changes_their_number_is_told_to_each_clinic(world, outbox):
    client = login_as(Client(), world.parent_a)
    data = {"mobile": "801 555 0777", "sms_consent": "on", "preferred_language": "en",
            "quiet_hours_start": "21:00", "quiet_hours_end": "08:00"}  # fmt: skip
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert client.post(reverse("family:texts"), data)["Location"] == reverse("family:mobile_verify")
    client.post(reverse("family:mobile_verify"), {"code": code_texted_to("+18015550777")})
    told = Concern.objects.open().filter(kind="contact_changed", needs_nurse=True)
    assert sorted(told.values_list("clinic_id", flat=True)) == sorted(
        [world.child_a.clinic_id, world.other_clinic.pk]
    )
    # Each clinic's concern is about its own child and names only the parent.
    assert "Brightwater" not in told.get(clinic=world.child_a.clinic).nurse_words
    assert "Quillfeather" not in told.get(clinic=world.other_clinic).nurse_words
    # A nurse of clinic B checks the number with the parent: B's concern closes, A's stays.
    concern_acknowledge(concern=told.get(clinic=world.other_clinic), by=world.nurse_b)
    assert list(told.values_list("clinic_id", flat=True)) == [world.child_a.clinic_id]
    assert Concern.objects.get(kind="contact_changed", clinic=world.other_clinic).resolved_at is not None


def test_linking_by_email_links_nothing_until_the_parent_accepts(world):
    nurse_b = login_as(Client(), world.nurse_b)
    other = world.child_in_other_clinic
    nurse_b.post(
        reverse("staff:caregivers", args=[other.pk]),
        {"link-email": world.parent_b.email, "link-relationship": "mother", "link": "1"},
    )
    assert not CaregiverLink.objects.filter(caregiver__user=world.parent_b, patient=other).exists()
    # Meanwhile the other clinic's nurse sees nothing more of that parent's texts or children.
    assert "Quillfeather" not in nurse_b.get(reverse("alerts:outbox")).content.decode()


def test_a_number_saved_by_another_family_is_not_used_until_proven(world, outbox):
    """Parent B types parent A's number: B never gets it, and A's replies never act for B."""
    number = str(world.parent_a.caregiver.mobile)
    victim = world.parent_b.caregiver
    with TestCase.captureOnCommitCallbacks(execute=True):
        proof = mobile_proof_start(
            caregiver=victim, mobile=number, consent=True, source="portal", by=world.parent_b
        )
    victim.refresh_from_db()
    assert str(victim.mobile) != number
    for guess in ("000000", "123456", "999999", "111111", "222222"):
        with pytest.raises(ProofError):
            mobile_proof_check(proof=proof, code=guess, by=world.parent_b)
    with pytest.raises(ProofError):  # five wrong tries: even the right code no longer works
        mobile_proof_check(proof=proof, code=code_texted_to(number), by=world.parent_b)
    AppointmentFactory(patient=world.other_child)
    sms_inbound_receive(from_number=number, to_number="+1", body="C", message_sid="SMconfirmB")
    assert Appointment.objects.filter(patient=world.other_child, status="confirmed").count() == 0


def test_the_code_is_not_kept_readable_in_the_outbox(world, outbox):
    with TestCase.captureOnCommitCallbacks(execute=True):
        mobile_proof_start(
            caregiver=world.parent_b.caregiver, mobile="+18015550888", consent=False, source="portal", by=None
        )
    code = code_texted_to("+18015550888")
    from alerts.models import SmsMessage

    logged = SmsMessage.objects.get(to_number="+18015550888")
    assert code not in logged.body and "••••••" in logged.body

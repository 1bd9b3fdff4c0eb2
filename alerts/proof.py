"""The number check's text: the code a parent types (or reads out to a nurse) to prove a number.

Set off by the domain event `proof_code_issued` (patients/events.py; a number check began in
patients/contact.py), after the transaction commits."""

from __future__ import annotations

import logging

from django.utils import timezone

from alerts.models import SmsMessage
from alerts.sms import SmsError, send_sms
from alerts.words import proof_text, sender_of
from patients.models import Caregiver, MobileProof

logger = logging.getLogger("alerts")


def proof_code_send(proof_id: int, code: str) -> None:
    """Text the code. The outbox keeps the text without the code, so no one reading it can prove
    the number in the family's place."""
    proof = MobileProof.objects.select_related("caregiver").get(pk=proof_id)
    language = proof.caregiver.preferred_language
    sender = _sender_name(proof.caregiver)
    try:
        result = send_sms(to=str(proof.mobile), body=proof_text(code, language=language, sender=sender))
    except SmsError as error:
        logger.warning(
            "Could not text a proof code to caregiver %s: %s", proof.caregiver_id, error.describe()
        )
        status, sid, backend = "failed", "", ""
    else:
        status, sid, backend = result.status, result.provider_message_id, result.backend
    SmsMessage.objects.create(
        direction=SmsMessage.Direction.OUTBOUND,
        caregiver=proof.caregiver,
        to_number=str(proof.mobile)[:20],
        body=proof_text("••••••", language=language, sender=sender),
        backend=backend,
        provider_message_id=sid[:64],
        status=status,
        created_at=timezone.now(),
    )


def _sender_name(caregiver: Caregiver) -> str:
    """The clinic name texts open with: the caregiver's clinic, when all their children share one."""
    clinics = {
        link.patient.clinic for link in caregiver.links.filter(active=True).select_related("patient__clinic")
    }
    return sender_of(clinics.pop() if len(clinics) == 1 else None, caregiver.preferred_language)

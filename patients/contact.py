"""Writes for how a family is reached: proving a mobile number before it is used, and linking an
existing parent account to a child only once the parent accepts.

A number is a caregiver's (`Caregiver.mobile`, the number reminders go to and inbound replies are
matched on) only after a code texted to it has come back. Until then the old number, if any, keeps
its texts, and consent given with the new number waits for the proof.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext

from patients import events
from patients.models import Caregiver, LinkInvitation, MobileProof, Patient, SmsConsent, User

logger = logging.getLogger("patients")

PROOF_VALID_FOR = timedelta(minutes=30)
PROOF_MAX_ATTEMPTS = 5
# Caps over a rolling day, so no one guesses a code by asking for new ones: codes texted per
# account and per number (each code is a text to that number), and wrong tries per account
# across all its codes. At 10 wrong tries a day, taking over a number needs ~100,000 days.
PROOF_DAY = timedelta(hours=24)
PROOF_CODES_PER_ACCOUNT = 5
PROOF_CODES_PER_NUMBER = 5
PROOF_WRONG_TRIES_PER_ACCOUNT = 10
INVITATION_VALID_FOR = timedelta(days=7)


class ProofError(ValueError):
    """A code that does not prove the number, in plain words (translated)."""


class ProofLimitError(ProofError):
    """A day's cap on codes or wrong tries is reached (the message says what to do instead)."""


def proof_limit_words() -> str:
    return gettext(
        "For your safety, no more codes can be sent or checked today. Please try again tomorrow, "
        "or call the clinic and a nurse will help you."
    )


def _lock_caregiver(caregiver: Caregiver) -> None:
    """Serialize every code start and check of one account (the caps count under this lock)."""
    Caregiver.objects.select_for_update().filter(pk=caregiver.pk).first()


def _lock_number(mobile: str) -> None:
    """Serialize code starts to one number across accounts (PostgreSQL's advisory lock, released
    at the end of the transaction; SQLite runs one writer at a time anyway)."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"itbportal.proof:{mobile}"])


def _wrong_tries_today(caregiver: Caregiver, now: datetime) -> int:
    from django.db.models import Sum

    rows = MobileProof.objects.filter(caregiver=caregiver, created_at__gt=now - PROOF_DAY)
    return rows.aggregate(total=Sum("attempts"))["total"] or 0


def proof_limit_reached(*, caregiver: Caregiver, mobile: str = "", now: datetime | None = None) -> bool:
    """True when no new code may be texted (or checked) for this account or number today."""
    now = now or timezone.now()
    since = now - PROOF_DAY
    return (
        caregiver.mobile_proofs.filter(created_at__gt=since).count() >= PROOF_CODES_PER_ACCOUNT
        or (
            bool(mobile)
            and MobileProof.objects.filter(mobile=mobile, created_at__gt=since).count()
            >= PROOF_CODES_PER_NUMBER
        )
        or _wrong_tries_today(caregiver, now) >= PROOF_WRONG_TRIES_PER_ACCOUNT
    )


def _code_hash(caregiver_id: int, mobile: str, code: str) -> str:
    return salted_hmac("itbportal.mobile_proof", f"{caregiver_id}:{mobile}:{code}").hexdigest()


def mobile_proof_open(*, caregiver: Caregiver, now: datetime | None = None) -> MobileProof | None:
    """The code still waiting to come back, if any."""
    now = now or timezone.now()
    return (
        caregiver.mobile_proofs.filter(
            proven_at__isnull=True,
            withdrawn=False,
            attempts__lt=PROOF_MAX_ATTEMPTS,
            created_at__gt=now - PROOF_VALID_FOR,
        )
        .order_by("-created_at", "-pk")
        .first()
    )


@transaction.atomic
def mobile_proof_start(
    *,
    caregiver: Caregiver,
    mobile: str,
    consent: bool,
    source: str,
    by: User | None,
    now: datetime | None = None,
) -> MobileProof:
    """Text a 6-digit code to `mobile` (after commit). Replaces any code still open. Raises
    ProofLimitError, texting nothing, once the day's codes for this account or this number, or
    the account's wrong tries, are used up."""
    now = now or timezone.now()
    _lock_caregiver(caregiver)
    _lock_number(str(mobile))
    if proof_limit_reached(caregiver=caregiver, mobile=str(mobile), now=now):
        raise ProofLimitError(proof_limit_words())
    caregiver.mobile_proofs.filter(proven_at__isnull=True, withdrawn=False).update(withdrawn=True)
    code = f"{secrets.randbelow(10**6):06d}"
    proof = MobileProof.objects.create(
        caregiver=caregiver,
        mobile=mobile,
        code_hash=_code_hash(caregiver.pk, str(mobile), code),
        consent=consent,
        source=source,
        started_by=by,
        created_at=now,
    )
    events.proof_code_issued_send(proof_id=proof.pk, code=code)
    return proof


def mobile_proof_check(*, proof: MobileProof, code: str, by: User, now: datetime | None = None) -> Caregiver:
    """Take the number once the code matches: it becomes the caregiver's, the consent given with it
    takes effect, reminders are re-planned, and (for a parent shared between clinics) each clinic's
    nurses are told. Raises ProofError for a wrong, used or expired code (a wrong try is counted),
    ProofLimitError once the account's wrong tries for the day are used up (no code is compared)."""
    now = now or timezone.now()
    code = "".join(ch for ch in str(code)[:32] if ch.isdigit())
    with transaction.atomic():
        _lock_caregiver(proof.caregiver)
        proof = MobileProof.objects.select_for_update().select_related("caregiver").get(pk=proof.pk)
        caregiver = proof.caregiver
        if _wrong_tries_today(caregiver, now) >= PROOF_WRONG_TRIES_PER_ACCOUNT:
            raise ProofLimitError(proof_limit_words())
        usable = (
            proof.proven_at is None
            and not proof.withdrawn
            and proof.attempts < PROOF_MAX_ATTEMPTS
            and proof.created_at > now - PROOF_VALID_FOR
        )
        matches = usable and constant_time_compare(
            proof.code_hash, _code_hash(caregiver.pk, str(proof.mobile), code)
        )
        if usable and not matches:
            MobileProof.objects.filter(pk=proof.pk).update(attempts=proof.attempts + 1)
        if matches:
            proof.proven_at = now
            proof.save(update_fields=["proven_at"])
            caregiver.mobile = proof.mobile
            caregiver.save(update_fields=["mobile"])
            _take_effect(proof, caregiver, by=by, now=now)
    if not usable:
        raise ProofError(gettext("This code no longer works. Please ask for a new code."))
    if not matches:
        raise ProofError(gettext("That code is not right. Please check the text and try again."))
    return caregiver


def _take_effect(proof: MobileProof, caregiver: Caregiver, *, by: User, now: datetime) -> None:

    from patients.services import sms_consent_record

    if proof.consent or caregiver.sms_consent:
        # Consent is recorded again with the proven number (the words agreed to name no number).
        source = proof.source if proof.source in SmsConsent.Source.values else SmsConsent.Source.PORTAL
        sms_consent_record(caregiver=caregiver, given=True, source=source, by=by, now=now)
    else:
        for link in caregiver.links.filter(active=True).select_related("patient"):
            events.child_changed_send(patient=link.patient)
    clinics_tell_of_new_number(caregiver=caregiver, now=now)


def caregiver_clinic_ids(caregiver: Caregiver) -> set[int]:
    """The clinics of the children this caregiver is linked to now."""
    return set(caregiver.links.filter(active=True).values_list("patient__clinic_id", flat=True))


def clinics_tell_of_new_number(*, caregiver: Caregiver, now: datetime) -> None:
    """A parent with children at more than one clinic changes their own number (no nurse may):
    each clinic's nurses are told. The safety assessment decides it (a ``contact_changed``
    concern on each of the parent's children, naming only the parent; pumps/safety.py), so the
    refresh of the parent's children is all this does; the nurse acknowledges it once checked."""
    ids = caregiver.links.filter(active=True).values_list("patient_id", flat=True)
    events.children_reassess_send(patient_ids=ids, now=now)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def link_invitation_create(
    *, patient: Patient, by: User, caregiver: Caregiver, relationship: str, primary_contact: bool = False
) -> LinkInvitation:
    """E-mail an existing parent account a link to accept being linked to `patient`."""
    from django.core.mail import send_mail

    token = secrets.token_urlsafe(32)
    invitation = LinkInvitation.objects.create(
        caregiver=caregiver,
        patient=patient,
        relationship=relationship,
        primary_contact=primary_contact,
        token_hash=_token_hash(token),
        invited_by=by,
        created_at=timezone.now(),
    )
    url = settings.PUBLIC_BASE_URL.rstrip("/") + reverse("invite:link", kwargs={"token": token})
    with translation.override(caregiver.preferred_language):
        subject = gettext("A clinic asks to add a child to your ITB Portal account")
        body = gettext(
            "Hello %(name)s,\n\nThe baclofen pump clinic (%(clinic)s) asks to add %(child)s to your ITB "
            "Portal account. Sign in and accept here (the link works for 7 days):\n%(url)s\n\n"
            "If you did not expect this, do nothing and call the clinic: %(phone)s."
        ) % {
            "name": caregiver.user.first_name,
            "clinic": patient.clinic.name,
            "child": patient.first_name,
            "url": url,
            "phone": patient.clinic.phone_nurse_line,
        }
    email = caregiver.user.email
    # Not a task: the link holds the token, of which only the hash is stored, so a worker could
    # not make it again, and it must not sit in a broker message.
    transaction.on_commit(lambda: send_mail(subject, body, None, [email]))
    return invitation


def link_invitation_find(*, token: str, user: User, now: datetime | None = None) -> LinkInvitation | None:
    """The open invitation this token names, for this signed-in parent only."""
    now = now or timezone.now()
    return (
        LinkInvitation.objects.filter(
            token_hash=_token_hash(token[:200]),
            caregiver__user=user,
            accepted_at__isnull=True,
            created_at__gt=now - INVITATION_VALID_FOR,
            patient__active=True,
        )
        .select_related("patient__clinic", "caregiver")
        .first()
    )


@transaction.atomic
def link_invitation_accept(*, invitation: LinkInvitation, now: datetime | None = None):
    """The parent accepted: link the child and plan its texts to them."""

    from patients.services import caregiver_link

    invitation = LinkInvitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at is not None:
        return None
    now = now or timezone.now()
    invitation.accepted_at = now
    invitation.save(update_fields=["accepted_at"])
    link = caregiver_link(
        caregiver=invitation.caregiver,
        patient=invitation.patient,
        relationship=invitation.relationship,
        primary_contact=invitation.primary_contact,
    )
    events.child_changed_send(patient=invitation.patient, now=now)
    return link

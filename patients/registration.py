"""Staff writes that span apps: registering a child with the pump just implanted."""

from __future__ import annotations

import secrets

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from patients import events, text_names
from patients.contact import (
    ProofLimitError,
    caregiver_clinic_ids,
    link_invitation_create,
    mobile_proof_start,
)
from patients.models import (
    Caregiver,
    CaregiverLink,
    Clinic,
    LinkInvitation,
    MobileProof,
    Patient,
    SmsConsent,
    User,
)
from pumps.models import Pump
from pumps.services import refill_record


@transaction.atomic
def patient_register(*, clinic: Clinic, by: User, patient: dict, pump: dict, fill: dict) -> Patient:
    """Create the child and the pump, and record the first program and fill (a visit of kind
    implant, through the same service as every refill). All or nothing."""
    child = Patient.objects.create(
        clinic=clinic, text_name=text_names.default_text_name(patient["first_name"]), **patient
    )
    new_pump = Pump.objects.create(patient=child, **pump)
    refill_record(pump=new_pump, by=by, **{**fill, "kind": "implant"})
    return child


class CaregiverError(ValueError):
    """A caregiver change that cannot be made, in plain words."""


def _proof_start(**kwargs) -> MobileProof:
    """Start a number check for a nurse: the day's cap on codes reads as a nurse's message."""
    try:
        return mobile_proof_start(**kwargs)
    except ProofLimitError as error:
        raise CaregiverError(
            "No more codes can be texted for this parent or this number today (a daily limit that "
            "stops guessing). Nothing was changed. Try again tomorrow."
        ) from error


def _invite_url(user: User) -> str:
    from django.conf import settings
    from django.urls import reverse
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    from patients.invites import invite_token_generator

    uid = urlsafe_base64_encode(force_bytes(user.pk))
    path = reverse("invite:accept", kwargs={"uidb64": uid, "token": invite_token_generator.make_token(user)})
    return settings.PUBLIC_BASE_URL.rstrip("/") + path


@transaction.atomic
def caregiver_invite(
    *,
    patient: Patient,
    by: User,
    email: str,
    first_name: str,
    last_name: str,
    relationship: str,
    primary_contact: bool = False,
    preferred_language: str = "en",
    mobile: str = "",
) -> Caregiver:
    """Create the parent's account (no password yet), link the child, and e-mail the set-password
    link. An address that already has an account is answered the same (see below)."""
    from patients.services import caregiver_create, caregiver_link

    email = email.strip().lower()
    if User.objects.filter(email__iexact=email).exists():
        # The nurse gets the same answer as for a new address (a nurse of any clinic must not
        # learn which e-mails have accounts), and the address gets one e-mail either way: an
        # existing parent account is asked to accept the child (as "Link an existing account"
        # does); any other account is told that it already has one.
        invitation = caregiver_link_existing(
            patient=patient, by=by, email=email, relationship=relationship, primary_contact=primary_contact
        )
        if invitation is not None and invitation.caregiver_id is None:
            _account_exists_mail(email=email, patient=patient, language=preferred_language)
        return invitation.caregiver if invitation is not None else None
    caregiver = caregiver_create(
        email=email, first_name=first_name, last_name=last_name, preferred_language=preferred_language
    )
    if mobile:
        # The number is used only once the code texted to it comes back (read out, or typed in).
        _proof_start(caregiver=caregiver, mobile=mobile, consent=False, source="nurse", by=by)
    caregiver_link(
        caregiver=caregiver, patient=patient, relationship=relationship, primary_contact=primary_contact
    )
    # A worker makes the e-mail and its link after the commit: the link lets anyone set the
    # password, so it never sits in a broker message (AfterCommitTask: lost with the broker, logged).
    from patients.tasks import caregiver_invite_send

    caregiver_invite_send.delay_on_commit(caregiver.pk, patient.pk)
    events.child_changed_send(patient=patient)
    return caregiver


def caregiver_invite_mail(*, caregiver_id: int, patient_id: int) -> bool:
    """E-mail a parent the clinic made an account for the link to choose their password (not
    once they have one: the link would be no use). True if sent."""
    from django.core.mail import send_mail

    caregiver = Caregiver.objects.select_related("user").filter(pk=caregiver_id).first()
    patient = Patient.objects.select_related("clinic").filter(pk=patient_id).first()
    if caregiver is None or patient is None or caregiver.user.has_usable_password():
        return False
    with translation.override(caregiver.preferred_language):
        subject = gettext("Your ITB Portal account")
        body = gettext(
            "Hello %(name)s,\n\nThe baclofen pump clinic (%(clinic)s) has made you an account on the ITB "
            "Portal, where you can always see your child's next refill date and pump alarm date.\n\n"
            "Choose your password here (the link works for 7 days):\n%(url)s\n\n"
            "Questions: call the baclofen pump nurse line, %(phone)s."
        ) % {
            "name": caregiver.user.first_name,
            "clinic": patient.clinic.name,
            "url": _invite_url(caregiver.user),
            "phone": patient.clinic.phone_nurse_line,
        }
    send_mail(subject, body, None, [caregiver.user.email])
    return True


def _account_exists_mail(*, email: str, patient: Patient, language: str) -> None:
    """The e-mail an invitation sends to an address that already has an account it cannot use
    for this child: the same one e-mail every invitation sends, so nothing differs to the nurse."""
    from django.core.mail import send_mail

    with translation.override(language):
        subject = gettext("Your ITB Portal account")
        body = gettext(
            "Hello,\n\nThe baclofen pump clinic (%(clinic)s) tried to invite this e-mail address to the "
            "ITB Portal as a parent, but it already has an account. If you are a parent, please call "
            "the baclofen pump nurse line, %(phone)s, and give the nurses another e-mail address or "
            "ask them to link your account.\n\nIf you did not expect this e-mail, you can ignore it."
        ) % {"clinic": patient.clinic.name, "phone": patient.clinic.phone_nurse_line}
    transaction.on_commit(lambda: send_mail(subject, body, None, [email]))


@transaction.atomic
def caregiver_link_existing(
    *, patient: Patient, by: User, email: str, relationship: str, primary_contact: bool = False
):
    """Ask an existing parent account to be linked: nothing is linked until the parent accepts.

    The nurse's answer, and what she sees after it (the waiting invitation, by the e-mail she
    typed), are the same whether or not the e-mail is a parent account (a nurse of any clinic must
    not learn which e-mails are parents): only a parent account is e-mailed, and only it can ever
    accept. Re-asking the same e-mail for the same child adds nothing."""
    email = email.strip().lower()
    if patient.link_invitations.filter(email__iexact=email, accepted_at__isnull=True).exists():
        return None
    caregiver = Caregiver.objects.filter(user__email__iexact=email, user__is_active=True).first()
    if caregiver is None or caregiver.links.filter(patient=patient, active=True).exists():
        # No one to ask (or already linked): the same row and answer, with no e-mail and no token.
        return LinkInvitation.objects.create(
            caregiver=None,
            email=email,
            patient=patient,
            relationship=relationship,
            primary_contact=primary_contact,
            token_hash=f"none:{secrets.token_hex(27)}",
            invited_by=by,
            created_at=timezone.now(),
        )
    invitation = link_invitation_create(
        patient=patient,
        by=by,
        caregiver=caregiver,
        relationship=relationship,
        primary_contact=primary_contact,
    )
    invitation.email = email
    invitation.save(update_fields=["email"])
    return invitation


def caregiver_shared_elsewhere(*, caregiver: Caregiver, clinic: Clinic) -> bool:
    """True when the caregiver also has a child at another clinic: then only the parent may change
    their contact details (a nurse here would change where the other clinic's texts go)."""
    return bool(caregiver_clinic_ids(caregiver) - {clinic.pk})


@transaction.atomic
def caregiver_contact_record(
    *, caregiver: Caregiver, by: User, mobile: str, consent_given: bool
) -> MobileProof | SmsConsent | None:
    """The mobile number and the text consent the parent gave the nurse (source 'nurse'). A new
    number is texted a code that the parent reads out; it and the consent take effect then.
    Returns the proof started, the consent recorded, or None when nothing changed."""
    from patients.services import sms_consent_record

    if caregiver_shared_elsewhere(caregiver=caregiver, clinic=by.staff_profile.clinic):
        raise CaregiverError(
            "This parent also has a child at another clinic, so only the parent can change their "
            "number or text consent (on the portal's Text messages page). Both clinics are told."
        )
    if consent_given and not mobile:
        raise CaregiverError("Texts need a mobile number.")
    if mobile and str(mobile) != str(caregiver.mobile or ""):
        if not consent_given and caregiver.sms_consent:
            sms_consent_record(caregiver=caregiver, given=False, source="nurse", by=by)
        return _proof_start(caregiver=caregiver, mobile=mobile, consent=consent_given, source="nurse", by=by)
    if not mobile and caregiver.mobile:
        caregiver.mobile = ""
        caregiver.save(update_fields=["mobile"])
    if consent_given == caregiver.sms_consent and mobile:
        return None
    return sms_consent_record(caregiver=caregiver, given=consent_given, source="nurse", by=by)


@transaction.atomic
def caregiver_link_deactivate(*, link: CaregiverLink, by: User) -> CaregiverLink:
    """The parent no longer sees the child or gets its texts; the history stays."""

    link.active = False
    link.save(update_fields=["active"])
    events.child_changed_send(patient=link.patient)
    return link

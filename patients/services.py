"""Writes for people: staff accounts, caregivers, their links to children, and text consent."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from patients import audit, events, text_names
from patients.models import Caregiver, CaregiverLink, Clinic, Patient, SmsConsent, StaffProfile, User

ROLE_GROUPS = {
    StaffProfile.Role.NURSE: "Nurse",
    StaffProfile.Role.PHYSICIAN: "Physician",
    StaffProfile.Role.CLINIC_ADMIN: "Clinic admin",
}

# The exact words a caregiver agrees to; stored with each consent record.
SMS_CONSENT_WORDING = {
    "en": (
        "I agree to receive text message reminders from the baclofen pump clinic about my child's "
        "pump refills, alarm dates and appointments. Message and data rates may apply. "
        "Reply STOP to stop, START to start again, HELP for help."
    ),
    "es": (
        "Acepto recibir recordatorios por mensaje de texto de la clínica de bombas de baclofeno sobre "
        "las recargas de la bomba de mi hijo o hija, las fechas de alarma y las citas. Pueden aplicarse "
        "tarifas de mensajes y datos. Responda STOP para dejar de recibirlos, START para volver a "
        "recibirlos, HELP para obtener ayuda."
    ),
}


@transaction.atomic
def staff_create(
    *, email: str, password: str | None, clinic: Clinic, role: str, first_name: str = "", last_name: str = ""
) -> User:
    user = User.objects.create_user(
        email=email, password=password, first_name=first_name, last_name=last_name
    )
    StaffProfile.objects.create(user=user, clinic=clinic, role=role)
    user.groups.add(Group.objects.get(name=ROLE_GROUPS[role]))
    return user


@transaction.atomic
def caregiver_create(
    *,
    email: str,
    password: str | None = None,
    first_name: str = "",
    last_name: str = "",
    mobile: str = "",
    preferred_language: str = "en",
) -> Caregiver:
    user = User.objects.create_user(
        email=email, password=password, first_name=first_name, last_name=last_name
    )
    return Caregiver.objects.create(user=user, mobile=mobile, preferred_language=preferred_language)


def caregiver_link(
    *, caregiver: Caregiver, patient: Patient, relationship: str = "other", primary_contact: bool = False
) -> CaregiverLink:
    link, _ = CaregiverLink.objects.update_or_create(
        caregiver=caregiver,
        patient=patient,
        defaults={"relationship": relationship, "primary_contact": primary_contact, "active": True},
    )
    text_name_settle(patient=patient)
    return link


class TextNameError(ValueError):
    """A text name the family cannot use; `key` is text_names.text_name_problem's reason."""

    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def family_text_names(patient: Patient) -> set[str]:
    """The text names of the child's siblings: every other child of each parent linked to it."""
    siblings = (
        Patient.objects.filter(
            caregiver_links__active=True,
            caregiver_links__caregiver__links__patient=patient,
            caregiver_links__caregiver__links__active=True,
        )
        .exclude(pk=patient.pk)
        .distinct()
    )
    return {sibling.name_in_texts for sibling in siblings}


def text_name_settle(*, patient: Patient) -> Patient:
    """Give the child the initial form no sibling has, when it has no text name yet or a new link
    brought a sibling with the same one (the child just linked is the one renamed)."""
    taken = family_text_names(patient)
    if patient.text_name and patient.text_name.casefold() not in {name.casefold() for name in taken}:
        return patient
    patient.text_name = text_names.default_text_name(patient.first_name, taken)
    patient.save(update_fields=["text_name"])
    return patient


@transaction.atomic
def child_words_set(*, patient: Patient, text_name: str, comfort_note: str) -> Patient:
    """The child page's "About" form: the text name (refused with TextNameError, and then nothing
    is saved) and what comforts the child at refills. Only a changed name is checked."""
    if " ".join(text_name.split()) != patient.text_name:
        patient = text_name_set(patient=patient, name=text_name)
    patient.comfort_note = comfort_note.strip()
    patient.save(update_fields=["comfort_note"])
    return patient


@transaction.atomic
def text_name_set(*, patient: Patient, name: str) -> Patient:
    """The family's choice of how texts name the child. Texts are worded when they go, so every
    text planned and not yet sent names the child the new way; nothing else holds the name."""
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    name = " ".join(name.split())
    problem = text_names.text_name_problem(
        name, first_name=patient.first_name, last_name=patient.last_name, taken=family_text_names(patient)
    )
    if problem:
        raise TextNameError(problem)
    patient.text_name = name
    patient.save(update_fields=["text_name"])
    return patient


@transaction.atomic
def sms_consent_record(
    *,
    caregiver: Caregiver,
    given: bool,
    source: str,
    by: User | None = None,
    now: datetime | None = None,
) -> SmsConsent:
    """Give or withdraw consent to texts, keeping the exact wording agreed to."""
    now = now or timezone.now()
    language = caregiver.preferred_language
    caregiver.sms_consent = given
    caregiver.sms_consent_at = now if given else None
    caregiver.save(update_fields=["sms_consent", "sms_consent_at"])
    consent = SmsConsent.objects.create(
        caregiver=caregiver,
        given=given,
        mobile=caregiver.mobile,
        wording=SMS_CONSENT_WORDING[language] if given else "",
        language=language,
        source=source,
        recorded_by=by,
        at=now,
    )
    # Texts start or stop with consent, in this same transaction (a withdrawal opens "family
    # cannot be reached" for each linked child).
    for link in caregiver.links.filter(active=True).select_related("patient"):
        events.child_changed_send(patient=link.patient, now=now)
    return consent


@transaction.atomic
def admin_save(*, request, obj) -> None:
    """The admin site's one write (users, staff roles, clinics; every other model is read-only
    there): save, and put who saved which row in the audit log, in one transaction. A staff
    role also sets the role's permission group. A clinic's calendar and refill settings are
    settled by the admin's `save_related` (pumps.services.refill_due_refresh), after its closed
    dates are saved."""
    obj.save()
    if isinstance(obj, StaffProfile):
        # The role's permission group, and no other role's (as staff_create gives it).
        obj.user.groups.remove(*Group.objects.filter(name__in=ROLE_GROUPS.values()))
        if obj.active:
            obj.user.groups.add(Group.objects.get(name=ROLE_GROUPS[obj.role]))
    audit.audit_record(request=request, action=audit.ADMIN_SAVED, obj=obj)

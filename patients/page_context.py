"""What every page shows about the signed-in person, and the writes that change it (issue 27).

Every page's header and footer need the person's clinic (its name and numbers: the emergency
link and the clinic's phones are on every page) and whether they are clinic staff. Reading them
cost two queries under every page, more than the rest of the page's frame. They change rarely, so
the session keeps a copy (patients/common/context_processors.py), believed only while it was made
for this user at their current `User.page_context_version` and is younger than `MAX_AGE`.

The writes that change the copy bump the version of the users it concerns, in the write's own
transaction (the receivers below, on the models' signals, so the admin's edits count too):
- a clinic's details (saved or deleted): every user (the footer of a person with no linked child
  shows the first clinic; clinics are edited rarely);
- a staff profile (clinic, role, active): its user;
- a caregiver link (made, ended, deleted): the caregiver's user;
- a child (saved: it may have moved clinic): the users of its caregivers.
`MAX_AGE` bounds what reaches these tables without signals (a data migration, a bulk update).
"""

from __future__ import annotations

from django.db import DEFAULT_DB_ALIAS
from django.db.models import F
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from patients.models import CaregiverLink, Clinic, Patient, StaffProfile, User

MAX_AGE = 300  # seconds a session's copy is believed at most, whatever the version says


def page_context_compute(user) -> dict:
    """The person's page context from the database: {"clinic": Clinic | None, "is_staff_user"}.
    A staff member's clinic; a caregiver's first linked child's clinic; else the first clinic."""
    clinic = None
    profile = getattr(user, "staff_profile", None)
    if profile is not None:
        clinic = profile.clinic
    elif hasattr(user, "caregiver"):
        link = user.caregiver.links.select_related("patient__clinic").filter(active=True).first()
        clinic = link.patient.clinic if link else None
    if clinic is None:
        clinic = Clinic.objects.order_by("pk").first()
    return {"clinic": clinic, "is_staff_user": bool(profile is not None and profile.active)}


def clinic_values(clinic: Clinic | None) -> dict | None:
    """A clinic as JSON-safe values (a session holds them)."""
    if clinic is None:
        return None
    return {f.attname: f.value_to_string(clinic) for f in Clinic._meta.concrete_fields}


def clinic_from_values(values: dict | None) -> Clinic | None:
    """The clinic `clinic_values` stored, as if read from the database."""
    if values is None:
        return None
    fields = [f for f in Clinic._meta.concrete_fields if f.attname in values]
    return Clinic.from_db(
        DEFAULT_DB_ALIAS, [f.attname for f in fields], [f.to_python(values[f.attname]) for f in fields]
    )


def users_page_context_stale(users) -> None:
    """Every session's copy of these users' page context is read again at their next page."""
    users.update(page_context_version=F("page_context_version") + 1)


@receiver([post_save, post_delete], sender=Clinic, dispatch_uid="page_context_clinic")
def _clinic_changed(sender, instance, **kwargs) -> None:
    users_page_context_stale(User.objects.all())


@receiver([post_save, post_delete], sender=StaffProfile, dispatch_uid="page_context_staff")
def _staff_profile_changed(sender, instance, **kwargs) -> None:
    users_page_context_stale(User.objects.filter(pk=instance.user_id))


@receiver([post_save, post_delete], sender=CaregiverLink, dispatch_uid="page_context_link")
def _link_changed(sender, instance, **kwargs) -> None:
    users_page_context_stale(User.objects.filter(caregiver__pk=instance.caregiver_id))


@receiver(post_save, sender=Patient, dispatch_uid="page_context_patient")
def _patient_changed(sender, instance, created, **kwargs) -> None:
    if not created:  # a new child has no caregiver yet
        users_page_context_stale(User.objects.filter(caregiver__links__patient_id=instance.pk))

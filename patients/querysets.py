"""Named reads for people. Access rules live here, and nowhere else."""

from __future__ import annotations

from django.db import models
from django.db.models import Exists, OuterRef


class PatientQuerySet(models.QuerySet):
    def visible_to(self, user) -> PatientQuerySet:
        """The children `user` may see: staff see their clinic's; a caregiver sees linked children."""
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        profile = getattr(user, "staff_profile", None)
        if profile is not None and profile.active:
            return self.filter(clinic_id=profile.clinic_id)
        from patients.models import CaregiverLink

        links = CaregiverLink.objects.filter(
            patient_id=OuterRef("pk"), caregiver__user_id=user.pk, active=True
        )
        return self.filter(Exists(links))

    def signs_reportable_by(self, user) -> PatientQuerySet:
        """The children `user` may report warning signs for: their own, as a parent (an active
        link to an active child), never a clinic's as staff."""
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        from patients.models import CaregiverLink

        links = CaregiverLink.objects.filter(
            patient_id=OuterRef("pk"), caregiver__user_id=user.pk, active=True
        )
        return self.filter(Exists(links), active=True)

    def active(self) -> PatientQuerySet:
        return self.filter(active=True)

    def search(self, text: str) -> PatientQuerySet:
        text = (text or "").strip()
        if not text:
            return self
        q = models.Q(mrn__iexact=text)
        for word in text.split():
            q |= models.Q(first_name__icontains=word) | models.Q(last_name__icontains=word)
        return self.filter(q)


class CaregiverQuerySet(models.QuerySet):
    def textable(self) -> CaregiverQuerySet:
        """Caregivers who have agreed to texts and have a number to receive them."""
        return self.filter(sms_consent=True, user__is_active=True).exclude(mobile="")

    def of_patient(self, patient) -> CaregiverQuerySet:
        return self.filter(links__patient=patient, links__active=True)


class SignReportQuerySet(models.QuerySet):
    def open(self) -> SignReportQuerySet:
        return self.filter(outcome="")

    def for_clinic(self, clinic) -> SignReportQuerySet:
        """A clinic's reports (tenancy follows the child)."""
        return self.filter(clinic=clinic).select_related("patient", "reporter__user", "outcome_by")

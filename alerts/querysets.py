"""Named reads for the reminder engine's pages."""

from __future__ import annotations

from django.db import models
from django.db.models import Exists, OuterRef


class ConcernQuerySet(models.QuerySet):
    def for_clinic(self, clinic) -> ConcernQuerySet:
        return self.filter(clinic=clinic).select_related("patient", "acknowledged_by")

    def open(self) -> ConcernQuerySet:
        return self.filter(resolved_at__isnull=True)

    def needing_nurse(self) -> ConcernQuerySet:
        """The escalations: open concerns a nurse must act on (critical and urgent)."""
        return self.open().filter(needs_nurse=True)

    def danger_first(self) -> ConcernQuerySet:
        return self.order_by("tier_rank", "-began_at", "-pk")


class SmsMessageQuerySet(models.QuerySet):
    def for_clinic(self, clinic) -> SmsMessageQuerySet:
        """Texts to or from caregivers of this clinic's children."""
        from patients.models import CaregiverLink

        links = CaregiverLink.objects.filter(caregiver_id=OuterRef("caregiver_id"), patient__clinic=clinic)
        return self.filter(Exists(links)).select_related("caregiver__user", "reminder__patient")


class LadderStepQuerySet(models.QuerySet):
    def for_clinic(self, clinic) -> LadderStepQuerySet:
        """Steps about this clinic's children (tenancy follows the child)."""
        return self.filter(concern__clinic=clinic)

    def call_list(self, *, day) -> LadderStepQuerySet:
        """The nurses' call list of a clinic day: children whose ladder reached a person."""
        return (
            self.filter(rung="call_list", list_day=day)
            .select_related("concern__patient", "outcome_by")
            .order_by("outcome_at", "concern__act_by", "pk")
        )

"""Named reads for the reminder engine's pages."""

from __future__ import annotations

from django.db import models
from django.db.models import BooleanField, Case, Exists, OuterRef, Q, Value, When


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
        """Texts about this clinic's children. Tenancy follows the child, never the parent: a text
        that carries its child (a reminder's, a ladder's, an answer to a ladder) shows only at its
        child's clinic. A text about no one child (a keyword, a code) shows at the clinics of its
        caregiver's children, with its words withheld
        (`words_withheld`) when the caregiver also has a child at another clinic, whose texts
        these words may be about."""
        from patients.models import CaregiverLink

        here = CaregiverLink.objects.filter(caregiver_id=OuterRef("caregiver_id"), patient__clinic=clinic)
        elsewhere = CaregiverLink.objects.filter(caregiver_id=OuterRef("caregiver_id")).exclude(
            patient__clinic=clinic
        )
        about_no_child = Q(patient__isnull=True, reminder__isnull=True)
        return (
            self.filter(Q(patient__clinic=clinic) | (about_no_child & Exists(here)))
            .annotate(
                words_withheld=Case(
                    When(about_no_child & Exists(elsewhere), then=Value(True)),
                    default=Value(False),
                    output_field=BooleanField(),
                )
            )
            .select_related("caregiver__user", "reminder__patient", "patient")
        )


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

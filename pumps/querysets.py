"""Named reads for pumps. `with_current()` fetches each pump's current program and latest
visit in two extra queries, whatever the number of pumps or the length of their history."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import models
from django.db.models import OuterRef, Prefetch, Subquery


class ProgramQuerySet(models.QuerySet):
    def current(self) -> ProgramQuerySet:
        """Only the newest program of each pump."""
        newest = self.model.objects.filter(pump_id=OuterRef("pump_id")).order_by("-effective_from", "-pk")
        return self.filter(pk=Subquery(newest.values("pk")[:1]))


class RefillVisitQuerySet(models.QuerySet):
    def latest_per_pump(self) -> RefillVisitQuerySet:
        newest = self.model.objects.filter(pump_id=OuterRef("pump_id")).order_by("-visit_at", "-pk")
        return self.filter(pk=Subquery(newest.values("pk")[:1]))

    def refills(self) -> RefillVisitQuerySet:
        return self.filter(kind__in=["refill", "implant"])


class PumpQuerySet(models.QuerySet):
    def active(self) -> PumpQuerySet:
        return self.filter(explant_date__isnull=True, patient__active=True)

    def with_current(self) -> PumpQuerySet:
        from pumps.models import Program, RefillVisit

        return self.prefetch_related(
            Prefetch(
                "programs",
                queryset=Program.objects.current(),
                to_attr="current_programs",
            ),
            Prefetch(
                "visits",
                queryset=RefillVisit.objects.latest_per_pump().select_related("program", "next_appointment"),
                to_attr="latest_visits",
            ),
        )

    def with_alarm(self) -> PumpQuerySet:
        """Annotate the worst-case alarm instant and refill-due date of the latest visit."""
        from pumps.models import RefillVisit

        latest = RefillVisit.objects.filter(pump_id=OuterRef("pk")).order_by("-visit_at", "-pk")
        return self.annotate(
            alarm_at_worst=Subquery(latest.values("alarm_at_worst")[:1]),
            refill_due=Subquery(latest.values("refill_due")[:1]),
        )

    def alarm_within(self, *, days: int, now: datetime) -> PumpQuerySet:
        return self.with_alarm().filter(alarm_at_worst__lte=now + timedelta(days=days))


class DocumentQuerySet(models.QuerySet):
    def visible_to(self, user) -> DocumentQuerySet:
        """Documents of the children `user` may see (the one access rule, Patient.visible_to)."""
        from patients.models import Patient

        return self.filter(patient__in=Patient.objects.visible_to(user))

    def summaries(self) -> DocumentQuerySet:
        return self.filter(kind="visit_summary")

    def cards(self) -> DocumentQuerySet:
        return self.filter(kind="emergency_card")

    def newest_first(self) -> DocumentQuerySet:
        return self.order_by("-version", "-pk")

"""Named reads for appointments."""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.db.models import Exists, OuterRef


class AppointmentQuerySet(models.QuerySet):
    def open(self) -> AppointmentQuerySet:
        return self.filter(status__in=self.model.OPEN_STATUSES)

    def upcoming(self, *, now: datetime) -> AppointmentQuerySet:
        return self.open().filter(start__gte=now).order_by("start")

    def refills(self) -> AppointmentQuerySet:
        return self.filter(kind=self.model.Kind.REFILL)

    def visible_to(self, user) -> AppointmentQuerySet:
        from patients.models import Patient

        return self.filter(Exists(Patient.objects.visible_to(user).filter(pk=OuterRef("patient_id"))))

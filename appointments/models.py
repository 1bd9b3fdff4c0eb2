"""Appointments: when a child is expected at the clinic, and for what."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from appointments.querysets import AppointmentQuerySet

# The handout: the family is given a cream to numb the child's skin, to put on "an hour before you
# come to the refill appointment".
CREAM_BEFORE = timedelta(hours=1)


class Appointment(models.Model):
    class Kind(models.TextChoices):
        TRIAL = "trial", _("ITB trial")
        IMPLANT = "implant", _("Implant surgery")
        FOLLOW_UP = "follow_up", _("Follow-up / dose adjustment")
        REFILL = "refill", _("Pump refill")
        YEARLY = "yearly", _("Yearly evaluation")
        BATTERY = "battery", _("Battery replacement")

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        CONFIRMED = "confirmed", _("Confirmed")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")
        NO_SHOW = "no_show", _("No-show")

    OPEN_STATUSES = (Status.SCHEDULED, Status.CONFIRMED)

    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="appointments")
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.REFILL)
    start = models.DateTimeField()
    duration_minutes = models.PositiveSmallIntegerField(default=30)
    location = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    notes = models.TextField(blank=True)
    # An appointment after the alarm date is a safety problem: it needs a stated reason.
    after_alarm_reason = models.CharField(max_length=300, blank=True)
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AppointmentQuerySet.as_manager()

    class Meta:
        ordering = ["start"]
        indexes = [models.Index(fields=["patient", "status", "start"], name="appt_patient_status_start")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.start:%Y-%m-%d %H:%M}"

    @property
    def end(self):
        return self.start + timedelta(minutes=self.duration_minutes)

    @property
    def cream_at(self):
        """When the numbing cream goes on: an hour before a refill appointment (None for others)."""
        return self.start - CREAM_BEFORE if self.kind == self.Kind.REFILL else None

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

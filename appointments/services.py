"""Writes for appointments. Every change re-plans the child's reminders in the same transaction."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from alerts.services import reminders_replan

from .models import Appointment


class AppointmentError(ValueError):
    """A change that cannot be made; the message is plain words for the person who asked."""


@transaction.atomic
def appointment_confirm(*, appointment: Appointment, now: datetime | None = None) -> Appointment:
    """The family says they will come (from the portal or a text reply). Repeats are harmless."""
    appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
    if appointment.status == Appointment.Status.CONFIRMED:
        return appointment
    if appointment.status != Appointment.Status.SCHEDULED:
        raise AppointmentError("This appointment can no longer be confirmed. Please call the clinic.")
    appointment.status = Appointment.Status.CONFIRMED
    appointment.confirmed_at = now or timezone.now()
    appointment.save(update_fields=["status", "confirmed_at", "updated_at"])
    reminders_replan(patient=appointment.patient)
    return appointment

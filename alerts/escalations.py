"""Escalations to the nurses are the open concerns that need a nurse (alerts/concerns.py):
no second place decides what is dangerous. This module keeps the entry points the texting
engine calls when a text could not reach a family, and the beat's periodic check."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from alerts.concerns import concerns_email_pending, concerns_refresh, concerns_refresh_due
from alerts.models import Reminder


def escalate_reminder(*, reminder: Reminder, why: str, now: datetime | None = None) -> bool:
    """A text failed, was undelivered or got no delivery report in time: note why on the row
    (the fact the assessment reads is the reminder's own status) and refresh the child's
    concerns, which open "family cannot be reached" once. Returns True when that concern is
    open after the refresh."""
    now = now or timezone.now()
    if why and reminder.last_error != why[:300]:
        Reminder.objects.filter(pk=reminder.pk).update(last_error=why[:300])
    concerns_refresh(patient=reminder.patient, now=now)
    return reminder.patient.concerns.open().filter(kind="unreachable").exists()


def escalations_check(*, now: datetime | None = None) -> int:
    """The beat's check (every few minutes): refresh the children whose stored instant has come
    (what time alone changes: alerts/concerns.py, concerns_refresh_due), e-mail what is still
    unmailed. Returns how many children were refreshed."""
    now = now or timezone.now()
    refreshed = concerns_refresh_due(now=now)
    concerns_email_pending(now=now)
    return refreshed

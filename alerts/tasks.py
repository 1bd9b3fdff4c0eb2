"""Celery tasks: ids in, one service call each. The database holds the truth."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import transaction

from . import services
from .models import Reminder

logger = logging.getLogger("alerts")


@shared_task(ignore_result=True)
def sweep() -> int:
    """Every minute: heartbeat, recover stale claims, claim due rows, hand their ids out."""
    services.heartbeat_record()
    services.reminders_recover_stale()
    ids = services.reminders_claim_due()
    transaction.on_commit(lambda: _dispatch(ids))
    return len(ids)


def _dispatch(ids: list[int]) -> None:
    for pk in ids:
        try:
            send_reminder.delay(pk)
        except Exception:  # noqa: BLE001 - broker down: the row stays claimed and is recovered
            logger.exception("Could not queue reminder %s; it will be recovered", pk)


@shared_task(ignore_result=True, acks_late=True)
def send_reminder(reminder_id: int) -> None:
    reminder = Reminder.objects.filter(pk=reminder_id).first()
    if reminder is None or reminder.status != Reminder.Status.CLAIMED:
        return
    services.reminder_send(reminder=reminder)


@shared_task(ignore_result=True)
def check_escalations() -> int:
    return services.escalations_check()


@shared_task(ignore_result=True)
def replan_all() -> int:
    return services.reminders_replan_all()

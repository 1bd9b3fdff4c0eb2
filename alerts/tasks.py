"""Celery tasks: ids in, one service call each. The database holds the truth."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import transaction

from alerts import sending
from alerts.escalations import escalations_check
from alerts.holds import holds_alert_pending
from alerts.planning import reminders_replan_all

logger = logging.getLogger("alerts")


SEND_BATCH = 50  # ids per send task: one broker message and one DB connection for many texts


@shared_task(ignore_result=True)
def sweep() -> int:
    """Every minute: heartbeat, alerts about held texts not yet e-mailed, recover lost claims and
    sends, claim due rows, hand their ids out in batches. A full claim queues the next sweep
    behind its batches, so a backlog drains at the workers' pace without piling up claims."""
    sending.heartbeat_record()
    holds_alert_pending()
    sending.reminders_recover_stale()
    ids = sending.reminders_claim_due(limit=sending.CLAIM_BATCH)
    more = len(ids) >= sending.CLAIM_BATCH
    transaction.on_commit(lambda: _dispatch(ids, more=more))
    return len(ids)


def _dispatch(ids: list[int], *, more: bool = False) -> None:
    for start in range(0, len(ids), SEND_BATCH):
        batch = ids[start : start + SEND_BATCH]
        try:
            send_reminders.delay(batch)
        except Exception:  # noqa: BLE001 - broker down: the rows stay claimed and are recovered
            logger.exception("Could not queue reminders %s; they will be recovered", batch)
    if more:
        try:
            sweep.delay()
        except Exception:  # noqa: BLE001 - beat starts the next sweep within a minute anyway
            logger.exception("Could not queue the next sweep")


@shared_task(ignore_result=True, acks_late=True)
def send_reminders(reminder_ids: list[int]) -> int:
    """Send a batch of claimed reminders, each row in its own short locked transaction."""
    return sending.reminders_send(reminder_ids=reminder_ids)


@shared_task(ignore_result=True, acks_late=True)
def send_reminder(reminder_id: int) -> None:
    sending.reminders_send(reminder_ids=[reminder_id])


@shared_task(ignore_result=True)
def check_escalations() -> int:
    return escalations_check()


@shared_task(ignore_result=True)
def replan_all() -> int:
    return reminders_replan_all()


@shared_task(ignore_result=True)
def advance_ladders() -> int:
    """Every few minutes: take each open ladder's due rung (alerts/ladder.py)."""
    from alerts.ladder import ladders_advance

    return ladders_advance()

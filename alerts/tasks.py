"""Celery tasks: ids in, one service call each. The database holds the truth."""

from __future__ import annotations

import logging

from celery import shared_task

from alerts import sending
from alerts.escalations import escalations_check
from alerts.holds import holds_alert_pending
from alerts.planning import reminders_replan_all

logger = logging.getLogger("alerts")


SEND_BATCH = 50  # ids per send task: one broker message and one DB connection for many texts


@shared_task(name="alerts.tasks.sweep", ignore_result=True)
def sweep() -> int:
    """Every minute: heartbeat, alerts about held texts not yet e-mailed, recover lost claims and
    sends, claim due rows, hand their ids out in batches. A full claim queues the next sweep
    behind its batches, so a backlog drains at the workers' pace without piling up claims."""
    sending.heartbeat_record()
    holds_alert_pending()
    sending.reminders_recover_stale()
    ids = sending.reminders_claim_due(limit=sending.CLAIM_BATCH)
    more = len(ids) >= sending.CLAIM_BATCH
    dispatch(ids)
    if more:
        sweep.delay_on_commit()  # a full claim queues the next sweep behind its batches
    return len(ids)


def dispatch(ids: list[int]) -> None:
    """Hand claimed ids out in batches once the claim commits; a batch the broker refuses stays
    claimed and is recovered (alerts/sending.py)."""
    for start in range(0, len(ids), SEND_BATCH):
        send_reminders.delay_on_commit(ids[start : start + SEND_BATCH])


@shared_task(name="alerts.tasks.send_reminders", ignore_result=True, acks_late=True)
def send_reminders(reminder_ids: list[int]) -> int:
    """Send a batch of claimed reminders, each row in its own short locked transaction. Returns
    once every row is handed to a sending thread, not when the last answer comes (a hung request
    must not keep the process from its next batch); the rows are begun before, so a process that
    dies meanwhile leaves them to the unknown-outcome rule (alerts/sending.py)."""
    return sending.reminders_send(reminder_ids=reminder_ids, wait=False)


@shared_task(name="alerts.tasks.send_reminder", ignore_result=True, acks_late=True)
def send_reminder(reminder_id: int) -> None:
    sending.reminders_send(reminder_ids=[reminder_id], wait=False)


@shared_task(name="alerts.tasks.hold_alert_send", ignore_result=True)
def hold_alert_send(hold_id: int) -> None:
    """E-mail the clinic's admins that its texts are held (queued when the hold begins)."""
    from alerts.holds import hold_alert

    hold_alert(hold_id=hold_id)


@shared_task(name="alerts.tasks.concerns_email", ignore_result=True)
def concerns_email(concern_ids: list[int]) -> None:
    """E-mail the nurse inbox about concerns that opened needing a nurse (once each)."""
    from alerts.concerns import concerns_email_each

    concerns_email_each(concern_ids)


@shared_task(name="alerts.tasks.check_escalations", ignore_result=True)
def check_escalations() -> int:
    return escalations_check()


@shared_task(name="alerts.tasks.refresh_all", ignore_result=True)
def refresh_all() -> int:
    """Daily: assess every active child, whatever its stored instant (the safety net)."""
    from alerts.concerns import concerns_refresh_all

    return concerns_refresh_all()


@shared_task(name="alerts.tasks.replan_all", ignore_result=True)
def replan_all() -> int:
    return reminders_replan_all()


@shared_task(name="alerts.tasks.advance_ladders", ignore_result=True)
def advance_ladders() -> int:
    """Every few minutes: take each open ladder's due rung (alerts/ladder.py)."""
    from alerts.ladder import ladders_advance

    return ladders_advance()

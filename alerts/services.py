"""The reminder engine's writes and health, in one place to import from.

Contract used by every write that changes a fact about a child (refill, dose change, ERI,
appointment booked / moved / cancelled / completed / no-show, consent given or withdrawn,
caregiver linked or removed): call `reminders_replan(patient=...)` inside the same transaction.
It first refreshes the child's concerns (`concerns_refresh`, alerts/concerns.py), then plans the
texts from the governing dates they store. A write that changes no date (a delivery report)
calls `concerns_refresh` alone. The rules of sending (claims,
retries, lost messages, holds) are written down in alerts/sending.py.
"""

from __future__ import annotations

from datetime import datetime

from alerts.concerns import concern_acknowledge, concerns_refresh, concerns_refresh_many
from alerts.escalations import escalate_reminder, escalations_check
from alerts.holds import hold_raise, hold_release, holds_alert_pending, holds_open
from alerts.inbound import sms_inbound_receive, sms_status_update
from alerts.planning import reminders_replan, reminders_replan_all
from alerts.sending import (
    heartbeat_record,
    reminder_send,
    reminders_claim_due,
    reminders_recover_stale,
    reminders_send,
    sweep_health,
)

__all__ = [
    "concern_acknowledge",
    "concerns_refresh",
    "concerns_refresh_many",
    "escalate_reminder",
    "escalations_check",
    "heartbeat_record",
    "hold_raise",
    "hold_release",
    "holds_alert_pending",
    "holds_open",
    "reminder_send",
    "reminders_claim_due",
    "reminders_consent_changed",
    "reminders_recover_stale",
    "reminders_replan",
    "reminders_replan_all",
    "reminders_send",
    "sms_inbound_receive",
    "sms_status_update",
    "sweep_health",
]


def reminders_consent_changed(*, caregiver, consent, now: datetime | None = None) -> None:
    """Consent given or withdrawn: refresh each linked child's concerns (a withdrawal opens
    "family cannot be reached") and re-plan its texts, in the caller's transaction."""
    for link in caregiver.links.filter(active=True).select_related("patient"):
        reminders_replan(patient=link.patient, now=now)

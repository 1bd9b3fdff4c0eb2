"""The reminder engine's writes and health, in one place to import from.

Contract used by every write that changes a date a family relies on (refill, dose change,
appointment booked / moved / cancelled, consent given or withdrawn): call
`reminders_replan(patient=...)` inside the same transaction. The rules of sending (claims,
retries, lost messages, holds) are written down in alerts/sending.py.
"""

from __future__ import annotations

from datetime import datetime

from .escalations import (
    escalate_opt_out,
    escalation_raise,
    escalation_resolve,
    escalations_check,
)
from .holds import hold_raise, hold_release, holds_alert_pending, holds_open
from .inbound import sms_inbound_receive, sms_status_update
from .planning import reminders_replan, reminders_replan_all
from .sending import (
    heartbeat_record,
    reminder_send,
    reminders_claim_due,
    reminders_recover_stale,
    reminders_send,
    sweep_health,
)

__all__ = [
    "escalation_raise",
    "escalation_resolve",
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
    """Consent given or withdrawn: replan each linked child; a withdrawal tells the nurses."""
    for link in caregiver.links.filter(active=True).select_related("patient"):
        reminders_replan(patient=link.patient, now=now)
    if not consent.given:
        escalate_opt_out(caregiver=caregiver, consent_id=consent.pk, now=now)

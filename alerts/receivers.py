"""The engine's answers to the domain's events (patients/events.py), connected in alerts/apps.py.

Each runs in the caller's transaction: a refill, a booking or a consent change re-assesses the
child and re-plans its texts before it commits, or not at all."""

from __future__ import annotations

from django.db import transaction

from alerts.concerns import children_recheck, concerns_refresh_many
from alerts.planning import reminders_replan
from alerts.proof import proof_code_send


def on_child_changed(sender, *, patient, now=None, **kwargs) -> None:
    reminders_replan(patient=patient, now=now)


def on_children_reassess(sender, *, patient_ids, now=None, **kwargs) -> None:
    concerns_refresh_many(patient_ids=list(patient_ids), now=now)


def on_clinic_rules_changed(sender, *, clinic_id, now=None, **kwargs) -> None:
    children_recheck(clinic_id=clinic_id, at=now)


def on_proof_code_issued(sender, *, proof_id: int, code: str, **kwargs) -> None:
    # In this process, right after commit (not through the queue: the code must not sit in a
    # broker message, and a parent waits for it on the page).
    transaction.on_commit(lambda: proof_code_send(proof_id, code))

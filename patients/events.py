"""Domain events: how a domain write sets off the engine's work, in the same transaction.

The one pattern (README, "Layers"). The domain (`patients`, `pumps`, `appointments`) never
imports the engine (`alerts`): a domain service that changes a fact the engine plans from calls
one of the functions below inside its transaction, and the engine connects its receivers when
Django starts (`alerts/apps.py`, receivers in `alerts/receivers.py`). Receivers run at once, in
the caller's transaction, so the re-plan commits or rolls back with the write.

A write never goes unheard: with no receiver connected (the engine not installed) an event
raises instead of leaving a child's texts and concerns as they were; the system check
`itbportal.E001` says so at start-up too.

The events and what the engine does with each:
- `child_changed(patient, now)`: a fact about one child changed (refill, programming, ERI,
  appointment booked / moved / cancelled / completed / no-show, consent given or withdrawn,
  caregiver linked or removed): refresh the child's concerns and re-plan its texts.
- `children_reassess(patient_ids, now)`: something the safety assessment reads changed but no
  planned date did (a shared parent's new number): refresh these children's concerns only.
- `clinic_rules_changed(clinic_id, now)`: a clinic's rules the assessment reads changed (lead
  days, the texts-held delay, the calendar, the time zone): every child of the clinic is
  assessed again at the next 5-minute check (their stored instant moves to now).
- `proof_code_issued(proof_id, code)`: a number check began: text the code after commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.core.exceptions import ImproperlyConfigured
from django.dispatch import Signal

child_changed = Signal()
children_reassess = Signal()
clinic_rules_changed = Signal()
proof_code_issued = Signal()

ALL = {
    "child_changed": child_changed,
    "children_reassess": children_reassess,
    "clinic_rules_changed": clinic_rules_changed,
    "proof_code_issued": proof_code_issued,
}


def _send(signal: Signal, name: str, **kwargs) -> None:
    if not signal.has_listeners():
        raise ImproperlyConfigured(
            f"No receiver for the domain event {name}: is the engine (alerts) installed?"
        )
    signal.send(sender=None, **kwargs)


def child_changed_send(*, patient, now: datetime | None = None) -> None:
    """Call inside the transaction of every write that changes a fact about the child."""
    _send(child_changed, "child_changed", patient=patient, now=now)


def children_reassess_send(*, patient_ids: Iterable[int], now: datetime | None = None) -> None:
    ids = sorted(set(patient_ids))
    if ids:
        _send(children_reassess, "children_reassess", patient_ids=ids, now=now)


def clinic_rules_changed_send(*, clinic_id: int, now: datetime | None = None) -> None:
    _send(clinic_rules_changed, "clinic_rules_changed", clinic_id=clinic_id, now=now)


def proof_code_issued_send(*, proof_id: int, code: str) -> None:
    _send(proof_code_issued, "proof_code_issued", proof_id=proof_id, code=code)

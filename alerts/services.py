"""Reminder planning and sending. The reminder engine (issue 5) fills this module in.

Contract used by every write that changes a date a family relies on (refill, dose change,
appointment booked / moved / cancelled, consent given or withdrawn): call
`reminders_replan(patient=...)` inside the same transaction.
"""

from __future__ import annotations

from datetime import datetime


def reminders_replan(*, patient, now: datetime | None = None) -> None:
    """Rebuild the patient's reminder plan (issue 5 replaces this body)."""

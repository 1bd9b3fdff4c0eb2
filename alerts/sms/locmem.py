"""Test backend: texts are kept in the module-level `outbox` list (shared by threads)."""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from alerts.sms import Accepted, SendResult


@dataclass(frozen=True)
class LocmemMessage:
    to: str
    body: str
    sid: str
    at: datetime = field(default_factory=timezone.now)


outbox: list[LocmemMessage] = []
# Numbers whose texts the provider accepts but whose delivery report is still to come (status
# "sent"): the simulated clinic year (patients/demo/simulation.py) then reports them undelivered.
awaiting_report: set[str] = set()
_lock = threading.Lock()


class LocmemBackend:
    name = "locmem"

    def send(self, *, to: str, body: str, reference: str = "") -> SendResult:
        sid = "LOCMEM" + uuid.uuid4().hex[:26]
        with _lock:
            outbox.append(LocmemMessage(to=to, body=body, sid=sid))
        status = "sent" if to in awaiting_report else "delivered"
        return SendResult(provider_message_id=sid, status=status, backend=self.name)

    def accepted_since(self, *, to: str, body: str, since: datetime, sender: str = "") -> list[Accepted]:
        """By number and body only: tests pass `now` without always pinning the clock, and the
        outbox is emptied for every test."""
        with _lock:
            kept = list(outbox)
        return [
            Accepted(provider_message_id=m.sid, status="delivered", at=m.at, body=m.body, backend=self.name)
            for m in kept
            if m.to == to and m.body == body
        ]

"""Test backend: texts are kept in the module-level `outbox` list (shared by threads)."""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass

from alerts.sms import SendResult


@dataclass(frozen=True)
class LocmemMessage:
    to: str
    body: str
    sid: str


outbox: list[LocmemMessage] = []
_lock = threading.Lock()


class LocmemBackend:
    name = "locmem"

    def send(self, *, to: str, body: str, reference: str = "") -> SendResult:
        sid = "LOCMEM" + uuid.uuid4().hex[:26]
        with _lock:
            outbox.append(LocmemMessage(to=to, body=body, sid=sid))
        return SendResult(provider_message_id=sid, status="delivered", backend=self.name)

"""Test backend: calls are kept in the module-level `outbox` list (shared by threads)."""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass

from alerts.voice import CallResult


@dataclass(frozen=True)
class LocmemCall:
    to: str
    twiml: str
    status_url: str
    sid: str


outbox: list[LocmemCall] = []
_lock = threading.Lock()


class LocmemBackend:
    name = "locmem"

    def call(self, *, to: str, twiml: str, status_url: str) -> CallResult:
        sid = "CA" + uuid.uuid4().hex
        with _lock:
            outbox.append(LocmemCall(to=to, twiml=twiml, status_url=status_url, sid=sid))
        return CallResult(provider_call_id=sid, status="queued", backend=self.name)

"""Development backend: the call goes to the log (the ladder step on the chart records it)."""

from __future__ import annotations

import logging
import uuid

from alerts.voice import CallResult

logger = logging.getLogger("alerts.voice")


class ConsoleBackend:
    name = "console"

    def call(self, *, to: str, twiml: str, status_url: str) -> CallResult:
        sid = "CONSOLE" + uuid.uuid4().hex[:26]
        logger.info("Call to %s (%s): %s", to, sid, twiml)
        return CallResult(provider_call_id=sid, status="queued", backend=self.name)

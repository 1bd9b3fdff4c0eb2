"""Development backend: the text goes to the log. reminder_send stores every outbound text in
SmsMessage, so `make run` shows it on the staff outbox page (alerts:outbox)."""

from __future__ import annotations

import logging
import uuid

from alerts.sms import SendResult

logger = logging.getLogger("alerts.sms")


class ConsoleBackend:
    name = "console"

    def send(self, *, to: str, body: str, reference: str = "") -> SendResult:
        sid = "CONSOLE" + uuid.uuid4().hex[:26]
        logger.info("Text to %s (%s): %s", to, sid, body)
        # Nothing can fail to arrive in a log: reported delivered so no escalation follows.
        return SendResult(provider_message_id=sid, status="delivered", backend=self.name)

    def accepted_since(self, *, to: str, body: str, since, sender: str = "") -> None:
        return None  # a log keeps no record to ask: the text goes again

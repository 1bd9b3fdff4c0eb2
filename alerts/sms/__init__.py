"""Text messages behind one module, the way Django does e-mail.

`SMS_BACKEND` chooses the backend: "console" (development: logs the text; the outbox page shows
it), "locmem" (tests: keeps texts in `alerts.sms.locmem.outbox`), "twilio" (production), or a
dotted path to a class. Every backend has `send(*, to, body, reference="") -> SendResult`
(reference: the signed name of the send, alerts.begun.callback_ref, which comes back with the
provider's delivery reports) and raises
`SmsTransientError` (worth retrying: timeouts, connection errors, 5xx, 429, rate limits),
`SmsPermanentError` (never retried for this number: opted out, invalid number, not a mobile...) or
`SmsConfigurationError` (our account or sender is wrong: the clinic's queue waits for a fix).
Which Twilio code is which: `alerts.sms.errors`. A reply can also accept a text and say at once
that it failed (status failed/undelivered, with its error code): that is a SendResult, not an error.
Only `alerts/sms/twilio.py` imports the twilio SDK.

Before a text whose send began is sent again (its outcome unknown: the worker died, or recording
the provider's answer failed), alerts.sending asks the backend what it holds:
`accepted_since(*, to, body, since, sender="") -> list[Accepted] | None`, the texts with this
body to this number (from this sender, when given) the provider accepted since `since` (None: this
backend keeps no record to ask). It raises SmsError when the provider cannot be asked now. A
backend may say what its texts go from (`sender() -> str`: Twilio's messaging service or number);
alerts.begun stores it with the begun send.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.utils.module_loading import import_string

BACKENDS = {
    "console": "alerts.sms.console.ConsoleBackend",
    "locmem": "alerts.sms.locmem.LocmemBackend",
    "twilio": "alerts.sms.twilio.TwilioBackend",
}


@dataclass(frozen=True)
class SendResult:
    provider_message_id: str
    status: str  # the provider's status: queued, sent, delivered...
    backend: str
    from_number: str = ""
    error_code: int | None = None  # set when the reply's status is failed or undelivered


@dataclass(frozen=True)
class Accepted:
    """A text the provider holds a record of (alerts.sending reconciles a begun send with it)."""

    provider_message_id: str
    status: str
    at: datetime  # when the provider accepted it
    body: str
    backend: str
    from_number: str = ""
    error_code: int | None = None

    def result(self) -> SendResult:
        return SendResult(
            provider_message_id=self.provider_message_id,
            status=self.status,
            backend=self.backend,
            from_number=self.from_number,
            error_code=self.error_code,
        )


class SmsError(Exception):
    def __init__(self, message: str, *, code: int | None = None):
        super().__init__(message)
        self.code = code

    def describe(self) -> str:
        from alerts.sms.errors import meaning

        text = f"{self.code}: {self}" if self.code else str(self)
        return f"{text} ({meaning(self.code)})" if meaning(self.code) else text


class SmsTransientError(SmsError):
    """The text may go through if tried again later."""


class SmsOutcomeUnknownError(SmsTransientError):
    """The request may have reached the provider (no answer came: a read timeout, a connection
    dropped after sending): the text may have been accepted, so it is looked up at the provider
    before it goes again, never simply sent again (issue 23)."""


class SmsPermanentError(SmsError):
    """The text will never go through to this number as it is."""


class SmsConfigurationError(SmsError):
    """Our account or sender is wrong (e.g. a rotated auth token): no text can go until fixed."""


def get_backend(name: str | None = None):
    name = name or settings.SMS_BACKEND
    return import_string(BACKENDS.get(name, name))()


def send_sms(*, to: str, body: str, reference: str = "") -> SendResult:
    return get_backend().send(to=to, body=body, reference=reference)

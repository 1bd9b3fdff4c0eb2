"""Phone calls behind one module, the way alerts.sms does texts.

`VOICE_BACKEND` chooses the backend: "console" (development: logs the call), "locmem" (tests:
keeps calls in `alerts.voice.locmem.outbox`), "twilio" (production, Twilio's Calls API through
the twilio SDK), or a dotted path to a class. Every backend has
`call(*, to, twiml, status_url) -> CallResult`: `twiml` is what the call says (alerts/voice/twiml.py),
`status_url` is where the provider reports the call's outcome. Errors are alerts.sms's
`SmsTransientError` / `SmsPermanentError`, so callers handle one family of outside failures.
Only `alerts/voice/twilio.py` (and alerts/sms/twilio.py) import the twilio SDK.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string

BACKENDS = {
    "console": "alerts.voice.console.ConsoleBackend",
    "locmem": "alerts.voice.locmem.LocmemBackend",
    "twilio": "alerts.voice.twilio.TwilioBackend",
}


@dataclass(frozen=True)
class CallResult:
    provider_call_id: str
    status: str  # the provider's status: queued, ringing...
    backend: str


def get_backend(name: str | None = None):
    name = name or settings.VOICE_BACKEND
    return import_string(BACKENDS.get(name, name))()


def place_call(*, to: str, twiml: str, status_url: str) -> CallResult:
    return get_backend().call(to=to, twiml=twiml, status_url=status_url)

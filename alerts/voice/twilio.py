"""Production backend: Twilio's Calls API through the real twilio SDK.

Settings: TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_VOICE_FROM_NUMBER (a voice-capable number;
a messaging service cannot place calls), TWILIO_CALL_RING_SECONDS, and TWILIO_API_BASE_URL, which
points the SDK at a local fake in tests exactly as the text backend does. The TwiML is sent inline
with the request (no answer webhook to fetch it from); the status callback reports how the call ended.
"""

from __future__ import annotations

import requests
from django.conf import settings
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from alerts.sms import SmsTransientError
from alerts.sms.twilio import BaseUrlHttpClient, error_for
from alerts.voice import CallResult


class TwilioBackend:
    name = "twilio"

    def __init__(self):
        http_client = BaseUrlHttpClient(settings.TWILIO_API_BASE_URL, timeout=settings.TWILIO_TIMEOUT_SECONDS)
        self.client = Client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, http_client=http_client)

    def call(self, *, to: str, twiml: str, status_url: str) -> CallResult:
        try:
            call = self.client.calls.create(
                to=to,
                from_=settings.TWILIO_VOICE_FROM_NUMBER,
                twiml=twiml,
                status_callback=status_url,
                status_callback_method="POST",
                status_callback_event=["completed"],
                timeout=settings.TWILIO_CALL_RING_SECONDS,
            )
        except TwilioRestException as exc:
            raise error_for(exc) from exc
        except (requests.Timeout, requests.ConnectionError) as exc:
            raise SmsTransientError(f"{exc.__class__.__name__} talking to Twilio") from exc
        return CallResult(provider_call_id=call.sid, status=call.status or "queued", backend=self.name)

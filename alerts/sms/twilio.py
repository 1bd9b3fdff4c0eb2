"""Production backend: the real twilio SDK.

Settings: TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_MESSAGING_SERVICE_SID (preferred) or
TWILIO_FROM_NUMBER, TWILIO_VALIDITY_PERIOD (seconds a text may wait at Twilio), TWILIO_TIMEOUT_SECONDS,
and TWILIO_API_BASE_URL: Twilio's own by default; tests and staging point the real SDK at a local
fake by rewriting the SDK's https://api.twilio.com prefix in a custom HTTP client.
Each text carries a status callback URL (PUBLIC_BASE_URL + reverse('alerts:twilio_status')).

A timeout after the request left is an unknown outcome: it is treated as transient and retried,
which may give a second text rather than none (the rule of alerts.sending).
"""

from __future__ import annotations

import os
import threading
from datetime import datetime, timedelta
from urllib.parse import urlencode

import requests
import urllib3
from django.conf import settings
from django.urls import reverse
from requests.adapters import HTTPAdapter
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from alerts.sms import (
    Accepted,
    SendResult,
    SmsConfigurationError,
    SmsError,
    SmsOutcomeUnknownError,
    SmsPermanentError,
    SmsTransientError,
    errors,
)

TWILIO_API = "https://api.twilio.com"
# Asking Twilio what it holds before a begun text goes again (alerts.sending): how far before the
# send began a record may be dated (our clock and Twilio's), and how many messages a page reads.
CLOCK_GRACE = timedelta(minutes=1)
LIST_LIMIT = 50
POOL_SIZE = 64  # keep-alive connections kept per process: at least its sending threads
ERROR_TYPES = {
    errors.ErrorClass.PERMANENT: SmsPermanentError,
    errors.ErrorClass.TRANSIENT: SmsTransientError,
    errors.ErrorClass.CONFIGURATION: SmsConfigurationError,
}


class BaseUrlHttpClient(TwilioHttpClient):
    """Sends the SDK's requests to settings.TWILIO_API_BASE_URL instead of api.twilio.com."""

    def __init__(self, base_url: str, **kwargs):
        super().__init__(**kwargs)
        self.base_url = base_url.rstrip("/")

    def request(self, method, url, *args, **kwargs):
        if url.startswith(TWILIO_API):
            url = self.base_url + url[len(TWILIO_API) :]
        return super().request(method, url, *args, **kwargs)


def error_for(exc: TwilioRestException) -> SmsError:
    """The backend's error for Twilio's refusal, classified by the table in alerts.sms.errors."""
    status = int(exc.status or 0)
    code = exc.code or status or None
    message = (exc.msg or "Twilio error")[:200]
    kind = ERROR_TYPES[errors.classify(code=exc.code, http_status=status)]
    return kind(message, code=code)


def result_from(message, backend: str) -> SendResult:
    """What Twilio's creation reply says: its sid, status (failed/undelivered come with a code)."""
    return SendResult(
        provider_message_id=message.sid,
        status=message.status or "queued",
        backend=backend,
        from_number=message.from_ or "",
        error_code=message.error_code,
    )


_session: tuple[tuple, requests.Session] | None = None
_session_lock = threading.Lock()
_per_thread = threading.local()


def process_session() -> requests.Session:
    """The process's one HTTP session to Twilio: its keep-alive connections are reused by every
    text the process sends, from every sending thread (a new TLS connection per text cost more
    than the text). Made anew in a forked child (a Celery pool process), never shared with it.

    requests reads the proxy variables and CA bundle from the environment on every request
    (about a third of the HTTP client's CPU per text); the session reads them once instead:
    HTTPS_PROXY/NO_PROXY for the API's address, REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE."""
    global _session
    key = (os.getpid(), settings.TWILIO_API_BASE_URL)
    with _session_lock:
        if _session is None or _session[0] != key:
            session = requests.Session()
            session.proxies.update(requests.utils.get_environ_proxies(settings.TWILIO_API_BASE_URL))
            bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
            if bundle:
                session.verify = bundle
            session.trust_env = False  # read above, once
            adapter = HTTPAdapter(pool_connections=1, pool_maxsize=POOL_SIZE)
            session.mount("https://", adapter)
            session.mount("http://", adapter)  # the local fake of tests and benchmarks
            _session = (key, session)
        return _session[1]


def shared_client() -> Client:
    """This thread's twilio Client over the process's session. The SDK's HTTP client keeps the
    last response in an attribute and returns it from there, so two threads must not share one
    (a text could get another's message id); the session under it is shared. Rebuilt when the
    settings it was made from change (tests switch them)."""
    key = (os.getpid(), settings.TWILIO_API_BASE_URL, settings.TWILIO_ACCOUNT_SID,
           settings.TWILIO_AUTH_TOKEN, settings.TWILIO_TIMEOUT_SECONDS)  # fmt: skip
    cached = getattr(_per_thread, "client", None)
    if cached is None or cached[0] != key:
        http_client = BaseUrlHttpClient(settings.TWILIO_API_BASE_URL, timeout=settings.TWILIO_TIMEOUT_SECONDS)
        http_client.session = process_session()
        cached = (
            key,
            Client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, http_client=http_client),
        )
        _per_thread.client = cached
    return cached[1]


_callbacks: dict[tuple, str] = {}


def status_callback_url() -> str:
    """PUBLIC_BASE_URL + the status webhook's path, reversed once per process and base URL
    (reversing on each sending thread made each thread build Django's URL maps anew)."""
    key = (settings.PUBLIC_BASE_URL, settings.ROOT_URLCONF)
    url = _callbacks.get(key)
    if url is None:
        with _session_lock:  # one thread builds the URL maps; twenty at once each built them
            url = _callbacks.get(key)
            if url is None:
                url = settings.PUBLIC_BASE_URL.rstrip("/") + reverse("alerts:twilio_status")
                _callbacks[key] = url
    return url


def never_sent(exc: Exception) -> bool:
    """True when the request cannot have reached Twilio: the connection was never made (refused,
    a name that did not resolve, a connect timeout). A read timeout or a connection dropped after
    the request went may hide a text Twilio accepted: that one is looked up, not sent again."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, urllib3.exceptions.ConnectTimeoutError)  # NewConnectionError is one


class TwilioBackend:
    name = "twilio"

    def __init__(self):
        self.client = shared_client()

    @staticmethod
    def sender() -> str:
        """What a text goes from: the messaging service, else the number."""
        return settings.TWILIO_MESSAGING_SERVICE_SID or settings.TWILIO_FROM_NUMBER

    def send(self, *, to: str, body: str, reference: str = "") -> SendResult:
        callback = status_callback_url()
        if reference:
            # The begun send's signed name (alerts.begun): a delivery report that beats our own
            # commit waits for its row, and one whose recording failed is matched to it.
            callback += "?" + urlencode({"ref": reference})
        params = {
            "to": to,
            "body": body,
            "status_callback": callback,
            "validity_period": settings.TWILIO_VALIDITY_PERIOD,
        }
        if settings.TWILIO_MESSAGING_SERVICE_SID:
            params["messaging_service_sid"] = settings.TWILIO_MESSAGING_SERVICE_SID
        else:
            params["from_"] = settings.TWILIO_FROM_NUMBER
        try:
            message = self.client.messages.create(**params)
        except TwilioRestException as exc:
            raise error_for(exc) from exc
        except (requests.Timeout, requests.ConnectionError) as exc:
            if never_sent(exc):
                raise SmsTransientError(f"{exc.__class__.__name__} talking to Twilio") from exc
            raise SmsOutcomeUnknownError(f"{exc.__class__.__name__}: no answer from Twilio") from exc
        return result_from(message, self.name)

    def accepted_since(self, *, to: str, body: str, since: datetime, sender: str = "") -> list[Accepted]:
        """The texts with this body to this number that Twilio accepted since `since` (a minute's
        grace for clocks): Twilio's message list for the number, filtered by the day sent
        (Twilio filters DateSent by GMT day), then, for a text still queued (no DateSent yet),
        the number's newest page. Matched here by body, creation time and (when given) the
        messaging service or number it went from."""
        earliest = since - CLOCK_GRACE
        try:
            found = list(self.client.messages.list(to=to, date_sent_after=earliest, limit=LIST_LIMIT))
            found += list(self.client.messages.list(to=to, limit=LIST_LIMIT))
        except TwilioRestException as exc:
            raise error_for(exc) from exc
        except TwilioException as exc:  # a page the SDK could not fetch (Twilio's trouble)
            raise SmsTransientError(f"Twilio's message list could not be read: {exc}"[:200]) from exc
        except (requests.Timeout, requests.ConnectionError) as exc:
            raise SmsTransientError(f"{exc.__class__.__name__} talking to Twilio") from exc
        out, seen = [], set()
        for message in found:
            if message.sid in seen or message.body != body or message.date_created is None:
                continue
            if message.date_created < earliest:
                continue
            if sender and sender not in (message.messaging_service_sid, message.from_):
                continue
            seen.add(message.sid)
            out.append(
                Accepted(
                    provider_message_id=message.sid,
                    status=message.status or "queued",
                    at=message.date_created,
                    body=message.body,
                    backend=self.name,
                    from_number=message.from_ or "",
                    error_code=message.error_code,
                )
            )
        return sorted(out, key=lambda a: a.at)


def signature_is_valid(*, url: str, params: dict, signature: str) -> bool:
    """X-Twilio-Signature check against the public URL. No token or no signature: invalid."""
    from twilio.request_validator import RequestValidator

    if not (settings.TWILIO_AUTH_TOKEN and signature):
        return False
    return RequestValidator(settings.TWILIO_AUTH_TOKEN).validate(url, params, signature)


def request_is_signed(request) -> bool:
    """A webhook request carries Twilio's valid signature of our public URL and its POST body."""
    url = settings.PUBLIC_BASE_URL.rstrip("/") + request.get_full_path()
    return signature_is_valid(
        url=url, params=request.POST.dict(), signature=request.headers.get("X-Twilio-Signature", "")
    )

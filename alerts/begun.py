"""Texts handed to the provider whose answer may not be recorded (issue 23: no text twice after it
was accepted), for every text that can go again: the reminders (alerts/sending.py) and the
ladder's text rungs (alerts/ladder.py).

- What a send hands the provider (number, sender, body) is stored on its row with the moment the
  send began, committed before the provider is called (`handed`). A begun send with no recorded
  answer is looked up by exactly these, never by words rebuilt later (a clinic's sender name, a
  phone number or the wording may have changed since).
- `provider_record`: before such a send goes again, the provider is asked (the backend's
  accepted_since: Twilio's message list for the number since the send began). A text it holds
  that no row has claimed is returned, to be recorded and never sent again; NO_RECORD when it has
  none (or keeps no records: the console); None when it cannot be asked now (asked again later,
  for RECONCILE_GIVE_UP, then the text goes again: twice rather than never).
- `callback_ref`: each send's status callback URL names its row and the send's begin moment,
  signed with the SECRET_KEY (alerts.inbound matches a report to a send whose recording failed;
  a forged or altered name matches nothing, and a report of an earlier send of the row does not
  match the current one).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.core import signing

from alerts.sms import Accepted, SmsError, get_backend

logger = logging.getLogger("alerts")

NO_RECORD = object()
# How long a begun text whose provider cannot be asked waits before it goes again anyway (a text
# twice rather than never: the provider was down for this long, so it probably never got it).
RECONCILE_GIVE_UP = timedelta(minutes=30)
REMINDER, LADDER = "r", "l"  # the kinds of row a callback reference names
_SALT = "alerts.begun.status-callback"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Handed:
    """What a send hands the provider."""

    to: str
    body: str
    sender: str


def handed(*, to: str, body: str) -> Handed:
    """The number, the body and what the text goes from (the backend's sender, if it says)."""
    sender = getattr(get_backend(), "sender", None)
    return Handed(to=to, body=body, sender=sender() if sender else "")


def _micros(at: datetime) -> int:
    return (at - _EPOCH) // timedelta(microseconds=1)


def callback_ref(kind: str, pk: int, started: datetime) -> str:
    """The signed name of one send of one row, for its status callback URL."""
    return signing.Signer(salt=_SALT).sign(f"{kind}.{pk}.{_micros(started)}")


def callback_ref_read(ref: str) -> tuple[str, int, int] | None:
    """(kind, row id, begin moment in microseconds) of a reference this portal signed, else None."""
    try:
        kind, pk, micros = signing.Signer(salt=_SALT).unsign(ref or "").split(".")
        return (kind, int(pk), int(micros)) if kind in (REMINDER, LADDER) else None
    except (signing.BadSignature, ValueError):
        return None


def same_send(micros: int, started: datetime | None) -> bool:
    return started is not None and _micros(started) == micros


def provider_record(*, to: str, body: str, sender: str, since: datetime, now: datetime, what: str):
    """The provider's record of this begun send (see the module's docstring): an Accepted no row
    has claimed, NO_RECORD, or None (cannot be asked now; NO_RECORD once RECONCILE_GIVE_UP passed)."""
    from alerts.models import Reminder, SmsMessage

    ask = getattr(get_backend(), "accepted_since", None)
    if ask is None:  # a backend that keeps no record to ask
        return NO_RECORD
    try:
        held = ask(to=to, body=body, since=since, sender=sender)
    except SmsError as exc:
        if now - since >= RECONCILE_GIVE_UP:
            logger.error("%s: the provider could not be asked (%s): sent again", what, exc)
            return NO_RECORD
        logger.warning("%s: the provider could not be asked (%s): asked again later", what, exc)
        return None
    if held is None:
        return NO_RECORD
    sids = [a.provider_message_id for a in held]
    taken = set(
        SmsMessage.objects.filter(provider_message_id__in=sids).values_list("provider_message_id", flat=True)
    )
    taken |= set(
        Reminder.objects.filter(provider_message_id__in=sids).values_list("provider_message_id", flat=True)
    )
    accepted: Accepted | None = next((a for a in held if a.provider_message_id not in taken), None)
    if accepted is None:
        return NO_RECORD
    logger.warning("%s: the provider accepted it as %s: recorded, not sent again", what,
                   accepted.provider_message_id)  # fmt: skip
    return accepted

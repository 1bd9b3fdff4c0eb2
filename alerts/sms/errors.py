"""Twilio's error codes the engine meets, each with what it means for the text (pure, no Django).

Three classes:
- PERMANENT: this text will never reach this number as it is. The reminder ends failed and a
  nurse is told (once); trying again would only repeat the error.
- TRANSIENT: worth trying again later (rate limits, full queues, Twilio's own trouble, timeouts).
  Retried with backoff; every send counts against one limit, and reaching it tells a nurse.
- CONFIGURATION: our account or sender is wrong (a rotated auth token, a sender that cannot send).
  It is about no one child: the clinic's whole queue is held, its admins are alerted (again each
  hour while it lasts), and everything is sent as soon as a text is accepted again (alerts.holds).
  A code about one destination (21606: the sender cannot reach this number; 21608: a trial
  account's unverified number) is PERMANENT for that number, never a hold: other families'
  texts go, and that child's nurses are told.

Codes from Twilio's error dictionary; an HTTP status decides for a code not in the table.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorClass(StrEnum):
    PERMANENT = "permanent"
    TRANSIENT = "transient"
    CONFIGURATION = "configuration"


P, T, C = ErrorClass.PERMANENT, ErrorClass.TRANSIENT, ErrorClass.CONFIGURATION

# code: (class, what it means, in plain words for the nurses and admins)
TWILIO_ERRORS: dict[int, tuple[ErrorClass, str]] = {
    # Permanent for this number (or this text)
    21211: (P, "the number is not a valid phone number"),
    21214: (P, "the number cannot be reached"),
    21217: (P, "the number does not appear to be valid"),
    21401: (P, "the number is not a valid phone number"),
    21408: (P, "texts to this number's country are not enabled"),
    21610: (P, "the family replied STOP to the clinic's number (opted out)"),
    21612: (P, "texts cannot be routed to this number"),
    21614: (P, "the number is not a mobile number"),
    21617: (P, "the text is too long"),
    21635: (P, "the number is a landline"),
    30003: (P, "the phone is unreachable (switched off or out of service)"),
    30004: (P, "the text was blocked"),
    30005: (P, "the number is unknown or no longer exists"),
    30006: (P, "the number is a landline or its carrier cannot take texts"),
    30007: (P, "the carrier filtered the text"),
    # About one destination, though the sender is involved: this number cannot be reached from
    # the clinic's sender (other numbers can), so this text fails and a nurse is told (issue 23).
    21606: (P, "the clinic's sender cannot text this number (its country or carrier)"),
    21608: (P, "this number is not verified for the clinic's trial Twilio account"),
    # Transient: try again later
    14107: (T, "Twilio's sending rate limit was exceeded"),
    20429: (T, "too many requests to Twilio"),
    20500: (T, "Twilio had an internal error"),
    20503: (T, "Twilio was unavailable"),
    21611: (T, "the sender's queue of texts is full"),
    30001: (T, "Twilio's queue overflowed"),
    30008: (T, "an unknown delivery error"),
    30009: (T, "part of the text was missing at the carrier"),
    # Configuration: the account or the sender, not the family
    20003: (C, "Twilio refused the account's credentials (auth token changed?)"),
    20005: (C, "the Twilio account is not active"),
    20404: (C, "Twilio does not know the account or resource (account SID?)"),
    21212: (C, "the sender number is not valid"),
    21213: (C, "the call has no sender number (TWILIO_VOICE_FROM_NUMBER?)"),
    21603: (C, "the text has no sender number or messaging service"),
    21659: (C, "the sender is not a number of this Twilio account"),
    21701: (C, "the messaging service is not valid"),
    21703: (C, "the messaging service has no sender numbers"),
    21704: (C, "the messaging service has no sender numbers"),
    21705: (C, "the messaging service is not valid"),
    30002: (C, "the Twilio account is suspended"),
    30032: (C, "the toll-free sender is not verified"),
    30034: (C, "the sender is not registered for A2P 10DLC"),
}


def classify(*, code: int | None, http_status: int | None = None) -> ErrorClass:
    """The class of an error: by its code when the table knows it, else by the HTTP status
    (401/403/404: configuration; 429, 5xx and anything else: transient, so an unknown error is
    retried and reaches a nurse at the attempts limit rather than failing a text at once)."""
    if code in TWILIO_ERRORS:
        return TWILIO_ERRORS[code][0]
    if http_status in (401, 403, 404):
        return C
    return T


def meaning(code: int | None) -> str:
    """What a code means in plain words, or "" when the table does not know it."""
    return TWILIO_ERRORS[code][1] if code in TWILIO_ERRORS else ""

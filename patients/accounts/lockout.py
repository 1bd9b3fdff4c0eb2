"""Sign-in pauses beyond axes' lock per account and address (settings AXES_*):

- per account, across every address: SIGN_IN_ACCOUNT_FAILURE_LIMIT failures pause that account
  for SIGN_IN_ACCOUNT_PAUSE (short, so a stranger cannot keep a family out for long);
- per address, across every account: SIGN_IN_ADDRESS_FAILURE_LIMIT failures pause that address
  for SIGN_IN_ADDRESS_PAUSE (one address trying many accounts).

Counts come from axes' own failure records. Each refused attempt is audited (auth.locked_out).
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db.models import Sum
from django.utils import timezone

from patients import audit


def _failures(since: datetime, **match) -> int:
    from axes.models import AccessAttempt

    rows = AccessAttempt.objects.filter(attempt_time__gte=since, **match)
    return rows.aggregate(total=Sum("failures_since_start"))["total"] or 0


def sign_in_pause(*, request, username: str, now: datetime | None = None) -> str | None:
    """'account' or 'address' when sign-in is paused for this attempt, else None (audited)."""
    now = now or timezone.now()
    address = audit.client_ip(request)
    why = None
    if username and (
        _failures(now - settings.SIGN_IN_ACCOUNT_PAUSE, username__iexact=username)
        >= settings.SIGN_IN_ACCOUNT_FAILURE_LIMIT
    ):
        why = "account"
    elif address and (
        _failures(now - settings.SIGN_IN_ADDRESS_PAUSE, ip_address=address)
        >= settings.SIGN_IN_ADDRESS_FAILURE_LIMIT
    ):
        why = "address"
    if why:
        audit.audit_record(
            request=request,
            action=audit.LOCKED_OUT,
            outcome="refused",
            actor_label=username[:254],
            object_type=why,
        )
    return why

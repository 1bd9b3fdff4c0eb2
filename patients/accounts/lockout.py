"""Sign-in pauses beyond axes' lock per account and address (settings AXES_*):

- per account, across every address: SIGN_IN_ACCOUNT_FAILURE_LIMIT (10) failures within
  SIGN_IN_ACCOUNT_WINDOW (an hour) pause the account; the first pause lasts SIGN_IN_ACCOUNT_PAUSE
  (5 minutes) and each further one in the same day doubles, up to SIGN_IN_ACCOUNT_PAUSE_MAX (an
  hour). So a guesser spread over any number of addresses gets about 40 tries in the first hour
  and 10 an hour after that (OWASP ASVS: no more than 100 failed attempts per hour per account),
  while a stranger who types a family's e-mail wrong on purpose keeps them out for minutes, then
  an hour at most. The owner is e-mailed the first time the account pauses (once a day).
- per address, across every account: SIGN_IN_ADDRESS_FAILURE_LIMIT failures pause that address
  for SIGN_IN_ADDRESS_PAUSE (one address trying many accounts).

Account failures are counted from the audit log (one append-only row per failed sign-in, from
every address), since the account's last successful sign-in; address failures from axes' records.
Each refused attempt is audited (auth.locked_out).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Sum
from django.utils import timezone

from patients import audit

DAY = timedelta(hours=24)
OWNER_TOLD = "auth.owner_told_of_pause"


def _failures(since: datetime, **match) -> int:
    from axes.models import AccessAttempt

    rows = AccessAttempt.objects.filter(attempt_time__gte=since, **match)
    return rows.aggregate(total=Sum("failures_since_start"))["total"] or 0


def _account_failure_times(username: str, now: datetime) -> list[datetime]:
    """The account's failed sign-ins of the last day since its last successful one, oldest first."""
    from patients.models import AuditEvent

    since = now - DAY
    last_ok = (
        AuditEvent.objects.filter(action=audit.SIGN_IN, actor__email__iexact=username, at__gt=since)
        .order_by("-at")
        .values_list("at", flat=True)
        .first()
    )
    rows = AuditEvent.objects.filter(
        action=audit.SIGN_IN_FAILED, actor_label__iexact=username, at__gt=last_ok or since, at__lte=now
    )
    return list(rows.order_by("at").values_list("at", flat=True))


def account_paused_until(*, username: str, now: datetime | None = None) -> datetime | None:
    """When the account's pause ends, or None when it is not paused. Each run of LIMIT failures
    (the last of them within WINDOW of the first) starts a pause at its last failure; the n-th
    pause of the day lasts PAUSE × 2^(n-1), at most PAUSE_MAX."""
    now = now or timezone.now()
    if not username:
        return None
    limit = settings.SIGN_IN_ACCOUNT_FAILURE_LIMIT
    pauses, run, until = 0, [], None
    for at in _account_failure_times(username, now):
        if until is not None and at < until:
            continue  # cannot happen through the form (a paused sign-in is not tried); ignored
        run = [t for t in run if at - t < settings.SIGN_IN_ACCOUNT_WINDOW] + [at]
        if len(run) >= limit:
            pauses += 1
            length = min(
                settings.SIGN_IN_ACCOUNT_PAUSE * 2 ** (pauses - 1), settings.SIGN_IN_ACCOUNT_PAUSE_MAX
            )
            until, run = at + length, []
    return until if until is not None and until > now else None


def sign_in_pause_minutes(*, why: str, username: str, now: datetime | None = None) -> int:
    """How many more minutes (rounded up) a pause lasts: the account's to its end; an address's
    at most SIGN_IN_ADDRESS_PAUSE (its failures fall out of that window)."""
    now = now or timezone.now()
    until = account_paused_until(username=username, now=now) if why == "account" else None
    left = until - now if until is not None else settings.SIGN_IN_ADDRESS_PAUSE
    return max(1, math.ceil(left.total_seconds() / 60))


def sign_in_pause(*, request, username: str, now: datetime | None = None) -> str | None:
    """'account' or 'address' when sign-in is paused for this attempt, else None (audited)."""
    now = now or timezone.now()
    address = audit.client_ip(request)
    why = None
    if username and account_paused_until(username=username, now=now):
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


def account_failure_noted(*, request, username: str, now: datetime | None = None) -> bool:
    """After a failed sign-in is audited: if it paused the account and the owner has not been told
    today, e-mail them (after commit). Returns True when an e-mail was queued."""
    from django.contrib.auth import get_user_model
    from django.utils import translation
    from django.utils.translation import gettext, ngettext

    from patients.accounts.tasks import mail_send
    from patients.models import AuditEvent

    now = now or timezone.now()
    if not username or account_paused_until(username=username, now=now) is None:
        return False
    user = get_user_model().objects.filter(email__iexact=username, is_active=True).first()
    if user is None:
        return False
    if AuditEvent.objects.filter(action=OWNER_TOLD, actor=user, at__gt=now - DAY).exists():
        return False
    audit.audit_record(request=request, actor=user, action=OWNER_TOLD, object_type="account")
    caregiver = getattr(user, "caregiver", None)
    language = caregiver.preferred_language if caregiver is not None else "en"
    minutes = sign_in_pause_minutes(why="account", username=username, now=now)
    with translation.override(language):
        subject = gettext("Sign-in to your ITB Portal account is paused")
        body = ngettext(
            "Hello %(name)s,\n\nSomeone typed a wrong password for your ITB Portal account many times, "
            "so signing in is paused for %(minutes)d minute. If it was you, try again after that, or "
            "choose a new password with 'Forgot your password?'. If it was not you, your account is "
            "safe: choose a new password, and call the clinic if you are worried.",
            "Hello %(name)s,\n\nSomeone typed a wrong password for your ITB Portal account many times, "
            "so signing in is paused for %(minutes)d minutes. If it was you, try again after that, or "
            "choose a new password with 'Forgot your password?'. If it was not you, your account is "
            "safe: choose a new password, and call the clinic if you are worried.",
            minutes,
        ) % {"name": user.first_name or user.email, "minutes": minutes}
    # The broker down: logged, and the owner is not told of this pause (the page still says it).
    mail_send.delay_on_commit(subject=subject, body=body, to=[user.email])
    return True

"""Sending holds: Twilio refused a send for a configuration reason (a rotated auth token, a sender
that cannot send: alerts.sms.errors). That is about no one child, so no reminder fails and no nurse
gets one escalation per child. Instead the clinic's queue is held:
- the sweep claims none of the clinic's due rows but one, the probe, at each sweep;
- the clinic's admins (StaffProfile role clinic admin) are e-mailed when it starts and again each
  hour while it lasts (HOLD_REALERT), and the staff texts page and /healthz show it;
- after the clinic's texts_held_tell_nurses_minutes (default 30), the nurses get a concern for
  each child whose due texts wait ("texts_held", pumps/safety.py), so they reach those families;
- only a success of the kind that was refused releases it: a text of the clinic the provider
  accepted, whose send began after the hold did (a text begun before it proves nothing about
  the fix; a call, a failed reply or another clinic's text neither). The next sweep then sends
  everything that waited.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from alerts.models import SendingHold

logger = logging.getLogger("alerts")
# While a hold lasts, its admins are alerted again this often.
HOLD_REALERT = timedelta(hours=1)


def _open():
    return SendingHold.objects.filter(released_at__isnull=True)


def held_clinic_ids() -> set[int]:
    return set(_open().values_list("clinic_id", flat=True))


def holds_open(*, clinic=None) -> list[SendingHold]:
    """The open holds (of one clinic, or all of them), for the staff pages and /healthz."""
    rows = _open().select_related("clinic")
    return list(rows.filter(clinic=clinic) if clinic is not None else rows)


def hold_raise(*, clinic_id: int, code: int | None, reason: str, now: datetime | None = None) -> bool:
    """Hold the clinic's texts; True if this started a hold (its admins are alerted on commit)."""
    if _open().filter(clinic_id=clinic_id).exists():
        return False
    try:
        with transaction.atomic():
            hold = SendingHold.objects.create(
                clinic_id=clinic_id, code=code, reason=reason[:300], started_at=now or timezone.now()
            )
    except IntegrityError:  # another worker held it first
        return False
    logger.error("Texts of clinic %s held: %s", clinic_id, reason)
    _children_recheck(clinic_id, hold.started_at)
    from alerts.tasks import hold_alert_send  # the tasks module imports the sending that imports this

    hold_alert_send.delay_on_commit(hold.pk)  # lost with the broker: holds_alert_pending sends it
    return True


def hold_release(*, clinic_id: int, began_at: datetime | None, now: datetime | None = None) -> bool:
    """A text of this clinic was accepted: if its send began after the hold started (it went
    through the settings that were refused, after them), the texts flow again from the next
    sweep. Returns whether it released a hold."""
    if began_at is None:
        return False
    released = (
        _open().filter(clinic_id=clinic_id, started_at__lt=began_at).update(released_at=now or timezone.now())
    )
    if released:
        logger.warning("Texts of clinic %s released: a text was accepted again", clinic_id)
        _children_recheck(clinic_id, now or timezone.now())
    return bool(released)


def _children_recheck(clinic_id: int, at: datetime) -> None:
    """A hold starting or ending changes what the assessment reads of each of the clinic's
    children (their texts waiting): the next check refreshes them all."""
    from alerts.concerns import children_recheck

    children_recheck(clinic_id=clinic_id, at=at)


def hold_alert(*, hold_id: int, now: datetime | None = None) -> None:
    """E-mail the clinic's admins, once per hold (failures are logged and tried at the next hold
    check: `holds_alert_pending`)."""
    from patients.models import StaffProfile

    hold = SendingHold.objects.select_related("clinic").get(pk=hold_id)
    now = now or timezone.now()
    if hold.released_at or (hold.alerted_at and now - hold.alerted_at < HOLD_REALERT):
        return
    again = hold.alerted_at is not None
    admins = StaffProfile.objects.filter(
        clinic_id=hold.clinic_id, role=StaffProfile.Role.CLINIC_ADMIN, user__is_active=True
    ).values_list("user__email", flat=True)
    to = sorted({email for email in admins if email}) or [e for e in [hold.clinic.nurse_inbox_email] if e]
    if not to:  # the banner on the texts page and /healthz still show it
        logger.error("Clinic %s has no admin e-mail to alert about held texts", hold.clinic_id)
        SendingHold.objects.filter(pk=hold_id).update(alerted_at=now)
        return
    link = settings.PUBLIC_BASE_URL.rstrip("/") + reverse("alerts:outbox")
    since = timezone.localtime(hold.started_at, hold.clinic.tzinfo).strftime("%Y-%m-%d %H:%M")
    body = (
        ("Still on hold. " if again else "")
        + f"Twilio refused to send texts for {hold.clinic} (since {since}): {hold.reason}.\n\n"
        "No reminder is lost: every due text waits, and all of them are sent as soon as a send "
        "works again (the portal tries one each minute). Please fix the Twilio settings "
        "(account, auth token, sender). You are e-mailed again each hour while it lasts; after "
        f"{hold.clinic.texts_held_tell_nurses_minutes} minutes the nurses are told which families' "
        f"texts wait.\n\nSee the texts page: {link}"
    )
    try:
        subject = "[ITB Portal] " + ("Still on hold" if again else "Texts are on hold") + ": Twilio settings"
        send_mail(subject, body, None, to)
    except Exception:  # noqa: BLE001 - a mail server problem must not stop the engine
        logger.exception("Could not e-mail the admins about hold %s", hold_id)
        return
    SendingHold.objects.filter(pk=hold_id).update(alerted_at=now)


def holds_alert_pending(*, now: datetime | None = None) -> None:
    """Alert where an e-mail could not go, and again each hour while a hold lasts (called by the
    sweep; cheap when none is open)."""
    now = now or timezone.now()
    due = _open().filter(Q(alerted_at__isnull=True) | Q(alerted_at__lte=now - HOLD_REALERT))
    for hold_id in due.values_list("pk", flat=True):
        hold_alert(hold_id=hold_id, now=now)

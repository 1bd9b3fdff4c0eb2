"""Sending the plan: the sweep claims due rows, a task per row sends one text.

The rules that keep every text sent exactly once, or (when the outcome is unknown) twice rather
than never:
- Claim: a short transaction takes due rows (status planned, send_after <= now) with
  SELECT ... FOR UPDATE SKIP LOCKED and marks them claimed (claimed_at, attempts + 1). Two sweeps,
  two beats or a repeated task can never claim one row twice. Ids go to the broker after commit.
- Send: the task locks its row, rechecks it is still claimed (a repeated task finds it sent and
  does nothing), calls the SMS backend while holding the lock, and records the outcome.
- Retry: transient errors put the row back to planned with send_after = now + backoff (no eta or
  countdown sits in the broker); after MAX_ATTEMPTS it ends failed and is escalated. Permanent
  errors end failed at once and are escalated (once).
- Unknown outcome: if a worker dies after calling the provider (or the broker loses the message),
  the row stays claimed. A row claimed for longer than STALE_CLAIM is put back to planned by the
  next sweep and sent again. This may send a second text; it never leaves a family without one.
- Quiet hours: a caregiver in quiet hours gets the text at the end of them, except alarm
  reminders in the last ALARM_URGENT_DAYS days before the alarm date.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from .escalations import escalate_reminder
from .models import Heartbeat, Reminder, SmsMessage
from .sms import SendResult, SmsError, SmsPermanentError, get_backend
from .words import reminder_text

logger = logging.getLogger("alerts")

SWEEP = "sweep"
STALE_CLAIM = timedelta(minutes=10)
SWEEP_STALE_AFTER = timedelta(minutes=5)
CLAIM_BATCH = 500
MAX_ATTEMPTS = 6
ALARM_URGENT_DAYS = 2
Status = Reminder.Status


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, 8... minutes, at most an hour."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 60))


def heartbeat_record(*, name: str = SWEEP, now: datetime | None = None) -> None:
    Heartbeat.objects.update_or_create(name=name, defaults={"last_run_at": now or timezone.now()})


def sweep_health(now: datetime | None = None) -> tuple[datetime | None, bool]:
    """When the sweep last ran, and whether that is recent enough (within 5 minutes)."""
    now = now or timezone.now()
    last = Heartbeat.objects.filter(name=SWEEP).values_list("last_run_at", flat=True).first()
    return last, last is not None and now - last <= SWEEP_STALE_AFTER


def reminders_recover_stale(*, now: datetime | None = None) -> int:
    """The unknown-outcome rule: claimed too long ago → planned again, to be sent (again)."""
    now = now or timezone.now()
    return Reminder.objects.filter(status=Status.CLAIMED, claimed_at__lt=now - STALE_CLAIM).update(
        status=Status.PLANNED, send_after=now, last_error="claim expired: outcome unknown", updated_at=now
    )


def reminders_claim_due(*, now: datetime | None = None, limit: int = CLAIM_BATCH) -> list[int]:
    """Claim due rows in one short transaction; nobody else can claim them after this."""
    now = now or timezone.now()
    with transaction.atomic():
        due = Reminder.objects.select_for_update(skip_locked=True).filter(
            status=Status.PLANNED, send_after__lte=now
        )
        ids = list(due.order_by("send_after", "pk").values_list("pk", flat=True)[:limit])
        Reminder.objects.filter(pk__in=ids).update(
            status=Status.CLAIMED, claimed_at=now, attempts=F("attempts") + 1, updated_at=now
        )
    return ids


def _recheck(reminder: Reminder) -> str | None:
    """Why a claimed row must not be sent any more, or None (`linked` is annotated by the lock)."""
    if not reminder.patient.active:
        return "child no longer active"
    if not reminder.caregiver.can_receive_texts:
        return "caregiver cannot receive texts"
    if not reminder.linked:
        return "caregiver no longer linked"
    return None


def quiet_until(reminder: Reminder, now: datetime) -> datetime | None:
    """The end of the caregiver's quiet hours if now is inside them and the text may wait."""
    caregiver = reminder.caregiver
    tz = ZoneInfo(reminder.patient.clinic.time_zone)
    local = now.astimezone(tz)
    if (
        reminder.kind == Reminder.Kind.ALARM
        and (reminder.target_date - local.date()).days <= ALARM_URGENT_DAYS
    ):
        return None
    if not caregiver.in_quiet_hours(local.time().replace(tzinfo=None)):
        return None
    end = datetime.combine(local.date(), caregiver.quiet_hours_end, tzinfo=tz)
    return (
        end
        if end > local
        else datetime.combine(local.date() + timedelta(days=1), caregiver.quiet_hours_end, tzinfo=tz)
    )


def message_for(reminder: Reminder) -> str:
    clinic = reminder.patient.clinic
    start = (
        reminder.appointment.start.astimezone(ZoneInfo(clinic.time_zone)) if reminder.appointment else None
    )
    return reminder_text(
        kind=reminder.kind,
        language=reminder.caregiver.preferred_language,
        initial=reminder.patient.initial,
        target=reminder.target_date,
        phone=clinic.phone_nurse_line,
        offset_days=reminder.offset_days,
        local_start=start,
        sender=clinic.sms_sender_name,
    )


def _linked():
    from patients.models import CaregiverLink

    return Exists(
        CaregiverLink.objects.filter(
            caregiver_id=OuterRef("caregiver_id"), patient_id=OuterRef("patient_id"), active=True
        )
    )


# What a send must read fresh, under the row's lock: the claim itself and everything that can
# forbid the text (child active, consent, account active, caregiver still linked).
_FRESH = ("status", "attempts", "send_after", "patient__active", "caregiver__sms_consent",
          "caregiver__user__is_active", "linked")  # fmt: skip
_RELATED = ("patient__clinic", "caregiver__user", "appointment")


def _locked(reminder_id: int, known: Reminder | None = None) -> Reminder | None:
    """The row, locked. With `known` (the batch's prefetched row: names, numbers, language,
    quiet hours), one narrow query locks it and refreshes the fields in _FRESH; without it,
    one query reads everything."""
    locking = Reminder.objects.select_for_update(of=("self",)).filter(pk=reminder_id).order_by()
    if known is None:
        return locking.select_related(*_RELATED).annotate(linked=_linked()).first()
    fresh = locking.annotate(linked=_linked()).values_list(*_FRESH).first()
    if fresh is None:
        return None
    known.status, known.attempts, known.send_after, known.patient.active = fresh[:4]
    known.caregiver.sms_consent, known.caregiver.user.is_active, known.linked = fresh[4:]
    return known


def reminders_send(*, reminder_ids: list[int], now: datetime | None = None) -> int:
    """Send a batch of claimed reminders, each in its own short transaction holding its row's
    lock (the per-row rules are those of `reminder_send`). A row whose send raises stays
    claimed and is recovered by the unknown-outcome rule. Returns how many ended sent."""
    known = Reminder.objects.select_related(*_RELATED).in_bulk(reminder_ids)
    sent = 0
    for pk in reminder_ids:
        if pk not in known:
            continue
        try:
            with transaction.atomic():
                row = _send_locked(pk, now or timezone.now(), known[pk])
        except Exception:  # noqa: BLE001 - one bad row must not hold back the rest of the batch
            logger.exception("Reminder %s: send failed; the claim will be recovered", pk)
            continue
        sent += row is not None and row.status in (Status.SENT, Status.DELIVERED)
    return sent


@transaction.atomic
def reminder_send(*, reminder: Reminder, now: datetime | None = None) -> Reminder:
    """Send one claimed reminder and record the outcome. Anything but `claimed` is left alone."""
    return _send_locked(reminder.pk, now or timezone.now()) or reminder


def _send_locked(reminder_id: int, now: datetime, known: Reminder | None = None) -> Reminder | None:
    """Inside a transaction: lock the row, recheck, send, record. None if the row is gone."""
    reminder = _locked(reminder_id, known)
    if reminder is None or reminder.status != Status.CLAIMED:
        return reminder
    reason = _recheck(reminder)
    if reason:
        return _save(reminder, status=Status.CANCELLED, last_error=reason)
    later = quiet_until(reminder, now)
    if later:
        return _save(reminder, status=Status.PLANNED, send_after=later, attempts=reminder.attempts - 1)
    body = message_for(reminder)
    to = str(reminder.caregiver.mobile)
    try:
        result = get_backend().send(to=to, body=body, reference=str(reminder.pk))
    except SmsError as exc:
        return _failed_attempt(reminder, exc, now)
    _log_outbound(reminder, to=to, body=body, result=result, now=now)
    status = Status.DELIVERED if result.status == "delivered" else Status.SENT
    return _save(
        reminder,
        status=status,
        sent_at=now,
        delivered_at=now if status == Status.DELIVERED else None,
        provider_message_id=result.provider_message_id,
        last_error="",
    )


def _failed_attempt(reminder: Reminder, exc: SmsError, now: datetime) -> Reminder:
    error = exc.describe()[:300]
    if isinstance(exc, SmsPermanentError) or reminder.attempts >= MAX_ATTEMPTS:
        _save(reminder, status=Status.FAILED, last_error=error)
        escalate_reminder(reminder=reminder, why=error, now=now)
        if isinstance(exc, SmsPermanentError) and exc.code == 21610:
            _opted_out_at_carrier(reminder, now)
        return reminder
    logger.warning("Reminder %s: transient error, retry later (%s)", reminder.pk, error)
    return _save(
        reminder, status=Status.PLANNED, send_after=now + backoff(reminder.attempts), last_error=error
    )


def _opted_out_at_carrier(reminder: Reminder, now: datetime) -> None:
    """Twilio says the number replied STOP: record it as the caregiver's own withdrawal."""
    from patients.services import sms_consent_record

    if reminder.caregiver.sms_consent:
        sms_consent_record(caregiver=reminder.caregiver, given=False, source="sms", now=now)


def _save(reminder: Reminder, **fields) -> Reminder:
    for name, value in fields.items():
        setattr(reminder, name, value)
    reminder.save(update_fields=[*fields, "updated_at"])
    return reminder


def _log_outbound(reminder: Reminder, *, to: str, body: str, result: SendResult, now: datetime) -> None:
    SmsMessage.objects.create(
        direction=SmsMessage.Direction.OUTBOUND,
        reminder=reminder,
        caregiver=reminder.caregiver,
        to_number=to,
        from_number=result.from_number,
        body=body,
        backend=result.backend,
        provider_message_id=result.provider_message_id,
        status=result.status,
        created_at=now,
    )

"""Sending the plan: the sweep claims due rows, a task per batch sends them.

The rules that keep every text sent exactly once (a text the provider accepted is never sent
again), or (when the provider cannot tell) twice rather than never, and never endlessly:
- Claim: a short transaction takes due rows (status planned, send_after <= now) with
  SELECT ... FOR UPDATE SKIP LOCKED and marks them claimed (claimed_at). Two sweeps, two beats or
  a repeated task can never claim one row twice. Ids go to the broker after commit. A claim is
  not a send and uses no attempt. Rows of a clinic whose texts are held (alerts.holds) are not
  claimed, but for one probe per sweep.
- Begin (its own commit): the task locks its row, rechecks it is still claimed and not begun
  (a repeated task finds it begun or sent and does nothing), that it may still be sent, and the
  quiet hours; then counts the send (attempts + 1, send_started_at). A row at MAX_ATTEMPTS is not
  sent again: it ends failed and is escalated, with the reason, once. On the sending threads
  (alerts.send_pool) a batch begins only as many rows as there are free threads, in one commit,
  and each goes to its thread at once (a text flows on its own: no batch waits for its slowest).
  Inside a transaction or on one thread, a group at a time (send_group_size()).
- Send: call the provider (on a sending thread, holding no lock and no connection: the request
  ends within TWILIO_TIMEOUT_SECONDS, well inside lost_after()), then, in one commit, lock the
  row, check it is still this send's (begun at its send_started_at, no message id), and record
  what the provider answered (status, message id, sent_at: the moment it answered) and the
  text's outbox row: a text is recorded as it is accepted. A delivery report that came first
  (it names the row) keeps its status. Inside a transaction, the row is locked around the call.
- Record (follow-ups): escalations, releasing a hold (per row), "cannot be reached" (once per
  batch). A failure there is logged; the text's outcome and outbox row are stored.
- Errors (alerts.sms.errors): transient ones (5xx, 429, timeouts, dropped connections) put the
  row back to planned with send_after = now + backoff: 2-3 s, then 5-7.5 s (the process that met
  the error claims the row again then, if no sweep took it), then minutes (no eta or countdown
  sits in the broker); permanent ones end failed and are escalated
  once; configuration ones put the row back unchanged (no attempt used) and hold the clinic's
  texts. A creation reply of failed or undelivered is stored as such and escalated.
- Lost (reminders_recover_stale, each sweep): a claimed row whose send never began for
  lost_after() (its broker message was lost) is claimed again at once, using no attempt. A row
  whose send began lost_after() ago and that no live send holds locked (its worker died, or
  recording the provider's answer failed) has an unknown outcome: the provider is asked first
  (alerts.begun: Twilio's message list for the number since the send began), with exactly what
  the send handed it (number, sender, body: stored on the row when the send began). A text it
  holds is recorded as it holds it and never sent again; only a text it has no record of goes
  again, counted against the same limit, with the same body to the same number (a caregiver who
  can no longer get texts is not sent it; one whose number changed gets the text made anew for
  the new number). A provider that cannot be asked is asked again at the next sweep, for
  RECONCILE_GIVE_UP, then the text goes again (twice rather than never). A status callback that
  names the send (alerts.inbound) records it as accepted too.
  A live send ends well before lost_after() (and holds the row's lock while it records), so it
  is not taken for lost.
- Quiet hours: a caregiver in quiet hours gets the text at the end of them, except alarm
  reminders in the last days before the alarm date, and the daily "overdue" text once the alarm
  date has passed with no refill (sent at any hour): pumps/safety.quiet_hours_hold.
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from alerts import begun, holds, send_pool
from alerts.begun import RECONCILE_GIVE_UP  # noqa: F401 - the rule's name where the rules are
from alerts.concerns import children_recheck, concerns_refresh, concerns_refresh_many
from alerts.escalations import escalate_reminder
from alerts.models import Heartbeat, Reminder, SmsMessage
from alerts.sms import (
    SendResult,
    SmsConfigurationError,
    SmsError,
    SmsOutcomeUnknownError,
    SmsPermanentError,
    get_backend,
)
from alerts.words import reminder_text, sender_of
from pumps import safety

logger = logging.getLogger("alerts")

SWEEP = "sweep"
SWEEP_STALE_AFTER = timedelta(minutes=5)
CLAIM_BATCH = 500
MAX_ATTEMPTS = 8  # two quick retries, then five over about half an hour
Status = Reminder.Status


# A transient error is first retried within seconds (issue 23: a 503 or a reset is usually over
# by then), by the process that met it; only then after minutes. The quick delays get up to half
# again of jitter, so texts refused together do not come back together.
QUICK_RETRIES = (2.0, 5.0)


def backoff(attempts: int, jitter_key: int = 0) -> timedelta:
    """The wait after the `attempts`-th send failed for a transient reason: 2 s, then 5 s (each
    with up to 50 % jitter, drawn from `jitter_key`, the row's id; none for 0), then 1, 2, 4, 8...
    minutes, at most an hour (REMINDER_RETRY_SECONDS: the first of those)."""
    if 1 <= attempts <= len(QUICK_RETRIES):
        base = QUICK_RETRIES[attempts - 1]
        return timedelta(seconds=base * (1 + (jitter_key * 2654435761 % 1000) / 2000))
    steps = max(attempts - len(QUICK_RETRIES) - 1, 0)
    return timedelta(seconds=settings.REMINDER_RETRY_SECONDS * min(2**steps, 60))


def lost_after() -> timedelta:
    """A claim not begun, or a send no live worker holds, this long is lost (REMINDER_LOST_AFTER_SECONDS,
    50 s: with a sweep each minute, a lost text goes out again within two minutes)."""
    return timedelta(seconds=settings.REMINDER_LOST_AFTER_SECONDS)


def heartbeat_record(*, name: str = SWEEP, now: datetime | None = None) -> None:
    Heartbeat.objects.update_or_create(name=name, defaults={"last_run_at": now or timezone.now()})


def sweep_health(now: datetime | None = None) -> tuple[datetime | None, bool]:
    """When the sweep last ran, and whether that is recent enough (within 5 minutes)."""
    now = now or timezone.now()
    last = Heartbeat.objects.filter(name=SWEEP).values_list("last_run_at", flat=True).first()
    return last, last is not None and now - last <= SWEEP_STALE_AFTER


def reminders_recover_stale(*, now: datetime | None = None) -> int:
    """The lost-message rules (see the module's docstring). Rows a live send holds locked are
    skipped. Returns how many rows go out again."""
    now = now or timezone.now()
    lost_since = now - lost_after()
    with transaction.atomic():
        claimed = Reminder.objects.select_for_update(of=("self",), skip_locked=True).filter(
            status=Status.CLAIMED
        )
        lost = list(
            claimed.filter(send_started_at__isnull=True, claimed_at__lt=lost_since).values_list(
                "pk", flat=True
            )
        )
        Reminder.objects.filter(pk__in=lost).update(
            status=Status.PLANNED, send_after=now, last_error="claim lost: sent again", updated_at=now
        )
        unknown = list(claimed.filter(send_started_at__lt=lost_since).select_related(*_RELATED))
        again = 0
        for reminder in unknown:
            try:
                with transaction.atomic():
                    known = _reconcile(reminder, now)
            except Exception:  # noqa: BLE001 - recording it failed again: asked again next sweep
                logger.exception("Reminder %s: reconciling with the provider failed", reminder.pk)
                continue
            if known is not _NO_RECORD:
                continue  # the provider holds it (now recorded), or cannot be asked yet
            again += 1
            _no_record(reminder, now)
    return len(lost) + again


def _no_record(reminder: Reminder, now: datetime) -> None:
    """The provider has no record of a begun text: it goes again (its stored words, to the same
    number), or, past the limit, the nurses are told."""
    if reminder.attempts >= MAX_ATTEMPTS:
        _give_up(reminder, "the outcome of the last send is unknown", now)
    else:
        _save(reminder, status=Status.PLANNED, send_after=now, send_started_at=None,
              last_error="send outcome unknown, no record at the provider: sent again")  # fmt: skip


def _ask_then_retry(reminder_id: int, started: datetime) -> None:
    """A quick look-up after a send whose answer never came (SmsOutcomeUnknownError), in the
    process that met it: still this send, the provider is asked for it; it is recorded if the
    provider holds it, sent again only if the provider has no record. If the provider cannot be
    asked, the row stays begun and the lost-message rule asks again."""
    now = timezone.now()
    with transaction.atomic():
        reminder = (
            Reminder.objects.select_for_update(of=("self",), skip_locked=True)
            .select_related(*_RELATED)
            .filter(pk=reminder_id, status=Status.CLAIMED, send_started_at=started, provider_message_id="")
            .first()
        )
        if reminder is None or _reconcile(reminder, now) is not _NO_RECORD:
            return
        _no_record(reminder, now)
    if reminder.status == Status.PLANNED:
        _retry(reminder_id)


_NO_RECORD = begun.NO_RECORD


def _reconcile(reminder: Reminder, now: datetime):
    """A begun text with no recorded answer (its worker died, or recording the provider's answer
    failed): ask the provider for its record of exactly what was handed over (alerts.begun)
    before sending again. Found: the text is recorded as the provider holds it (status, message
    id, the moment it was accepted, its outbox row) and returned; _NO_RECORD when the provider
    has none; None when it cannot be asked now."""
    handed = _handed_of(reminder)
    accepted = begun.provider_record(
        to=handed.to, body=handed.body, sender=handed.sender, since=reminder.send_started_at,
        now=now, what=f"Reminder {reminder.pk}",
    )  # fmt: skip
    if accepted is None or accepted is _NO_RECORD:
        return accepted
    _accepted(reminder, _Outgoing(to=handed.to, body=handed.body, result=accepted.result()), accepted.at)
    if reminder.status not in ACCEPTED:
        escalate_reminder(reminder=reminder, why=f"Twilio answered {reminder.last_error}", now=now)
    return accepted


def _handed_of(reminder: Reminder) -> begun.Handed:
    """What the begun send handed over (rebuilt only for a row begun before it was stored)."""
    if reminder.send_body:
        return begun.Handed(to=reminder.send_to, body=reminder.send_body, sender=reminder.send_from)
    return begun.Handed(to=str(reminder.caregiver.mobile), body=message_for(reminder), sender="")


def _hand(reminder: Reminder) -> None:
    """What this send will hand over, stored with its begin: the body of an earlier send whose
    outcome stayed unknown goes again as it was, to the same number; a number changed since gets
    the text made anew (the old one is never sent to the new number)."""
    to = str(reminder.caregiver.mobile)
    body = reminder.send_body if reminder.send_body and reminder.send_to == to else message_for(reminder)
    handed = begun.handed(to=to, body=body)
    reminder.send_to, reminder.send_body, reminder.send_from = handed.to, handed.body, handed.sender


_HANDED = ("send_to", "send_body", "send_from")


def reminder_reported(*, reminder_id: int, micros: int, message_sid: str) -> bool:
    """A status callback names this row's send (alerts.begun.callback_ref): if that send is still
    begun with no recorded answer (recording failed), it is recorded as accepted under the
    report's MessageSid (at the moment the send began: Twilio accepted it within that request),
    with the outbox row of what was handed over. True if it did; a replay finds it recorded."""
    reminder = _locked(reminder_id)
    if reminder is None or reminder.status != Status.CLAIMED or reminder.provider_message_id:
        return False
    if not reminder.send_body or not begun.same_send(micros, reminder.send_started_at):
        return False
    result = SendResult(provider_message_id=message_sid, status="accepted", backend="twilio")
    _accepted(reminder, _Outgoing(to=reminder.send_to, body=reminder.send_body, result=result),
              reminder.send_started_at)  # fmt: skip
    logger.warning("Reminder %s: its status callback names it as %s: recorded, not sent again",
                   reminder.pk, message_sid)  # fmt: skip
    return True


def reminders_claim_due(*, now: datetime | None = None, limit: int = CLAIM_BATCH) -> list[int]:
    """Claim due rows in one short transaction; nobody else can claim them after this. A clinic
    whose texts are held gives one row, its probe, unless one of its rows is already claimed."""
    now = now or timezone.now()
    held = holds.held_clinic_ids()
    with transaction.atomic():
        due = Reminder.objects.select_for_update(of=("self",), skip_locked=True).filter(
            status=Status.PLANNED, send_after__lte=now
        )
        free = due.exclude(patient__clinic_id__in=held) if held else due
        ids = list(free.order_by("send_after", "pk").values_list("pk", flat=True)[:limit])
        for clinic_id in held:
            if not Reminder.objects.filter(status=Status.CLAIMED, patient__clinic_id=clinic_id).exists():
                probe = due.filter(patient__clinic_id=clinic_id).order_by("send_after", "pk")
                ids += list(probe.values_list("pk", flat=True)[:1])
        Reminder.objects.filter(pk__in=ids).update(
            status=Status.CLAIMED, claimed_at=now, send_started_at=None, updated_at=now
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
    tz = ZoneInfo(reminder.patient.clinic.time_zone)
    alarm_day = reminder.target_date if reminder.kind == Reminder.Kind.ALARM else None
    overdue = reminder.kind == Reminder.Kind.OVERDUE
    return caregiver_quiet_until(reminder.caregiver, now=now, tz=tz, alarm_day=alarm_day, any_hour=overdue)


def caregiver_quiet_until(
    caregiver, *, now: datetime, tz: ZoneInfo, alarm_day: date | None, any_hour: bool = False
) -> datetime | None:
    """The end of this caregiver's quiet hours if `now` is inside them and the text may wait, else
    None: the one rule (pumps/safety.quiet_hours_hold), for the reminders and the ladder alike."""
    return safety.quiet_hours_hold(
        now=now,
        tz=tz,
        start=caregiver.quiet_hours_start,
        end=caregiver.quiet_hours_end,
        alarm_day=alarm_day,
        any_hour=any_hour,
    )


def message_for(reminder: Reminder) -> str:
    clinic = reminder.patient.clinic
    tz = ZoneInfo(clinic.time_zone)
    start = reminder.appointment.start.astimezone(tz) if reminder.appointment else None
    cream = reminder.appointment.cream_at if reminder.appointment else None
    return reminder_text(
        kind=reminder.kind,
        language=reminder.caregiver.preferred_language,
        child=reminder.patient.name_in_texts,
        target=reminder.target_date,
        phone=clinic.phone_nurse_line,
        after_hours=clinic.phone_after_hours,
        offset_days=reminder.offset_days,
        local_start=start,
        local_cream=cream.astimezone(tz) if cream else None,
        sender=sender_of(clinic, reminder.caregiver.preferred_language),
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
_FRESH = ("status", "attempts", "send_after", "send_started_at", "patient__active",
          "caregiver__sms_consent", "caregiver__user__is_active", "linked")  # fmt: skip
_RELATED = ("patient__clinic", "caregiver__user", "appointment")


def _locked(reminder_id: int, known: Reminder | None = None) -> Reminder | None:
    """The row, locked. With `known` (the batch's prefetched row: names, numbers, language,
    quiet hours), one narrow query locks it and refreshes the fields in _FRESH; without it,
    one query reads everything."""
    locking = Reminder.objects.select_for_update(of=("self",)).filter(pk=reminder_id).order_by()
    if known is None:
        return locking.select_related(*_RELATED).annotate(linked=_linked()).first()
    fresh = locking.annotate(linked=_linked()).values_list(*_FRESH).first()
    return None if fresh is None else _refreshed(known, fresh)


def _refreshed(known: Reminder, fresh: tuple) -> Reminder:
    """The prefetched row with the _FRESH values read under its lock."""
    known.status, known.attempts, known.send_after, known.send_started_at, known.patient.active = fresh[:5]
    known.caregiver.sms_consent, known.caregiver.user.is_active, known.linked = fresh[5:]
    return known


def reminders_send(*, reminder_ids: list[int], now: datetime | None = None, wait: bool = True) -> int:
    """Send a batch of claimed reminders (the per-row rules are those of `reminder_send`).

    On the sending threads (alerts.send_pool), texts flow one by one: as threads free up, one
    short transaction begins as many rows as there are free threads (locks them, rechecks each,
    counts each send), each goes to its thread, which calls the provider holding no lock and no
    connection, then records its answer and outbox row in its own short transaction (the row
    locked, and checked to be still this send's). A transient refusal is retried within seconds
    by this process. `wait=False` (the Celery task) returns once every row is handed to a
    thread: the process takes its next batch while a slow request finishes.

    Inside a transaction or on one thread: a group at a time, as `_send_groups`.
    A row whose send raises stays begun and is recovered by the lost-message rules. Returns how
    many the provider accepted (with wait=False: how many were handed to a thread)."""
    known = Reminder.objects.select_related(*_RELATED).in_bulk(reminder_ids)
    # The batch's view of holds is shared by its sending threads (set operations only).
    batch = _Batch(held=holds.held_clinic_ids(), pinned=now is not None)
    ids = [pk for pk in reminder_ids if pk in known]
    if not send_pool.streams():
        return _send_groups(ids, now, known, batch)
    # Which children may have "cannot be reached" cleared by a text (one query per batch).
    batch.unreachable = _unreachable_open_of({known[pk].patient_id for pk in ids})

    def begin(chunk: list[int]) -> list[Reminder]:
        try:
            with transaction.atomic():
                return _begin_group(chunk, now or timezone.now(), known, batch)
        except Exception:  # noqa: BLE001 - the rows stay claimed: the lost-claim rule sends them
            logger.exception("Reminders %s: beginning them failed", chunk)
            return []

    def send(reminder: Reminder) -> int:
        try:
            return _send_streamed(reminder, now, batch)
        finally:
            if batch.answered_one():
                _batch_done(batch)

    futures = send_pool.stream(begin, send, ids, wait_all=False)
    if batch.all_handed(len(futures)):
        _batch_done(batch)
    if wait:
        concurrent.futures.wait(futures)
    if not wait:
        return len(futures)
    return sum(f.result() for f in futures)


def _send_groups(ids: list[int], now: datetime | None, known: dict, batch: _Batch) -> int:
    """A group at a time on this thread: one transaction begins the group, each row is sent in
    its own transaction, then one transaction records the group's follow-ups."""
    accepted = 0
    size = send_group_size()
    for start in range(0, len(ids), size):
        at = now or timezone.now()
        try:
            with transaction.atomic():
                begun = _begin_group(ids[start : start + size], at, known, batch)
        except Exception:  # noqa: BLE001 - the rows stay claimed: the lost-claim rule sends them
            logger.exception("Reminders %s: beginning the group failed", ids[start : start + size])
            continue

        def send(reminder: Reminder, at=at) -> tuple[Reminder, _Outgoing | None]:
            try:
                with transaction.atomic():
                    return reminder, _send_attempt(reminder, at, batch)
            except Exception:  # noqa: BLE001 - one bad row must not hold back the rest
                logger.exception("Reminder %s: send failed; its outcome is recovered", reminder.pk)
                return reminder, None

        # Overlapping the provider's round trips on the sending threads (alerts.send_pool).
        sent = [(r, out) for r, out in send_pool.run_each(send, begun) if out is not None and out.result]
        _record_group(sent, at, batch)
        accepted += sum(1 for reminder, _ in sent if reminder.status in ACCEPTED)
    return accepted


def send_group_size() -> int:
    """How many rows one transaction begins: as many as the sending threads can have in flight
    while a begun row still waits well inside lost_after() (two provider timeouts per round)."""
    threads = send_pool.in_flight()
    rounds = int(lost_after().total_seconds() // (2 * max(settings.TWILIO_TIMEOUT_SECONDS, 0.001)))
    return threads * max(rounds, 1)


def _send_streamed(reminder: Reminder, now: datetime | None, batch: _Batch) -> int:
    """On a sending thread: call the provider for a begun row (no lock, no connection held),
    then record its answer under the row's lock, then the follow-ups. 1 if it was accepted."""
    try:
        # Exactly what the begin stored (alerts.begun): the provider is asked for this if the
        # answer is not recorded, and a status callback names this send by its signed reference.
        outgoing = _Outgoing(to=reminder.send_to, body=reminder.send_body)
        ref = begun.callback_ref(begun.REMINDER, reminder.pk, reminder.send_started_at)
        if reminder.patient.clinic_id in batch.held_now:  # held since this row was begun
            with transaction.atomic():
                if _still_this_send(reminder) is not None:
                    _save(reminder, status=Status.PLANNED, send_after=now or timezone.now(),
                          attempts=reminder.attempts - 1, send_started_at=None)  # fmt: skip
            return 0
        error = None
        try:
            outgoing.result = get_backend().send(to=outgoing.to, body=outgoing.body, reference=ref)
        except SmsError as exc:
            error = exc
        at = now or timezone.now()  # the moment the provider answered
        with transaction.atomic():
            current = _still_this_send(reminder)
            if current is None:
                return 0  # taken for lost meanwhile, and settled by the provider's record
            if error is not None:
                _failed_attempt(reminder, error, at, batch)
            else:
                _accepted(reminder, outgoing, at)
                if current in _REPORTED:  # a delivery report came first: it stands
                    _save(reminder, status=current)
    except Exception:  # noqa: BLE001 - one bad row must not hold back the rest
        logger.exception("Reminder %s: send failed; its outcome is recovered", reminder.pk)
        return 0
    if error is not None:
        if isinstance(error, SmsOutcomeUnknownError) and not batch.pinned:
            send_pool.later(QUICK_RETRIES[0], _ask_then_retry, reminder.pk, reminder.send_started_at)
            return 0
        quick = not isinstance(error, SmsConfigurationError) and reminder.attempts <= len(QUICK_RETRIES)
        if quick and reminder.status == Status.PLANNED and not batch.pinned:
            send_pool.later((reminder.send_after - timezone.now()).total_seconds(), _retry, reminder.pk)
        return 0
    _follow_up(reminder, outgoing, at, batch)
    return int(reminder.status in ACCEPTED)


# What a delivery report can have made of a begun row before its sender recorded the answer
# (the callback names the row: alerts.inbound); the sender then adds the message id and outbox
# row and leaves that status.
_REPORTED = (Status.DELIVERED, Status.UNDELIVERED, Status.FAILED, Status.SENT)


def _still_this_send(reminder: Reminder):
    """Lock the row; its status if it is still this send's (begun at send_started_at, no message
    id recorded), else None."""
    current = (
        Reminder.objects.select_for_update(of=("self",))
        .filter(pk=reminder.pk)
        .values_list("status", "send_started_at", "provider_message_id")
        .first()
    )
    if current is None or current[1] != reminder.send_started_at or current[2]:
        return None
    return current[0] if current[0] == Status.CLAIMED or current[0] in _REPORTED else None


def _follow_up(reminder: Reminder, outgoing: _Outgoing, now: datetime, batch: _Batch) -> None:
    """After a streamed text's answer is committed: escalation, releasing a hold (this row);
    "cannot be reached" once for the batch's children, when its last text is answered."""
    if reminder.status in ACCEPTED and reminder.patient_id in batch.unreachable:
        with batch.lock:
            batch.refresh.add(reminder.patient_id)
    if reminder.status in ACCEPTED and reminder.patient.clinic_id not in batch.held:
        return  # the common case: nothing more to do, no query
    try:
        with transaction.atomic():
            if reminder.status not in ACCEPTED:
                escalate_reminder(reminder=reminder, why=f"Twilio answered {reminder.last_error}", now=now)
            else:
                _release(reminder, now, batch)
    except Exception:  # noqa: BLE001 - the text's outcome is stored; this is the log
        logger.exception("Reminder %s: answered, but its follow-ups failed", reminder.pk)


def _batch_done(batch: _Batch) -> None:
    """A streamed batch's last text is answered: a text handed over is the family's newest
    outcome, which may clear "cannot be reached" (one refresh for the batch's children)."""
    if batch.refresh:
        try:
            with transaction.atomic():
                concerns_refresh_many(patient_ids=sorted(batch.refresh), now=timezone.now())
        except Exception:  # noqa: BLE001 - the beat's assessment refreshes them later
            logger.exception(
                "Refreshing the concerns of %d children after their texts failed", len(batch.refresh)
            )


def _retry(reminder_id: int) -> None:
    """A quick retry, in the process that met the transient error: claim the row again if it is
    still planned and due (any sweep may have taken it meanwhile), and send it."""
    now = timezone.now()
    claimed = Reminder.objects.filter(pk=reminder_id, status=Status.PLANNED, send_after__lte=now).update(
        status=Status.CLAIMED, claimed_at=now, send_started_at=None, updated_at=now
    )
    if claimed:
        reminders_send(reminder_ids=[reminder_id], wait=False)


def _begin_group(ids: list[int], now: datetime, known: dict, batch: _Batch) -> list[Reminder]:
    """Lock the group's rows (id order) and refresh what may forbid each text, in ONE query;
    decide each as _send_begin does; count the sends of the rows that go in ONE update."""
    locking = Reminder.objects.select_for_update(of=("self",)).filter(pk__in=ids).order_by("pk")
    fresh = {row[0]: row[1:] for row in locking.annotate(linked=_linked()).values_list("pk", *_FRESH)}
    go = []
    for pk in ids:
        if pk not in fresh:
            continue
        reminder = _refreshed(known[pk], fresh[pk])
        if _begin_decide(reminder, now, batch) is _GO:
            try:
                _hand(reminder)
            except Exception:  # noqa: BLE001 - not begun: the lost-claim rule takes it again
                logger.exception("Reminder %s: its text could not be made", pk)
                continue
            go.append(reminder)
    if go:
        for reminder in go:
            reminder.attempts += 1
            reminder.send_started_at, reminder.updated_at = now, now
        Reminder.objects.bulk_update(go, ["attempts", "send_started_at", "updated_at", *_HANDED])
    return go


def _record_group(sent: list[tuple[Reminder, _Outgoing]], now: datetime, batch: _Batch) -> None:
    """The group's rare follow-ups (escalations, "cannot be reached", holds), in one
    transaction; if that fails, row by row (a failure there is logged: the outcomes and outbox
    rows are already stored, each as the provider accepted it)."""
    if not sent:
        return
    try:
        with transaction.atomic():
            ok = [r for r, _ in sent if r.status in ACCEPTED]
            for reminder, _ in sent:
                if reminder.status not in ACCEPTED:
                    escalate_reminder(
                        reminder=reminder, why=f"Twilio answered {reminder.last_error}", now=now
                    )
            _report_awaited(ok)
            # A text handed over is the family's newest outcome: it may clear "no report".
            unreachable = _unreachable_open_of({r.patient_id for r in ok})
            if unreachable:
                concerns_refresh_many(patient_ids=sorted(unreachable), now=now)
            for reminder in ok:
                _release(reminder, now, batch)
    except Exception:  # noqa: BLE001 - record row by row, each logged if it fails
        logger.exception("Recording a group of %d sent texts failed; recording them one by one", len(sent))
        for reminder, outgoing in sent:
            _send_record(reminder, outgoing, now, batch)


def reminder_send(*, reminder: Reminder, now: datetime | None = None) -> Reminder:
    """Send one claimed reminder and record the outcome. Anything but `claimed` is left alone."""
    return (
        _send_one(
            reminder.pk,
            now or timezone.now(),
            None,
            _Batch(held=holds.held_clinic_ids(), pinned=now is not None),
        )
        or reminder
    )


ACCEPTED = (Status.SENT, Status.DELIVERED)
# The provider's status in a creation reply → the reminder's (anything else: sent).
REPLY_STATUS = {
    "delivered": Status.DELIVERED,
    "failed": Status.FAILED,
    "canceled": Status.FAILED,
    "undelivered": Status.UNDELIVERED,
}


@dataclass
class _Outgoing:
    to: str
    body: str
    result: SendResult | None = None


class _Batch:
    """What one batch knows about holds: those open when it began, and the clinics it held."""

    def __init__(self, *, held: set[int], pinned: bool = False):
        self.held = held
        self.held_now: set[int] = set()
        self.pinned = pinned  # the caller gave `now`: texts are recorded at it (tests)
        self.unreachable: set[int] = set()  # children whose "cannot be reached" a text may clear
        self.refresh: set[int] = set()  # ... and whose text was accepted
        self.lock = threading.Lock()
        self.handed: int | None = None  # rows handed to threads, once all are
        self.answered = 0

    def answered_one(self) -> bool:
        """One more streamed row answered; True for the batch's last."""
        with self.lock:
            self.answered += 1
            return self.answered == self.handed

    def all_handed(self, count: int) -> bool:
        """Every row is handed to a thread; True if all are answered already."""
        with self.lock:
            self.handed = count
            return self.answered == count


def _send_one(reminder_id: int, now: datetime, known: Reminder | None, batch: _Batch) -> Reminder | None:
    """Begin, send, record: three transactions (see the module's docstring)."""
    with transaction.atomic():
        reminder = _send_begin(reminder_id, now, known, batch)
    if reminder is None or reminder.status != Status.CLAIMED:
        return reminder
    try:
        with transaction.atomic():
            outgoing = _send_attempt(reminder, now, batch)
    except Exception:  # noqa: BLE001 - the row stays begun: its outcome is reconciled (_reconcile)
        logger.exception("Reminder %s: send failed; its outcome is recovered", reminder.pk)
        return reminder
    if outgoing is not None and outgoing.result is not None:
        _send_record(reminder, outgoing, now, batch)
    return reminder


def _send_begin(reminder_id: int, now: datetime, known: Reminder | None, batch: _Batch) -> Reminder | None:
    """Lock, recheck, count the send. The row comes back claimed only if it is to be sent now."""
    reminder = _locked(reminder_id, known)
    if reminder is None:
        return None
    outcome = _begin_decide(reminder, now, batch)
    if outcome is _GO:
        _hand(reminder)
        return _save(reminder, attempts=reminder.attempts + 1, send_started_at=now,
                     **{name: getattr(reminder, name) for name in _HANDED})  # fmt: skip
    return outcome


_GO = object()


def _begin_decide(reminder: Reminder, now: datetime, batch: _Batch):
    """A locked row: _GO if it is to be sent now; else what it became (saved here), or None for
    a repeated task (another one began this send)."""
    if reminder.status != Status.CLAIMED:
        return reminder
    if reminder.send_started_at:  # a repeated task: another one began this send
        return None
    reason = _recheck(reminder)
    if reason:
        return _save(reminder, status=Status.CANCELLED, last_error=reason)
    later = quiet_until(reminder, now)
    if later:
        return _save(reminder, status=Status.PLANNED, send_after=later)
    if reminder.patient.clinic_id in batch.held_now:  # held by an earlier row of this batch
        return _save(reminder, status=Status.PLANNED, send_after=now)
    if reminder.attempts >= MAX_ATTEMPTS:
        return _give_up(reminder, reminder.last_error or "no send went through", now)
    return _GO


def _send_attempt(reminder: Reminder, now: datetime, batch: _Batch) -> _Outgoing | None:
    """Lock the begun row again, call the provider, store its answer and nothing else. None if
    the row was taken for lost meanwhile; no result if the provider refused the text."""
    current = (
        Reminder.objects.select_for_update(of=("self",))
        .filter(pk=reminder.pk)
        .values_list("status", "send_started_at")
        .first()
    )
    if current != (Status.CLAIMED, reminder.send_started_at):
        return None
    outgoing = _Outgoing(to=reminder.send_to, body=reminder.send_body)
    ref = begun.callback_ref(begun.REMINDER, reminder.pk, reminder.send_started_at)
    try:
        result = get_backend().send(to=outgoing.to, body=outgoing.body, reference=ref)
    except SmsError as exc:
        _failed_attempt(reminder, exc, now, batch)
        return outgoing
    outgoing.result = result
    # The moment the provider accepted it (the batch's `now` when a caller pinned it).
    _accepted(reminder, outgoing, now if batch.pinned else timezone.now())
    return outgoing


def _accepted(reminder: Reminder, outgoing: _Outgoing, at: datetime) -> None:
    """Store what the provider answered, and the text's outbox row, in the transaction that holds
    the row's lock: a text is recorded as it is accepted (issue 23). If this fails, the send's
    outcome is unknown and the provider is asked before it goes again (_reconcile)."""
    result = outgoing.result
    status = REPLY_STATUS.get(result.status, Status.SENT)
    error = f"{result.error_code or ''}: {result.status}".strip(": ") if status not in ACCEPTED else ""
    _save(
        reminder,
        status=status,
        sent_at=at,
        delivered_at=at if status == Status.DELIVERED else None,
        provider_message_id=result.provider_message_id,
        last_error=error,
    )
    _log_outbound(reminder, to=outgoing.to, body=outgoing.body, result=result, now=at)


def _report_awaited(reminders: list[Reminder]) -> None:
    """Texts handed over with no delivery report yet: if none comes within the hour, "family
    cannot be reached" opens (pumps/safety.py), so the children's stored instant moves to then.
    One UPDATE per group."""
    waiting = [r for r in reminders if r.status == Status.SENT and r.sent_at is not None]
    if waiting:
        at = min(r.sent_at for r in waiting) + safety.NOT_DELIVERED_AFTER + timedelta(microseconds=1)
        children_recheck(patient_ids={r.patient_id for r in waiting}, at=at)


def _unreachable_open(patient_id: int) -> bool:
    return bool(_unreachable_open_of({patient_id}))


# The reasons of "family cannot be reached" that a text handed over since can clear (the newest
# text is then that one): not "no one can receive texts" nor "a caregiver stopped texts".
_CLEARED_BY_A_TEXT = {"no_report", "undelivered"}


def _unreachable_open_of(patient_ids: set[int]) -> set[int]:
    """Which of these children have "family cannot be reached" open for a reason a text handed
    over now may clear."""
    from alerts.models import Concern

    if not patient_ids:
        return set()
    open_ = Concern.objects.open().filter(patient_id__in=patient_ids, kind=Concern.Kind.UNREACHABLE)
    return {
        patient_id
        for patient_id, details in open_.values_list("patient_id", "details")
        if _CLEARED_BY_A_TEXT & set((details or {}).get("reasons", ()))
    }


def _send_record(reminder: Reminder, outgoing: _Outgoing, now: datetime, batch: _Batch) -> None:
    """After the provider's answer and outbox row are committed: escalation, releasing a hold."""
    result = outgoing.result
    try:
        with transaction.atomic():
            if reminder.status not in ACCEPTED:
                escalate_reminder(reminder=reminder, why=f"Twilio answered {reminder.last_error}", now=now)
            else:
                _report_awaited([reminder])
            if reminder.status in ACCEPTED and _unreachable_open(reminder.patient_id):
                # A text handed over is the family's newest outcome: it may clear "no report".
                concerns_refresh(patient=reminder.patient, now=now)
            if reminder.status in ACCEPTED:
                _release(reminder, now, batch)
    except Exception:  # noqa: BLE001 - the text went and its outcome is stored; this is the log
        logger.exception(
            "Reminder %s: sent as %s, but recording it failed", reminder.pk, result.provider_message_id
        )


def _release(reminder: Reminder, now: datetime, batch: _Batch) -> None:
    """An accepted text of a held clinic may release its hold (alerts.holds: only one begun after
    the hold started)."""
    clinic_id = reminder.patient.clinic_id
    if clinic_id in batch.held and holds.hold_release(
        clinic_id=clinic_id, began_at=reminder.send_started_at, now=now
    ):
        batch.held.discard(clinic_id)


def _failed_attempt(reminder: Reminder, exc: SmsError, now: datetime, batch: _Batch) -> Reminder:
    error = exc.describe()[:300]
    if isinstance(exc, SmsOutcomeUnknownError):
        # No answer came: the provider may hold the text. It stays begun (its words, number and
        # begin kept) and is looked up before it goes again: soon by this process when it can
        # (_ask_then_retry), else by the lost-message rule (reminders_recover_stale).
        logger.warning("Reminder %s: no answer from the provider, asked before any resend (%s)",
                       reminder.pk, error)  # fmt: skip
        return _save(reminder, last_error=error)
    if isinstance(exc, SmsConfigurationError):  # about no one child: the send is not counted
        clinic_id = reminder.patient.clinic_id
        holds.hold_raise(clinic_id=clinic_id, code=exc.code, reason=error, now=now)
        batch.held_now.add(clinic_id)
        batch.held.add(clinic_id)
        return _save(reminder, status=Status.PLANNED, send_after=now, attempts=reminder.attempts - 1,
                     send_started_at=None, last_error=error, send_body="")  # fmt: skip
    if isinstance(exc, SmsPermanentError) or reminder.attempts >= MAX_ATTEMPTS:
        _give_up(reminder, error, now)
        if isinstance(exc, SmsPermanentError) and exc.code == 21610:
            _opted_out_at_carrier(reminder, now)
        return reminder
    logger.warning("Reminder %s: transient error, retry later (%s)", reminder.pk, error)
    return _save(reminder, status=Status.PLANNED, send_after=now + backoff(reminder.attempts, reminder.pk),
                 send_started_at=None, last_error=error, send_body="")  # fmt: skip


def _give_up(reminder: Reminder, why: str, now: datetime) -> Reminder:
    """No more sends: failed, and the nurses are told once, with the reason."""
    if reminder.attempts >= MAX_ATTEMPTS:
        why = f"{why} (after {reminder.attempts} sends)"
    _save(reminder, status=Status.FAILED, last_error=why[:300])
    escalate_reminder(reminder=reminder, why=why, now=now)
    return reminder


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
    sms_outbound_log(
        caregiver=reminder.caregiver, reminder=reminder, to=to, body=body, result=result, now=now
    )


def sms_outbound_log(
    *,
    caregiver,
    to: str,
    body: str,
    result: SendResult,
    now: datetime,
    reminder: Reminder | None = None,
    patient=None,
) -> SmsMessage:
    """The outbox row of a text the provider accepted (a reminder's, or a ladder step's: then
    `patient` is the ladder's child, whose clinic alone sees it)."""
    row = _outbound(reminder, to=to, body=body, result=result, now=now, caregiver=caregiver)
    if patient is not None:
        row.patient = patient
    row.save()
    return row


def _outbound(
    reminder, *, to: str, body: str, result: SendResult, now: datetime, caregiver=None
) -> SmsMessage:
    """The outbox row, unsaved."""
    return SmsMessage(
        direction=SmsMessage.Direction.OUTBOUND,
        reminder=reminder,
        patient_id=reminder.patient_id if reminder is not None else None,
        caregiver=caregiver if caregiver is not None else reminder.caregiver,
        to_number=to,
        from_number=result.from_number,
        body=body,
        backend=result.backend,
        provider_message_id=result.provider_message_id,
        status=result.status,
        created_at=now,
    )

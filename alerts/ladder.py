"""The escalation ladder: for the dangers where the family must act, text, text the next
caregiver, call, then put the child on the nurses' call list, each rung recorded on the child's
concern (LadderStep). The timing is in alerts/ladder_rules.py; this module does the I/O.

- `ladder_advance(concern_id=, now=)` takes the rung that is due, under the concern's row lock
  (a beat task runs it for every open ladder; two beats never take one rung twice).
- It stops, with a `stopped` step that says why, when the concern resolves (a refill booked or
  recorded: the concern refresh notices) or a caregiver answers (a reply 1 or 2, pressing 1 on
  the call, or a nurse reaching the family from the call list).
- Quiet hours hold a text or a call until they end, unless the alarm date is within 2 days.
- A text rung is sent as a reminder is (alerts/begun.py): the step is written with what it hands
  the provider (number, sender, body) and the moment the send began, and committed; then the
  text is sent, holding the step's lock, and its outbox row recorded. A step begun lost_after()
  ago with no recorded answer (the worker died, or recording failed) is looked up at the provider
  before anything else of its ladder: a text it holds is recorded, never sent again; one it has
  no record of goes again, the same body to the same number, unless its ladder stopped, the
  caregiver can no longer get texts or their number changed: then the step ends with that reason
  and the ladder takes its next rung anew. A status callback naming the send records it too.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from alerts import begun
from alerts import ladder_rules as rules
from alerts.ladder_signs import signs_ladders_advance
from alerts.models import ChildSafety, Concern, LadderStep
from alerts.sending import caregiver_quiet_until, lost_after, sms_outbound_log
from alerts.sms import SmsError, SmsOutcomeUnknownError, send_sms
from alerts.voice import place_call
from alerts.voice.twiml import call_twiml
from alerts.words import ladder_call_words, ladder_text, sender_of

logger = logging.getLogger("alerts")
Rung = LadderStep.Rung

# Concern kinds where the family must act, and the words their texts and calls use.
LADDER_KINDS = {
    Concern.Kind.ALARM_NEAR: "alarm_near",
    Concern.Kind.ALARM_PASSED: "alarm_passed",
    Concern.Kind.DUE_PASSED: "refill_overdue",
    Concern.Kind.ERI: "eri",
}
CALL_FAILED = {"busy", "failed", "no-answer", "canceled"}


def open_ladders():
    """Concerns whose ladder may still climb: open, of a ladder kind, not stopped."""
    return Concern.objects.filter(resolved_at__isnull=True, kind__in=LADDER_KINDS).exclude(
        ladder_steps__rung=Rung.STOPPED
    )


def _unfinished():
    """Concerns that resolved while their ladder was climbing: the stop is still to be recorded."""
    return Concern.objects.filter(resolved_at__isnull=False, ladder_steps__isnull=False).exclude(
        ladder_steps__rung=Rung.STOPPED
    )


def ladders_advance(*, now: datetime | None = None) -> int:
    """The beat's work: every child with an open ladder, or one whose concern resolved since."""
    now = now or timezone.now()
    taken = signs_ladders_advance(now=now)  # the nurses chased for a report of signs
    ids = set(open_ladders().values_list("patient_id", flat=True))
    ids |= set(_unfinished().values_list("patient_id", flat=True))
    for pk in sorted(ids):
        try:
            taken += ladder_advance(patient_id=pk, now=now) is not None
        except Exception:  # noqa: BLE001 - one child's failure must not hold back the others
            logger.exception("Ladder of patient %s could not advance", pk)
    return taken


def ladder_advance(*, patient_id: int, now: datetime) -> LadderStep | None:
    """Take the rung of this child's ladder that is due now, if any; record the stop of a ladder
    whose concern resolved. One ladder per child: the one already climbing, else the most urgent
    concern's; its texts speak of the child's most urgent danger. Returns the step taken (or the
    text step sent again). A text rung is committed as begun, then sent (see the docstring)."""
    with transaction.atomic():
        step = _advance(patient_id, now)
    if step is not None and step.send_started_at is not None and not (step.error or step.sms_message_id):
        _text_send(step.pk, step.send_started_at, now)
        step.refresh_from_db()
    return step


TEXT_RUNGS = (Rung.TEXT, Rung.TEXT_NEXT)


def _advance(patient_id: int, now: datetime) -> LadderStep | None:
    from patients.models import Patient

    # The child's row lock: two beats (or a beat and an answer) never take a rung twice.
    if not Patient.objects.select_for_update(skip_locked=True).filter(pk=patient_id).exists():
        return None
    for concern in _unfinished().filter(patient_id=patient_id).select_related("grew_into").distinct():
        ladder_stop(concern, now, _stop_words(concern))
    unknown = _begun_unknown(patient_id)
    if unknown:  # nothing more of this child's ladder until every text's outcome is known
        return _reconcile(unknown[0], now)
    concerns = list(
        open_ladders()
        .filter(patient_id=patient_id)
        .select_related("patient__clinic")
        .order_by("tier_rank", "began_at", "pk")
    )
    if not concerns:
        return None
    chains = {c.pk: _chain(c) for c in concerns}
    steps_of = {c.pk: _steps(chains[c.pk]) for c in concerns}
    climbing = next((c for c in concerns if steps_of[c.pk]), concerns[0])
    return _climb(climbing, LADDER_KINDS[concerns[0].kind], steps_of[climbing.pk], now)


def _chain(concern: Concern) -> list[int]:
    """The concern and those it grew from (alarm near -> alarm passed): one danger, one ladder."""
    ids, row = [concern.pk], concern
    while row.follows_id is not None and row.follows_id not in ids:
        ids.append(row.follows_id)
        row = Concern.objects.only("pk", "follows_id").get(pk=row.follows_id)
    return ids


def _steps(chain: list[int]) -> list[LadderStep]:
    """The rungs the ladder of this chain has taken, oldest first (a grown concern's `stopped`
    step only marks where it was carried on: the ladder did not stop)."""
    rows = LadderStep.objects.filter(concern_id__in=chain).exclude(rung=Rung.STOPPED)
    return list(rows.order_by("at", "pk"))


def _stop_words(concern: Concern) -> str:
    """Why a resolved concern's ladder ends: what truly cleared it, or the worse concern it grew
    into, whose ladder carries on from the rung reached."""
    grown = getattr(concern, "grew_into", None)
    if grown is not None and grown.resolved_at is None:
        return f'Carried on as "{grown.get_kind_display()}": {concern.resolved_reason}.'
    return f"Concern resolved: {concern.resolved_reason or 'resolved'}."


def ladder_stop_child(*, patient_id: int, now: datetime, why: str) -> None:
    """An answer stops every open ladder of the child (the family has been reached)."""
    for concern in open_ladders().filter(patient_id=patient_id):
        ladder_stop(concern, now, why)


def _climb(concern: Concern, danger: str, steps: list[LadderStep], now: datetime) -> LadderStep | None:
    patient = concern.patient
    tz = ZoneInfo(patient.clinic.time_zone)
    today = now.astimezone(tz).date()
    alarm_at, refill_due = _dates(patient)
    caregivers = _caregivers(patient)
    textable = [c for c in caregivers if c.can_receive_texts]
    callable_ = [c for c in caregivers if c.mobile and c.user.is_active]
    climbed = [rules.Climbed(rung=s.rung, at=s.at) for s in steps]
    last = steps[-1] if steps else None
    base = timedelta(hours=patient.clinic.ladder_answer_hours)
    wait = (
        timedelta(0)
        if last and last.error
        else rules.answer_wait(base=base, since=last.at, alarm_at=alarm_at)
        if last
        else base
    )
    rung = rules.next_rung(
        climbed=climbed,
        reachable=rules.Reachable(textable=len(textable), callable=len(callable_)),
        now=now,
        wait=wait,
        today=today,
        list_day=next((s.list_day for s in reversed(steps) if s.rung == Rung.CALL_LIST), None),
    )
    if rung is None:
        return None
    if rung == Rung.CALL_LIST:
        return LadderStep.objects.create(concern=concern, rung=rung, at=now, list_day=today)
    texted = sum(s.rung in (Rung.TEXT, Rung.TEXT_NEXT) for s in steps)
    caregiver = callable_[0] if rung == Rung.CALL else textable[min(texted, len(textable) - 1)]
    alarm_day = alarm_at.astimezone(tz).date() if alarm_at else None
    if caregiver_quiet_until(caregiver, now=now, tz=tz, alarm_day=alarm_day):
        return None  # held: the next beat after quiet hours end takes it
    words = {
        "danger": danger,
        "language": caregiver.preferred_language,
        "child": patient.name_in_texts,
        "day": _day_of(danger, alarm_at.astimezone(tz).date() if alarm_at else None, refill_due),
        "phone": patient.clinic.phone_nurse_line,
        "sender": sender_of(patient.clinic, caregiver.preferred_language),
    }
    if rung == Rung.CALL:
        return _call(concern, caregiver, words, now)
    return _text(concern, rung, caregiver, words, now)


def _dates(patient):
    """The governing alarm instant and refill-due date, as the concern refresh stored them."""
    row = ChildSafety.objects.filter(patient=patient).values_list("alarm_at", "refill_due").first()
    return row or (None, None)


def _day_of(danger: str, alarm_day, refill_due):
    """The date a text names: the alarm date, the refill-due date, or none (battery)."""
    return {"alarm_near": alarm_day, "alarm_passed": alarm_day, "refill_overdue": refill_due}.get(danger)


def _caregivers(patient) -> list:
    from patients.models import CaregiverLink

    links = (
        CaregiverLink.objects.filter(patient=patient, active=True)
        .select_related("caregiver__user")
        .order_by("-primary_contact", "pk")
    )
    return [link.caregiver for link in links]


def _text(concern: Concern, rung: str, caregiver, words: dict, now: datetime) -> LadderStep:
    """The text rung, begun: what it hands the provider is stored; ladder_advance sends it once
    this commits."""
    handed = begun.handed(to=str(caregiver.mobile), body=ladder_text(**words))
    return LadderStep.objects.create(
        concern=concern, rung=rung, at=now, caregiver=caregiver, send_started_at=now,
        send_to=handed.to, send_body=handed.body, send_from=handed.sender,
    )  # fmt: skip


def _begun_unknown(patient_id: int) -> list[LadderStep]:
    """This child's text steps whose send began and whose answer is not recorded, locked; a step
    a live send holds locked is in flight, not lost (and holds the ladder all the same)."""
    rows = LadderStep.objects.filter(
        concern__patient_id=patient_id, rung__in=TEXT_RUNGS, send_started_at__isnull=False,
        sms_message__isnull=True, error="",
    )  # fmt: skip
    if not rows.exists():
        return []
    locking = rows.select_for_update(of=("self",), skip_locked=True)
    free = list(locking.select_related("caregiver__user", "concern__patient"))
    return free or [None]


def _reconcile(step: LadderStep | None, now: datetime) -> LadderStep | None:
    """A begun text step: recorded if the provider holds it; begun again (sent after commit) if it
    has no record and may still go; ended with the reason if not. None while it may be in flight
    or the provider cannot be asked."""
    if step is None or now - step.send_started_at < lost_after():
        return None
    accepted = begun.provider_record(
        to=step.send_to, body=step.send_body, sender=step.send_from, since=step.send_started_at,
        now=now, what=f"Ladder step {step.pk}",
    )  # fmt: skip
    if accepted is None:
        return None
    if accepted is not begun.NO_RECORD:
        _record(step, accepted.result(), accepted.at)
        return None
    why = _not_again(step)
    if why:
        step.error = f"Not sent again: {why}"[:300]
        step.save(update_fields=["error"])
        return None
    step.at = step.send_started_at = now
    step.save(update_fields=["at", "send_started_at"])
    return step


def _not_again(step: LadderStep) -> str:
    """Why a text step the provider has no record of must not go again as it was."""
    caregiver = step.caregiver
    if caregiver is None or not caregiver.can_receive_texts:
        return "the caregiver can no longer get texts"
    if str(caregiver.mobile) != step.send_to:
        return "the caregiver's number changed"
    concern = step.concern
    if concern.resolved_at is not None or not open_ladders().filter(pk=concern.pk).exists():
        return "the ladder stopped"
    if not _caregivers(concern.patient).count(caregiver):
        return "the caregiver is no longer linked to the child"
    return ""


def _text_send(step_id: int, started: datetime, now: datetime) -> None:
    """Send a begun text step, holding its lock, and record its outbox row in the same commit (a
    failure after the provider accepted leaves it begun: _reconcile asks the provider)."""
    with transaction.atomic():
        step = (
            LadderStep.objects.select_for_update(of=("self",))
            .select_related("caregiver", "concern__patient")
            .filter(pk=step_id, send_started_at=started, sms_message__isnull=True, error="")
            .first()
        )
        if step is None:  # taken for lost meanwhile, or recorded by its status callback
            return
        ref = begun.callback_ref(begun.LADDER, step.pk, started)
        try:
            result = send_sms(to=step.send_to, body=step.send_body, reference=ref)
        except SmsOutcomeUnknownError:
            # No answer came: Twilio may hold it. The step stays begun and is looked up before
            # it goes again (_reconcile, once it is older than lost_after()).
            logger.warning("Ladder step %s: no answer from the provider; asked before any resend", step.pk)
            return
        except SmsError as exc:
            step.error = exc.describe()[:300]
            step.save(update_fields=["error"])
            return
        _record(step, result, now)


def _record(step: LadderStep, result, at: datetime) -> None:
    step.sms_message = sms_outbound_log(
        caregiver=step.caregiver, to=step.send_to, body=step.send_body, result=result, now=at,
        patient=step.concern.patient,
    )  # fmt: skip
    step.save(update_fields=["sms_message"])


def ladder_text_reported(*, step_id: int, micros: int, message_sid: str, now: datetime) -> bool:
    """A status callback names a begun text step's send (alerts.begun.callback_ref) whose answer
    was not recorded: record it as accepted with the sid the report gives. True if it did."""
    from alerts.sms import SendResult

    step = (
        LadderStep.objects.select_for_update(of=("self",))
        .select_related("caregiver", "concern__patient")
        .filter(pk=step_id, sms_message__isnull=True, error="")
        .first()
    )
    if step is None or not begun.same_send(micros, step.send_started_at):
        return False
    _record(step, SendResult(provider_message_id=message_sid, status="accepted", backend="twilio"),
            step.send_started_at)  # fmt: skip
    return True


def _public(name: str, step: LadderStep) -> str:
    return settings.PUBLIC_BASE_URL.rstrip("/") + reverse(name) + "?" + urlencode({"step": step.pk})


def _call(concern: Concern, caregiver, words: dict, now: datetime) -> LadderStep:
    step = LadderStep.objects.create(concern=concern, rung=Rung.CALL, at=now, caregiver=caregiver)
    said = ladder_call_words(**words)
    twiml = call_twiml(**said, language=words["language"], gather_url=_public("alerts:voice_gather", step))
    try:
        result = place_call(
            to=str(caregiver.mobile), twiml=twiml, status_url=_public("alerts:voice_status", step)
        )
    except SmsError as exc:
        step.error = exc.describe()[:300]
    else:
        step.call_sid, step.call_status = result.provider_call_id, result.status
    step.save(update_fields=["error", "call_sid", "call_status"])
    return step


def ladder_stop(concern: Concern, now: datetime, why: str) -> LadderStep:
    """Record the end of the concern's ladder, once."""
    step, _ = LadderStep.objects.get_or_create(
        concern=concern, rung=Rung.STOPPED, defaults={"at": now, "note": str(why)[:300]}
    )
    return step

"""Answers that stop the ladder: a reply 1 or 2 to a ladder text, pressing 1 on the call, a
nurse's outcome from the call list; and how a call ended (Twilio's status callback)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from alerts.ladder import CALL_FAILED, ladder_stop_child
from alerts.models import Concern, LadderStep
from alerts.voice.twiml import say_twiml
from alerts.words import LADDER_TEXTS, ladder_reply, language_of, sender_of

Rung = LadderStep.Rung
Outcome = LadderStep.Outcome
ANSWER_DIGITS = {"1": "booked", "2": "call_me"}


class CallOutcomeError(ValueError):
    """A call-list outcome that cannot be recorded (the message says why, in plain words)."""


def _lock(concern_id: int) -> Concern:
    return (
        Concern.objects.select_for_update(of=("self",)).select_related("patient__clinic").get(pk=concern_id)
    )


def _answered(step: LadderStep, answer: str, now: datetime) -> None:
    step.answer, step.answered_at = answer, now
    step.save(update_fields=["answer", "answered_at"])


@transaction.atomic
def ladder_text_answered(
    *, caregivers: list, from_number: str, digit: str, now: datetime | None = None
) -> str:
    """A reply 1 (booked) or 2 (call me) from a caregiver a ladder texted. Stops each such
    ladder; 2 also puts the child on today's call list. Returns the answer to text back, or ""
    when no open ladder texted this caregiver (the reply is then an ordinary unknown word).

    Only a proven number acts: `caregivers` are those whose (proven) mobile is `from_number`
    (alerts.inbound, after its WebhookReceipt, so a replay acts once), and only a ladder text
    that went to this very number counts: a reply from a number the caregiver has since left,
    or one the ladder never texted, stops nothing."""
    now = now or timezone.now()
    caregivers = [c for c in caregivers if c.mobile and str(c.mobile) == from_number]
    asked = (
        LadderStep.objects.filter(
            caregiver__in=caregivers,
            rung__in=[Rung.TEXT, Rung.TEXT_NEXT],
            sms_message__to_number=from_number,
            concern__resolved_at__isnull=True,
        )
        .exclude(concern__ladder_steps__rung=Rung.STOPPED)
        .order_by("concern_id", "-at")
    )
    latest = {}
    for step in asked:
        latest.setdefault(step.concern_id, step)
    if not latest or digit not in ANSWER_DIGITS:
        return ""
    caregiver = next(iter(latest.values())).caregiver
    for concern_id, step in latest.items():
        concern = _lock(concern_id)
        _answered(step, f"text {digit}", now)
        if digit == "2":
            _put_on_call_list(concern, now, note=f"{caregiver} replied 2: asked to be called.")
        why = f"{caregiver} replied {digit} ({'booked' if digit == '1' else 'call me'})."
        ladder_stop_child(patient_id=concern.patient_id, now=now, why=why)
    clinic = next(iter(latest.values())).concern.patient.clinic
    return ladder_reply(
        f"answer_{ANSWER_DIGITS[digit]}",
        language=caregiver.preferred_language,
        phone=clinic.phone_nurse_line,
        sender=sender_of(clinic),
    )


def _put_on_call_list(concern: Concern, now: datetime, *, note: str) -> None:
    today = now.astimezone(ZoneInfo(concern.patient.clinic.time_zone)).date()
    step, created = LadderStep.objects.get_or_create(
        concern=concern, rung=Rung.CALL_LIST, list_day=today, defaults={"at": now, "note": note}
    )
    if not created:
        step.note = note
        step.save(update_fields=["note"])


@transaction.atomic
def ladder_call_answered(*, step_id: int | None, digits: str, now: datetime | None = None) -> str:
    """The caregiver pressed a key during a ladder call. 1 confirms and stops the ladder.
    Returns the TwiML to answer with."""
    now = now or timezone.now()
    step = LadderStep.objects.filter(pk=step_id, rung=Rung.CALL).select_related("caregiver").first()
    language = language_of(step.caregiver.preferred_language if step and step.caregiver else "en")
    if step is None or digits != "1":
        return say_twiml(LADDER_TEXTS[language]["say_goodbye"], language=language)
    concern = _lock(step.concern_id)
    if not step.answered_at:
        _answered(step, "pressed 1", now)
    why = f"{step.caregiver} pressed 1 on the phone call."
    ladder_stop_child(patient_id=concern.patient_id, now=now, why=why)
    return say_twiml(LADDER_TEXTS[language]["say_thanks"], language=language)


@transaction.atomic
def ladder_call_status(
    *, step_id: int | None, call_sid: str, status: str, now: datetime | None = None
) -> None:
    """How the call ended. A call nobody picked up (busy, failed, no answer) lets the ladder
    take its next rung at the next beat instead of waiting."""
    status = (status or "").lower()[:20]
    rows = LadderStep.objects.select_for_update().filter(pk=step_id, rung=Rung.CALL, call_sid=call_sid)
    step = rows.first()
    if step is None or not status:
        return
    step.call_status = status
    if status in CALL_FAILED and not step.answered_at:
        step.error = f"call {status}"
    step.save(update_fields=["call_status", "error"])


@transaction.atomic
def call_outcome_record(
    *, step: LadderStep, outcome: str, note: str, by, now: datetime | None = None
) -> LadderStep:
    """A nurse records how her call from the call list went. Reaching the family stops the ladder;
    otherwise the child is back on the list the next day while the concern stays open."""
    from patients import audit

    now = now or timezone.now()
    if step.rung != Rung.CALL_LIST:
        raise CallOutcomeError("This child is not on the call list.")
    if outcome not in Outcome.values:
        raise CallOutcomeError("Choose how the call went.")
    concern = _lock(step.concern_id)
    step = LadderStep.objects.select_for_update().get(pk=step.pk)
    step.outcome, step.outcome_note, step.outcome_at, step.outcome_by = outcome, note.strip()[:500], now, by
    step.save(update_fields=["outcome", "outcome_note", "outcome_at", "outcome_by"])
    if outcome == Outcome.REACHED:
        why = f"{by.get_full_name() or by.email} reached the family by phone."
        ladder_stop_child(patient_id=concern.patient_id, now=now, why=why)
    audit.audit_record(actor=by, action=audit.CALL_OUTCOME_RECORDED, obj=step, patient_id=concern.patient_id)
    return step

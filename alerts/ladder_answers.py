"""Answers that stop the ladder: a reply 1 or 2 to a ladder text, pressing 1 on the call, a
nurse's outcome from the call list; and how a call ended (Twilio's status callback)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from alerts.ladder import CALL_FAILED, ladder_stop, ladder_stop_child, open_ladders
from alerts.models import Concern, LadderStep, SmsMessage, WebhookReceipt
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


def _stop_ladders_asked_about(step: LadderStep, now: datetime, why: str) -> None:
    """An answer stops the ladders of the child that were open when its text was sent or its call
    placed (the family has been reached about them), never a ladder of a danger that began since:
    an old answer, replayed, cannot silence a new danger."""
    concerns = open_ladders().filter(patient_id=step.concern.patient_id, opened_at__lte=step.at)
    for concern in concerns.distinct():
        ladder_stop(concern, now, why)


def _answered(step: LadderStep, answer: str, now: datetime) -> None:
    step.answer, step.answered_at = answer, now
    step.save(update_fields=["answer", "answered_at"])


def _still_linked():
    """The step's caregiver is linked to the step's child now (a removed caregiver answers nothing)."""
    from patients.models import CaregiverLink

    return Exists(
        CaregiverLink.objects.filter(
            caregiver_id=OuterRef("caregiver_id"), patient_id=OuterRef("concern__patient_id"), active=True
        )
    )


@transaction.atomic
def ladder_text_answered(
    *,
    caregivers: list,
    from_number: str,
    digit: str,
    now: datetime | None = None,
    message: SmsMessage | None = None,
) -> str:
    """A reply 1 (booked) or 2 (call me) to the latest ladder text sent to this number. Stops the
    child's ladders open when that text was sent (not one of a danger that began since); 2 also
    puts the child on today's call list. Returns the answer to text back, or "" when no open
    ladder texted this caregiver (the reply is then an ordinary unknown word). `message`, the
    logged reply, is marked as about the ladder's child, so only that child's clinic sees it.

    Only an answer from a caregiver who may answer acts: `caregivers` are those whose (proven)
    mobile is `from_number` (alerts.inbound, after its WebhookReceipt, so a replay acts once);
    the caregiver must still be linked to the child and able to receive texts; and only a ladder
    text that went to this very number counts: a reply from a number the caregiver has since
    left, from a caregiver a nurse removed, or to a ladder that never texted them, stops nothing."""
    now = now or timezone.now()
    caregivers = [c for c in caregivers if c.mobile and str(c.mobile) == from_number and c.can_receive_texts]
    step = (
        LadderStep.objects.filter(
            caregiver__in=caregivers,
            rung__in=[Rung.TEXT, Rung.TEXT_NEXT],
            sms_message__to_number=from_number,
            concern__resolved_at__isnull=True,
        )
        .filter(_still_linked())
        .exclude(concern__ladder_steps__rung=Rung.STOPPED)
        .select_related("caregiver", "concern__patient__clinic")
        .order_by("-at", "-pk")
        .first()
    )
    if step is None or digit not in ANSWER_DIGITS:
        return ""
    caregiver = step.caregiver
    concern = _lock(step.concern_id)
    _answered(step, f"text {digit}", now)
    if digit == "2":
        _put_on_call_list(concern, now, note=f"{caregiver} replied 2: asked to be called.")
    why = f"{caregiver} replied {digit} ({'booked' if digit == '1' else 'call me'})."
    _stop_ladders_asked_about(step, now, why)
    if message is not None:
        SmsMessage.objects.filter(pk=message.pk).update(patient=concern.patient_id)
        message.patient_id = concern.patient_id
    clinic = concern.patient.clinic
    return ladder_reply(
        f"answer_{ANSWER_DIGITS[digit]}",
        language=caregiver.preferred_language,
        phone=clinic.phone_nurse_line,
        sender=sender_of(clinic, caregiver.preferred_language),
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
def ladder_call_answered(
    *, step_id: int | None, digits: str, call_sid: str = "", now: datetime | None = None
) -> str:
    """The caregiver pressed a key during a ladder call. 1 confirms and stops the ladders the call
    was about, once: the press must name the call the step placed (its CallSid), a replay of it
    (the same CallSid) acts no more, it counts only from a caregiver still linked to the child,
    and it never stops a ladder of a danger that began after the call. Returns the TwiML."""
    from alerts.inbound import webhook_first_receipt

    now = now or timezone.now()
    step = (
        LadderStep.objects.filter(pk=step_id, rung=Rung.CALL)
        .exclude(call_sid="")
        .filter(call_sid=call_sid[:64])
        .select_related("caregiver")
        .first()
        if call_sid
        else None
    )
    language = language_of(step.caregiver.preferred_language if step and step.caregiver else "en")
    if step is None or digits != "1":
        return say_twiml(LADDER_TEXTS[language]["say_goodbye"], language=language)
    _lock(step.concern_id)  # a twin press waits here, then finds the receipt
    first = webhook_first_receipt(kind=WebhookReceipt.Kind.PRESS, sid=call_sid, now=now)
    may_answer = LadderStep.objects.filter(pk=step.pk).filter(_still_linked()).exists()
    if first and may_answer and not step.answered_at:
        _answered(step, "pressed 1", now)
        _stop_ladders_asked_about(step, now, f"{step.caregiver} pressed 1 on the phone call.")
    return say_twiml(LADDER_TEXTS[language]["say_thanks"], language=language)


@transaction.atomic
def ladder_call_status(
    *, step_id: int | None, call_sid: str, status: str, now: datetime | None = None
) -> None:
    """How the call ended, once per call and status. A call nobody picked up (busy, failed, no
    answer) lets the ladder take its next rung at the next beat instead of waiting."""
    from alerts.inbound import webhook_first_receipt

    now = now or timezone.now()
    status = (status or "").lower()[:20]
    if not call_sid or not status:
        return
    rows = LadderStep.objects.select_for_update().filter(pk=step_id, rung=Rung.CALL, call_sid=call_sid[:64])
    step = rows.first()
    if step is None:
        return
    if not webhook_first_receipt(kind=WebhookReceipt.Kind.CALL_STATUS, sid=call_sid, status=status, now=now):
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

"""What Twilio tells us: delivery status callbacks and replies from families."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from alerts import begun
from alerts.escalations import escalate_reminder
from alerts.models import Reminder, SmsMessage, WebhookReceipt
from alerts.sending import reminder_reported
from alerts.words import default_sender, format_date, format_time, reply_text, sender_of

# Twilio's opt-out and opt-in keywords (they are matched on the whole message, case-insensitive).
OPT_OUT_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
OPT_IN_WORDS = {"START", "UNSTOP", "YES"}
HELP_WORDS = {"HELP", "INFO", "AYUDA"}
# "Report a sign" by text (issue 25): the link to the report page and the number for this hour.
SIGNS_WORDS = {"SIGNS": "en", "SIGNOS": "es"}
CONFIRM_WORDS = {"C", "CONFIRM", "SI", "SÍ"}
LADDER_DIGITS = {"1", "2"}  # answers to a ladder text (alerts/ladder_answers.py)

# Twilio's message statuses ranked; a status only ever moves up. Final ones never change.
STATUS_RANK = {
    "accepted": 0,
    "scheduled": 0,
    "queued": 1,
    "sending": 1,
    "sent": 2,
    "delivered": 3,
    "read": 3,
    "undelivered": 4,
    "failed": 4,
    "canceled": 4,
}
REMINDER_STATUS = {
    "sent": Reminder.Status.SENT,
    "delivered": Reminder.Status.DELIVERED,
    "read": Reminder.Status.DELIVERED,
    "undelivered": Reminder.Status.UNDELIVERED,
    "failed": Reminder.Status.FAILED,
}
# Reminder statuses a callback may move from, for each status it moves to.
MAY_MOVE_FROM = {
    Reminder.Status.SENT: [Reminder.Status.CLAIMED],
    Reminder.Status.DELIVERED: [Reminder.Status.CLAIMED, Reminder.Status.SENT],
    Reminder.Status.UNDELIVERED: [Reminder.Status.CLAIMED, Reminder.Status.SENT],
    Reminder.Status.FAILED: [Reminder.Status.CLAIMED, Reminder.Status.SENT],
}


@transaction.atomic
def sms_status_update(
    *,
    message_sid: str,
    status: str,
    error_code: str = "",
    reminder_id: int | None = None,
    ref: str = "",
    now: datetime | None = None,
) -> None:
    """Apply a delivery report. Conditional updates: repeats and late reports change nothing.

    A report can arrive before the sender has committed the message id; with the send it names
    (`ref`, from the callback URL: alerts.begun.callback_ref, signed) the row lock makes this wait
    for that commit instead of missing it; and a send whose recording failed (the row still begun,
    no message id) is recorded as accepted with the report's MessageSid, so it is never sent again
    (a second source beside asking the provider). `reminder_id` is the older URL's plain id."""
    now = now or timezone.now()
    status = (status or "").lower()
    rank = STATUS_RANK.get(status)
    target = REMINDER_STATUS.get(status)
    if rank is None or not message_sid:
        return
    if not webhook_first_receipt(kind=WebhookReceipt.Kind.STATUS, sid=message_sid, status=status, now=now):
        return
    named = begun.callback_ref_read(ref) if ref else None
    if named is not None:
        kind, pk, micros = named
        if kind == begun.REMINDER:
            # Waits on the row's lock for a sender still recording, so the sid is found below;
            # a report of another send of the row moves nothing.
            reminder_reported(reminder_id=pk, micros=micros, message_sid=message_sid)
        else:
            from alerts.ladder import ladder_text_reported

            ladder_text_reported(step_id=pk, micros=micros, message_sid=message_sid, now=now)
    if target is not None:
        reminder_ids = _lock_reminders(message_sid, reminder_id, MAY_MOVE_FROM[target])
    lower = [s for s, r in STATUS_RANK.items() if r < rank] + [""]
    SmsMessage.objects.filter(provider_message_id=message_sid, status__in=lower).update(status=status)
    if target is None:
        return
    fields = {"status": target, "updated_at": now}
    if target == Reminder.Status.DELIVERED:
        fields["delivered_at"] = now
    if error_code:
        fields["last_error"] = f"{error_code}: {status}"
    Reminder.objects.filter(pk__in=reminder_ids).update(**fields)
    reminders = Reminder.objects.filter(pk__in=reminder_ids).select_related("patient")
    if target in (Reminder.Status.UNDELIVERED, Reminder.Status.FAILED):
        for reminder in reminders:
            escalate_reminder(reminder=reminder, why=f"{status} {error_code}".strip(), now=now)
    elif target == Reminder.Status.DELIVERED:
        # A delivered text may clear "family cannot be reached": refresh the child's concerns.
        from alerts.concerns import concerns_refresh_many

        patient_ids = sorted({r.patient_id for r in reminders})
        if patient_ids:
            concerns_refresh_many(patient_ids=patient_ids, now=now)


def webhook_first_receipt(*, kind: str, sid: str, status: str = "", now: datetime) -> bool:
    """Record that this webhook was acted on; False if it already was (a replay, or Twilio trying
    again). Called inside the acting transaction: a concurrent twin waits on the unique index, then
    finds the row and does nothing."""
    _, created = WebhookReceipt.objects.get_or_create(
        kind=kind, message_sid=sid[:64], status=status[:20], defaults={"received_at": now}
    )
    return created


def _lock_reminders(message_sid: str, reminder_id: int | None, from_statuses) -> list[int]:
    """The reminders this report may move, locked (waiting for a sender still holding one)."""
    rows = Reminder.objects.select_for_update().filter(status__in=from_statuses)
    if reminder_id:
        rows = rows.filter(pk=reminder_id, provider_message_id__in=[message_sid, ""])
    else:
        rows = rows.filter(provider_message_id=message_sid)
    # FOR UPDATE re-checks the conditions on the row as the sender committed it.
    return [pk for pk in rows.values_list("pk", flat=True) if pk]


def _caregivers_of(number: str):
    from patients.models import Caregiver

    return list(Caregiver.objects.filter(mobile=number).select_related("user").order_by("pk"))


def _clinic_of(caregivers):
    from patients.models import Clinic

    return (
        Clinic.objects.filter(patients__caregiver_links__caregiver__in=caregivers).first()
        or Clinic.objects.first()
    )


def _sender_for(caregivers, clinic, language: str) -> str:
    """The clinic's short name in the reader's language, unless this number's children are at
    more than one clinic."""
    from patients.models import Clinic

    clinics = Clinic.objects.filter(patients__caregiver_links__caregiver__in=caregivers).distinct()
    return default_sender(language) if caregivers and clinics.count() > 1 else sender_of(clinic, language)


@transaction.atomic
def sms_inbound_receive(
    *, from_number: str, to_number: str, body: str, message_sid: str = "", now: datetime | None = None
) -> str:
    """Log a reply and act on it. Returns the text to answer with ("" for no answer), which is
    logged in the outbox too."""
    now = now or timezone.now()
    if message_sid and not webhook_first_receipt(kind=WebhookReceipt.Kind.INBOUND, sid=message_sid, now=now):
        return ""  # already acted on and answered: a replay changes nothing
    caregivers = _caregivers_of(from_number)
    message = SmsMessage.objects.create(
        direction=SmsMessage.Direction.INBOUND,
        caregiver=caregivers[0] if caregivers else None,
        to_number=to_number,
        from_number=from_number,
        body=body,
        provider_message_id=message_sid[:64],
        status="received",
        created_at=now,
    )
    answer = _act_on(caregivers, message=message, from_number=from_number, body=body, now=now)
    if answer:
        SmsMessage.objects.create(
            direction=SmsMessage.Direction.OUTBOUND,
            caregiver=caregivers[0] if caregivers else None,
            patient_id=message.patient_id,  # a ladder's answer is about the ladder's child
            to_number=from_number,
            from_number=to_number,
            body=answer,
            backend="twiml",
            status="reply",
            created_at=now,
        )
    return answer


def _act_on(caregivers, *, message: SmsMessage, from_number: str, body: str, now: datetime) -> str:
    from patients.services import sms_consent_record

    word = " ".join(body.split()).upper().rstrip(".!")
    spanish_word = word in {"SI", "SÍ"} or SIGNS_WORDS.get(word) == "es"
    language = caregivers[0].preferred_language if caregivers else ("es" if spanish_word else "en")
    clinic = _clinic_of(caregivers)
    phone = clinic.phone_nurse_line if clinic else ""
    sender = _sender_for(caregivers, clinic, language)
    if word in OPT_OUT_WORDS or word in OPT_IN_WORDS:
        given = word in OPT_IN_WORDS
        for caregiver in caregivers:
            if caregiver.sms_consent != given:
                sms_consent_record(caregiver=caregiver, given=given, source="sms", now=now)
        return ""  # Twilio answers opt-out and opt-in keywords itself.
    if word in HELP_WORDS:
        return reply_text(
            "help",
            language=language,
            sender=sender,
            phone=phone,
            after=clinic.phone_after_hours if clinic else "",
        )
    if word in SIGNS_WORDS:
        return _signs_answer(clinic, language=language, sender=sender, now=now)
    if word in LADDER_DIGITS and caregivers:
        from alerts.ladder_answers import ladder_text_answered

        answer = ladder_text_answered(
            caregivers=caregivers, from_number=from_number, digit=word, now=now, message=message
        )
        if answer:
            return answer
    if word in CONFIRM_WORDS and caregivers:
        return _confirm_next(caregivers, language=language, phone=phone, now=now)
    return reply_text("unknown", language=language, phone=phone)


def _signs_answer(clinic, *, language: str, sender: str, now: datetime) -> str:
    """The report page's link, and the number right for this hour (the clinic's calendar: the
    clinic while open, the operator otherwise)."""
    from patients.clinic_hours import call_number

    link = settings.PUBLIC_BASE_URL.rstrip("/") + reverse("family:signs")
    phone = call_number(clinic, now=now).number if clinic else ""
    return reply_text("signs", language=language, sender=sender, link=link, phone=phone)


def _confirm_next(caregivers, *, language: str, phone: str, now: datetime) -> str:
    from appointments.models import Appointment
    from appointments.services import AppointmentError, appointment_confirm

    appointment = (
        Appointment.objects.filter(
            patient__caregiver_links__caregiver__in=caregivers, patient__caregiver_links__active=True
        )
        .upcoming(now=now)
        .select_related("patient__clinic")
        .first()
    )
    if appointment is None:
        return reply_text("nothing_to_confirm", language=language, phone=phone)
    try:
        appointment = appointment_confirm(appointment=appointment, now=now)
    except AppointmentError:
        return reply_text("nothing_to_confirm", language=language, phone=phone)
    local = appointment.start.astimezone(ZoneInfo(appointment.patient.clinic.time_zone))
    return reply_text(
        "confirmed",
        language=language,
        child=appointment.patient.name_in_texts,
        date=format_date(local.date(), language),
        time=format_time(local, language),
    )

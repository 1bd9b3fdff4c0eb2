"""A year of history for the demo children, so the safety figures page shows something true:
the texts that went before each refill (a few undelivered), and for the refills that came close
to (or after) the alarm date, the critical concern, its acknowledgement by a nurse and the
ladder steps taken until the refill. Deterministic: the same demo every time."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from alerts.models import Concern, LadderStep, SmsMessage
from alerts.words import ladder_text, reminder_text

# Days between a refill and the alarm date it prevented, picked in turn (mostly a comfortable
# week or more; some inside the 7-day lead, a few within 3 days; one after the alarm).
MARGINS = [9, 11, 6, 10, 8, 12, 4, 9, 13, 7, 10, 2, 11, 8, 5, 9, 12, -1, 10, 8, 14, 6, 9, 1, 11]
ACK_HOURS = [1.5, 4, 0.5, 9, 2.5, 20, 3, 6]


def margin(n: int, k: int) -> int:
    return MARGINS[(n * 7 + k * 3) % len(MARGINS)]


def _local(patient, day, hour: int) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=patient.clinic.tzinfo)


def seed_history(*, patient, visits: list, nurse, now: datetime) -> None:
    """History for each past refill interval (`visits` oldest first)."""
    caregivers = [
        link.caregiver for link in patient.caregiver_links.filter(active=True).select_related("caregiver")
    ]
    textable = [c for c in caregivers if c.sms_consent and c.mobile]
    phone = patient.clinic.phone_nurse_line
    for i, (before, visit) in enumerate(zip(visits, visits[1:], strict=False)):
        sent_at = _local(patient, before.refill_due - timedelta(days=7), 9)
        for j, caregiver in enumerate(textable):
            body = reminder_text(
                kind="refill_due",
                language=caregiver.preferred_language,
                child=patient.name_in_texts,
                target=before.refill_due,
                phone=phone,
            )
            undelivered = (patient.pk + i + j) % 11 == 0
            SmsMessage.objects.create(
                direction=SmsMessage.Direction.OUTBOUND,
                caregiver=caregiver,
                patient=patient,
                to_number=str(caregiver.mobile),
                body=body,
                backend="twilio",
                provider_message_id=f"SMDEMO{patient.pk:04d}{i:02d}{j}",
                status="undelivered" if undelivered else "delivered",
                created_at=sent_at,
            )
        if (before.alarm_at_worst - visit.visit_at) < timedelta(days=3):
            _close_call(patient, before, visit, textable, nurse, i)


def _close_call(patient, before, visit, textable, nurse, i: int) -> None:
    """A refill within 3 days of the alarm (or after it): the concern, its acknowledgement, the ladder."""
    tz = patient.clinic.tzinfo
    alarm_day = before.alarm_at_worst.astimezone(tz).date()
    passed = visit.visit_at > before.alarm_at_worst
    began = before.alarm_at_worst if passed else _local(patient, alarm_day - timedelta(days=3), 0)
    kind = Concern.Kind.ALARM_PASSED if passed else Concern.Kind.ALARM_NEAR
    concern = Concern.objects.create(
        patient=patient,
        clinic=patient.clinic,
        kind=kind,
        tier=Concern.Tier.CRITICAL,
        tier_rank=0,
        key=f"{before.pk}",
        began_at=began,
        act_by=alarm_day,
        nurse_words=f"Alarm on {alarm_day.day} {alarm_day:%b %Y} and no refill booked before it.",
        family_level="call_today",
        needs_nurse=True,
        opened_at=began,
        updated_at=visit.visit_at,
        resolved_at=visit.visit_at,
        resolved_reason="refill recorded",
        acknowledged_at=began + timedelta(hours=ACK_HOURS[(patient.pk + i) % len(ACK_HOURS)]),
        acknowledged_by=nurse,
    )
    first = _local(patient, began.astimezone(tz).date(), 8) if not passed else began
    rungs = [
        ("text", first),
        ("text_next", first + timedelta(hours=12)),
        ("call", first + timedelta(hours=20)),
    ]
    texted = 0
    for rung, at in rungs:
        if at >= visit.visit_at or (rung != "call" and texted >= len(textable)):
            continue
        caregiver = textable[min(texted, len(textable) - 1)] if textable else None
        message = None
        if rung != "call" and caregiver:
            texted += 1
            message = SmsMessage.objects.create(
                direction=SmsMessage.Direction.OUTBOUND,
                caregiver=caregiver,
                patient=patient,
                to_number=str(caregiver.mobile),
                body=ladder_text(
                    danger=kind,
                    language=caregiver.preferred_language,
                    child=patient.name_in_texts,
                    day=alarm_day,
                    phone=patient.clinic.phone_nurse_line,
                ),
                backend="twilio",
                status="delivered",
                created_at=at,
            )
        LadderStep.objects.create(
            concern=concern,
            rung=rung,
            at=at,
            caregiver=caregiver,
            sms_message=message,
            call_status="completed" if rung == "call" else "",
        )
    LadderStep.objects.create(
        concern=concern, rung="stopped", at=visit.visit_at, note="Concern resolved: refill recorded."
    )


def seed_call_list(*, clinic, now: datetime) -> LadderStep | None:
    """A ladder that has reached the nurses' call list today, so a newcomer sees the feature: the
    open "alarm passed" concern that began first, its family texted and called without an answer
    (the texts delivered, the call not answered), then put on today's call list. The live ladder
    (alerts/ladder.py) leaves a child listed today alone until tomorrow, when it lists it again."""
    concern = (
        Concern.objects.filter(
            clinic=clinic,
            kind=Concern.Kind.ALARM_PASSED,
            resolved_at__isnull=True,
            patient__mrn__startswith="DEMO-",
        )
        .select_related("patient__clinic")
        .order_by("began_at", "pk")
        .first()
    )
    if concern is None or concern.ladder_steps.exists():
        return None
    patient = concern.patient
    tz = patient.clinic.tzinfo
    links = patient.caregiver_links.filter(active=True).select_related("caregiver").order_by("pk")
    caregivers = [link.caregiver for link in links if link.caregiver.mobile]
    if not caregivers:
        return None
    first = max(concern.began_at, now - timedelta(hours=30))
    alarm_day = concern.details.get("alarm_day")
    day = datetime.fromisoformat(alarm_day).date() if alarm_day else now.astimezone(tz).date()
    rungs = [("text", first, caregivers[0])]
    if len(caregivers) > 1:
        rungs.append(("text_next", first + timedelta(hours=6), caregivers[1]))
    rungs.append(("call", first + timedelta(hours=12), caregivers[0]))
    for rung, at, caregiver in rungs:
        message = None
        if rung != "call":
            message = SmsMessage.objects.create(
                direction=SmsMessage.Direction.OUTBOUND,
                caregiver=caregiver,
                to_number=str(caregiver.mobile),
                body=ladder_text(
                    danger="alarm_passed",
                    language=caregiver.preferred_language,
                    child=patient.name_in_texts,
                    day=day,
                    phone=patient.clinic.phone_nurse_line,
                ),
                backend="twilio",
                status="delivered",
                created_at=at,
            )
        LadderStep.objects.create(
            concern=concern,
            rung=rung,
            at=at,
            caregiver=caregiver,
            sms_message=message,
            call_status="no-answer" if rung == "call" else "",
        )
    return LadderStep.objects.create(
        concern=concern, rung="call_list", at=now, list_day=now.astimezone(tz).date()
    )

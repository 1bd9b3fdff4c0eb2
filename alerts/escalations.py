"""Escalations to the nurses: each raised once (the dedupe key is unique), shown on the
escalations page and the console worklist, and e-mailed to the clinic's nurse inbox on commit."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.urls import reverse
from django.utils import timezone

from .models import Escalation, Reminder

logger = logging.getLogger("alerts")
NOT_DELIVERED_AFTER = timedelta(hours=1)
ALARM_NEAR_DAYS = 2

Kind = Escalation.Kind
Severity = Escalation.Severity


def escalation_raise(
    *,
    patient,
    kind: str,
    key: str,
    message: str,
    severity: str = Severity.WARNING,
    reminder: Reminder | None = None,
    now: datetime | None = None,
) -> tuple[Escalation, bool]:
    """Raise an escalation unless one with this key exists. E-mails the nurse inbox on commit."""
    escalation, created = Escalation.objects.get_or_create(
        dedupe_key=key[:200],
        defaults={
            "clinic_id": patient.clinic_id,
            "patient": patient,
            "kind": kind,
            "severity": severity,
            "message": message[:500],
            "reminder": reminder,
            "created_at": now or timezone.now(),
        },
    )
    if created:
        transaction.on_commit(lambda: escalation_email(escalation_id=escalation.pk))
    return escalation, created


def escalation_email(*, escalation_id: int) -> None:
    """Tell the clinic's nurse inbox. Failures are logged; `check` retries unmailed ones."""
    escalation = Escalation.objects.select_related("clinic", "patient").get(pk=escalation_id)
    to = escalation.clinic.nurse_inbox_email
    if not to or escalation.emailed_at:
        return
    link = settings.PUBLIC_BASE_URL.rstrip("/") + reverse("alerts:escalations")
    subject = f"[ITB Portal] {escalation.get_severity_display()}: {escalation.get_kind_display()}"
    try:
        send_mail(subject, f"{escalation.message}\n\nOpen the escalations list: {link}", None, [to])
    except Exception:  # noqa: BLE001 - a mail server problem must not stop the engine
        logger.exception("Could not e-mail escalation %s", escalation_id)
        return
    Escalation.objects.filter(pk=escalation_id).update(emailed_at=timezone.now())


def escalation_resolve(*, escalation: Escalation, by, now: datetime | None = None) -> Escalation:
    if escalation.resolved_at is None:
        escalation.resolved_at = now or timezone.now()
        escalation.resolved_by = by
        escalation.save(update_fields=["resolved_at", "resolved_by"])
    return escalation


def _name(patient) -> str:
    return f"{patient.first_name} {patient.last_name} (MRN {patient.mrn})"


def escalate_reminder(*, reminder: Reminder, why: str, now: datetime | None = None) -> bool:
    """A text that failed, was undelivered or not delivered in time: raised once per reminder."""
    patient = reminder.patient
    _, created = escalation_raise(
        patient=patient,
        kind=Kind.REMINDER_FAILED,
        key=f"reminder:{reminder.pk}",
        message=f"{reminder.get_kind_display()} text for {_name(patient)} "
        f"(target {reminder.target_date:%Y-%m-%d}) was not delivered: {why}. Call the family.",
        reminder=reminder,
        severity=Severity.CRITICAL if reminder.kind == Reminder.Kind.ALARM else Severity.WARNING,
        now=now,
    )
    return created


def escalate_unreachable(children: Iterable, *, now: datetime) -> None:
    """Children with a pump and a due date but nobody who can receive texts."""
    from patients.models import Patient

    def key(child) -> str:
        return f"no_textable:{child.patient_id}:{child.refill_due:%Y-%m-%d}"

    lonely = [c for c in children if c.pump_id and c.refill_due and not c.caregiver_ids]
    if not lonely:
        return
    # One query for the keys already raised, so the daily replan of every child stays bulk.
    raised = set(
        Escalation.objects.filter(dedupe_key__in=[key(c) for c in lonely]).values_list(
            "dedupe_key", flat=True
        )
    )
    lonely = [c for c in lonely if key(c) not in raised]
    patients = Patient.objects.in_bulk([c.patient_id for c in lonely])
    for child in lonely:
        escalation_raise(
            patient=patients[child.patient_id],
            kind=Kind.NO_TEXTABLE_CAREGIVER,
            key=key(child),
            message=f"No caregiver of {_name(patients[child.patient_id])} can receive texts "
            f"(refill due {child.refill_due:%Y-%m-%d}). Call the family.",
            now=now,
        )


def escalate_opt_out(*, caregiver, consent_id: int, now: datetime | None = None) -> None:
    for link in caregiver.links.filter(active=True).select_related("patient"):
        escalation_raise(
            patient=link.patient,
            kind=Kind.OPTED_OUT,
            key=f"opted_out:{caregiver.pk}:{link.patient_id}:{consent_id}",
            message=f"{caregiver} (caregiver of {_name(link.patient)}) stopped text reminders.",
            now=now,
        )


def escalations_check(*, now: datetime | None = None) -> int:
    """The time-based escalations (run every few minutes). Returns how many were raised."""
    now = now or timezone.now()
    raised = _check_not_delivered(now) + _check_alarm_dates(now)
    for pk in Escalation.objects.filter(emailed_at__isnull=True, resolved_at__isnull=True).values_list(
        "pk", flat=True
    )[:100]:
        escalation_email(escalation_id=pk)
    return raised


def _check_not_delivered(now: datetime) -> int:
    late = Reminder.objects.filter(status=Reminder.Status.SENT, sent_at__lt=now - NOT_DELIVERED_AFTER)
    late = late.exclude(pk__in=Escalation.objects.filter(reminder__isnull=False).values("reminder_id"))
    raised = 0
    for reminder in late.select_related("patient")[:500]:
        with transaction.atomic():
            raised += escalate_reminder(reminder=reminder, why="no delivery report within an hour", now=now)
    return raised


def _check_alarm_dates(now: datetime) -> int:
    from pumps.models import Pump, RefillVisit

    latest = RefillVisit.objects.filter(pump_id=OuterRef("pk")).order_by("-visit_at", "-pk")
    pumps = (
        Pump.objects.active()
        .with_alarm()
        .annotate(visit_id=Subquery(latest.values("pk")[:1]))
        .filter(alarm_at_worst__lte=now + timedelta(days=ALARM_NEAR_DAYS + 1))
        .select_related("patient__clinic")
    )
    raised = 0
    for pump in pumps:
        patient = pump.patient
        tz = ZoneInfo(patient.clinic.time_zone)
        days = (pump.alarm_at_worst.astimezone(tz).date() - now.astimezone(tz).date()).days
        if pump.alarm_at_worst <= now:
            kind, severity, what = Kind.ALARM_PASSED, Severity.CRITICAL, "has passed with no refill recorded"
        elif days <= ALARM_NEAR_DAYS:
            kind, severity, what = (
                Kind.ALARM_NEAR,
                Severity.WARNING,
                f"is in {days} day(s), no refill recorded",
            )
        else:
            continue
        with transaction.atomic():
            _, created = escalation_raise(
                patient=patient,
                kind=kind,
                severity=severity,
                key=f"{kind}:{pump.visit_id}",
                message=f"Alarm date of {_name(patient)} "
                f"({pump.alarm_at_worst.astimezone(tz):%Y-%m-%d}) {what}.",
                now=now,
            )
        raised += int(created)
    return raised

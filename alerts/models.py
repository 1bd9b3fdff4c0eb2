"""Reminders (the plan of texts), the messages themselves, and escalations to the nurses."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .querysets import EscalationQuerySet, SmsMessageQuerySet


class Reminder(models.Model):
    """One planned text: unique per (patient, kind, target date, offset, recipient)."""

    class Kind(models.TextChoices):
        REFILL_DUE = "refill_due", _("Refill due")
        ALARM = "alarm", _("Pump alarm date")
        APPOINTMENT = "appointment", _("Appointment")
        BATTERY = "battery", _("Battery replacement")

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        CLAIMED = "claimed", _("Sending")
        SENT = "sent", _("Sent")
        DELIVERED = "delivered", _("Delivered")
        UNDELIVERED = "undelivered", _("Not delivered")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="reminders")
    pump = models.ForeignKey(
        "pumps.Pump", null=True, blank=True, on_delete=models.CASCADE, related_name="reminders"
    )
    appointment = models.ForeignKey(
        "appointments.Appointment", null=True, blank=True, on_delete=models.CASCADE, related_name="reminders"
    )
    caregiver = models.ForeignKey("patients.Caregiver", on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    target_date = models.DateField()
    offset_days = models.SmallIntegerField()
    send_after = models.DateTimeField(db_index=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PLANNED)
    attempts = models.PositiveSmallIntegerField(default=0)
    provider_message_id = models.CharField(max_length=64, blank=True, db_index=True)
    last_error = models.CharField(max_length=300, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # When the current send began (committed before the provider is called, with attempts + 1).
    # A claimed row without it was never sent; with it and no live send holding the row's lock,
    # the outcome is unknown (alerts.sending).
    send_started_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["send_after", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "kind", "target_date", "offset_days", "caregiver"],
                name="reminder_unique_plan_row",
            ),
        ]
        indexes = [models.Index(fields=["status", "send_after"], name="reminder_due")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.target_date} −{self.offset_days}d → {self.caregiver_id}"


class SmsMessage(models.Model):
    """Every text in or out, as sent: the outbox staff can read, and the inbox of replies."""

    class Direction(models.TextChoices):
        OUTBOUND = "out", _("Sent to a family")
        INBOUND = "in", _("Reply from a family")

    direction = models.CharField(max_length=3, choices=Direction.choices)
    reminder = models.ForeignKey(
        Reminder, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    caregiver = models.ForeignKey(
        "patients.Caregiver", null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    # Twilio's description sets no length: E.164, short codes, sender ids, "whatsapp:+1..."
    to_number = models.TextField()
    from_number = models.TextField(blank=True)
    body = models.TextField()
    backend = models.CharField(max_length=20, blank=True)
    provider_message_id = models.CharField(max_length=64, blank=True, db_index=True)
    status = models.CharField(max_length=20, blank=True)  # Twilio's longest: partially_delivered
    created_at = models.DateTimeField()

    objects = SmsMessageQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.created_at:%Y-%m-%d %H:%M}"


class Escalation(models.Model):
    """Something a nurse must act on. Raised once per dedupe key."""

    class Kind(models.TextChoices):
        REMINDER_FAILED = "reminder_failed", _("Reminder not delivered")
        NO_TEXTABLE_CAREGIVER = "no_textable", _("No caregiver can receive texts")
        OPTED_OUT = "opted_out", _("Caregiver opted out of texts")
        ALARM_NEAR = "alarm_near", _("Alarm in 2 days, no refill recorded")
        ALARM_PASSED = "alarm_passed", _("Alarm date passed, no refill")
        APPOINTMENT_AFTER_ALARM = "appt_after_alarm", _("Appointment after the alarm date")
        RESIDUAL_DISCREPANCY = "residual", _("Residual-volume discrepancy")
        BATTERY_WINDOW = "battery", _("Battery replacement window open")
        CONTACT_CHANGED = "contact_changed", _("A parent shared with another clinic changed their number")

    class Severity(models.TextChoices):
        WARNING = "warning", _("Warning")
        CRITICAL = "critical", _("Critical")

    clinic = models.ForeignKey("patients.Clinic", on_delete=models.CASCADE, related_name="escalations")
    patient = models.ForeignKey(
        "patients.Patient", null=True, blank=True, on_delete=models.CASCADE, related_name="escalations"
    )
    reminder = models.ForeignKey(Reminder, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.WARNING)
    dedupe_key = models.CharField(max_length=200, unique=True)
    message = models.CharField(max_length=500)
    created_at = models.DateTimeField()
    emailed_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = EscalationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["patient", "resolved_at"], name="escalation_open_per_patient")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_severity_display()})"


class WebhookReceipt(models.Model):
    """One row per Twilio webhook acted on: a replayed MessageSid (with the same status, for a
    delivery report) finds its row and changes nothing. Twilio sends one MessageSid per reply, and
    one delivery report per status of a sent text."""

    class Kind(models.TextChoices):
        STATUS = "status", _("Delivery report")
        INBOUND = "inbound", _("Reply from a family")

    kind = models.CharField(max_length=10, choices=Kind.choices)
    message_sid = models.CharField(max_length=64)
    status = models.CharField(max_length=20, blank=True)
    received_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "message_sid", "status"], name="webhook_receipt_once"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.message_sid} {self.status}".strip()


class Heartbeat(models.Model):
    """When a periodic job last ran (the sweep), so staff and /healthz can see it stalled."""

    name = models.CharField(max_length=50, unique=True)
    last_run_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.last_run_at:%Y-%m-%d %H:%M}"


class SendingHold(models.Model):
    """A clinic's texts wait: Twilio refused a send for a configuration reason (alerts.holds)."""

    clinic = models.ForeignKey("patients.Clinic", on_delete=models.CASCADE, related_name="sending_holds")
    code = models.PositiveIntegerField(null=True, blank=True)
    reason = models.CharField(max_length=300)
    started_at = models.DateTimeField()
    alerted_at = models.DateTimeField(null=True, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["clinic"],
                condition=models.Q(released_at__isnull=True),
                name="one_open_hold_per_clinic",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.clinic}: {self.reason}"

"""Reminders (the plan of texts), the messages themselves, and the children's safety concerns."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from alerts.querysets import ConcernQuerySet, LadderStepQuerySet, SmsMessageQuerySet
from pumps import safety


class Reminder(models.Model):
    """One planned text: unique per (patient, kind, target date, offset, recipient)."""

    class Kind(models.TextChoices):
        REFILL_DUE = "refill_due", _("Refill due")
        ALARM = "alarm", _("Pump alarm date")
        APPOINTMENT = "appointment", _("Appointment")
        BATTERY = "battery", _("Battery replacement")
        OVERDUE = "overdue", _("Alarm date passed, no refill (daily)")

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
    # What that send handed the provider, stored with send_started_at (issue 23): a begun text
    # whose answer was not recorded is looked up by exactly these, and goes again with them.
    send_to = models.TextField(blank=True)
    send_from = models.TextField(blank=True)  # the messaging service or number it went from
    send_body = models.TextField(blank=True)
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
    # The child the text is about (a reminder's, a ladder's, an answer to a ladder): staff lists and
    # figures are scoped by this child's clinic. None for a text about no one child (a code, HELP).
    patient = models.ForeignKey(
        "patients.Patient", null=True, blank=True, on_delete=models.SET_NULL, related_name="sms_messages"
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


# The nurses' names of the safety assessment's kinds and tiers (pumps/safety.py declares them).
KIND_LABELS = {
    safety.Kind.ALARM_PASSED: _("Alarm date passed, no refill"),
    safety.Kind.ALARM_NEAR: _("Alarm near, no refill booked before it"),
    safety.Kind.BOOKED_AFTER_ALARM: _("Refill booked after the alarm date"),
    safety.Kind.BOOKED_PAST_CAP: _("Refill booked past the 180-day limit"),
    safety.Kind.BOOKED_AFTER_DUE: _("Refill booked after the refill-due date"),
    safety.Kind.DUE_PASSED: _("Refill-due date passed, nothing booked"),
    safety.Kind.DUE_SOON: _("Refill due soon, nothing booked"),
    safety.Kind.RESIDUAL_HIGH: _("Residual above expected (under-delivery)"),
    safety.Kind.RESIDUAL_LOW: _("Residual below expected"),
    safety.Kind.RESIDUAL_TREND: _("Residual difference growing"),
    safety.Kind.OBSERVED_EARLIER: _("Pump delivering more: alarm earlier than programmed"),
    safety.Kind.PRINTED_DIFFERS: _("Printed and computed alarm dates differ"),
    safety.Kind.ERI: _("ERI reported"),
    safety.Kind.BATTERY: _("Battery replacement window open"),
    safety.Kind.NO_SHOW: _("Refill appointment missed"),
    safety.Kind.UNREACHABLE: _("Family cannot be reached by text"),
    safety.Kind.FLEX_CLOCK: _("Flex schedule crosses a clock change"),
    safety.Kind.CONTACT_CHANGED: _("A parent shared with another clinic changed their number"),
    safety.Kind.TEXTS_HELD: _("Texts to the family wait: the clinic's texts are on hold"),
    safety.Kind.SIGNS_REPORTED: _("Family reported warning signs"),
}
TIER_LABELS = {
    safety.Tier.CRITICAL: _("Critical"),
    safety.Tier.URGENT: _("Urgent"),
    safety.Tier.ATTENTION: _("Attention"),
}


class Concern(models.Model):
    """One danger of one child, as the safety assessment (pumps/safety.py) found it.

    One row per condition (``key``): it opens once, is refreshed in place while the condition
    holds (tier, words, date to act), and resolves by itself, with the reason and time, when the
    condition clears; the row stays as history. A nurse may acknowledge it without resolving it.
    Escalations are the open concerns that need a nurse (critical and urgent).
    """

    # The kinds and tiers are the assessment's (pumps/safety.py); only their labels are here.
    Kind = models.TextChoices("Kind", [(k.name, (k.value, KIND_LABELS[k])) for k in safety.Kind])
    Tier = models.TextChoices("Tier", [(t.name, (t.value, TIER_LABELS[t])) for t in safety.Tier])

    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="concerns")
    # Copied from the patient: staff queries are scoped by the clinic of the child.
    clinic = models.ForeignKey("patients.Clinic", on_delete=models.CASCADE, related_name="concerns")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    tier = models.CharField(max_length=10, choices=Tier.choices)
    tier_rank = models.PositiveSmallIntegerField()  # safety.TIER_RANK: 0 critical, 1 urgent, 2 attention
    key = models.CharField(max_length=200)
    began_at = models.DateTimeField()
    act_by = models.DateField(null=True, blank=True)
    nurse_words = models.CharField(max_length=500)
    family_level = models.CharField(max_length=12, blank=True)  # "" when the family is not told
    details = models.JSONField(default=dict, blank=True)
    needs_nurse = models.BooleanField(default=False)
    opened_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_reason = models.CharField(max_length=200, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The nurse inbox was told (the escalation ladder attaches its further steps to the concern).
    emailed_at = models.DateTimeField(null=True, blank=True)
    # The concern this one grew from (alarm near -> alarm passed, pumps/safety.WORSENS_INTO): the
    # danger is the same and worse, so its escalation ladder carries on from the rung reached.
    follows = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="grew_into"
    )

    objects = ConcernQuerySet.as_manager()

    class Meta:
        ordering = ["tier_rank", "-began_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "key"],
                condition=models.Q(resolved_at__isnull=True),
                name="concern_one_open_per_condition",
            ),
        ]
        indexes = [
            models.Index(fields=["clinic", "resolved_at", "tier_rank"], name="concern_clinic_open"),
            models.Index(fields=["patient", "resolved_at"], name="concern_patient_open"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_tier_display()})"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


class ChildSafety(models.Model):
    """What the worklist sorts and shows, per child: the assessment's governing dates and top
    tier, refreshed with the concerns (alerts/concerns.py), so the worklist is an indexed read."""

    patient = models.OneToOneField(
        "patients.Patient", primary_key=True, on_delete=models.CASCADE, related_name="safety"
    )
    clinic = models.ForeignKey("patients.Clinic", on_delete=models.CASCADE, related_name="+")
    pump = models.ForeignKey("pumps.Pump", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    active = models.BooleanField(default=True)  # the child is active and has an active pump
    tier_rank = models.PositiveSmallIntegerField(default=safety.NO_CONCERN_RANK)
    act_by = models.DateField(null=True, blank=True)
    family_rank = models.PositiveSmallIntegerField(default=safety.FAMILY_RANK[safety.FamilyLevel.PLENTY])
    alarm_at = models.DateTimeField(null=True, blank=True)  # governing instant
    alarm_day = models.DateField(null=True, blank=True)  # governing, clinic-local
    computed_alarm_at = models.DateTimeField(null=True, blank=True)
    # Which alarm governs (pumps/safety.py: Source): programmed, printed or observed.
    alarm_source = models.CharField(max_length=10, blank=True)
    refill_due = models.DateField(null=True, blank=True)  # governing
    next_refill_at = models.DateTimeField(null=True, blank=True)
    next_refill = models.ForeignKey(
        "appointments.Appointment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The day the family was first told of the battery (ERI or window): texts repeat from it.
    battery_notice_from = models.DateField(null=True, blank=True)
    refreshed_at = models.DateTimeField()
    # The next instant at which time alone changes this child's assessment (pumps/safety.py:
    # Assessment.changes_at): the 5-minute check refreshes the children whose instant has come
    # (alerts/concerns.py: concerns_refresh_due). None: nothing changes until a fact does.
    recheck_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["clinic", "active", "tier_rank", "act_by", "alarm_at", "patient"],
                name="safety_worklist_order",
            ),
            models.Index(fields=["recheck_at"], name="safety_recheck_at"),
        ]

    def __str__(self) -> str:
        return f"Safety of patient {self.patient_id} (rank {self.tier_rank})"


class WebhookReceipt(models.Model):
    """One row per Twilio webhook acted on: a replayed MessageSid (with the same status, for a
    delivery report) finds its row and changes nothing. Twilio sends one MessageSid per reply, and
    one delivery report per status of a sent text. A ladder call's key press is kept per CallSid
    (one answer per call), its status callbacks per CallSid and status."""

    class Kind(models.TextChoices):
        STATUS = "status", _("Delivery report")
        INBOUND = "inbound", _("Reply from a family")
        PRESS = "press", _("Key pressed on a ladder call")
        CALL_STATUS = "call_status", _("How a ladder call ended")

    kind = models.CharField(max_length=12, choices=Kind.choices)
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


class LadderStep(models.Model):
    """One rung of the escalation ladder, recorded on the child's concern (alerts/ladder.py).
    A `stopped` row ends the ladder and says why; a `call_list` row is the nurses' call for a day
    and holds the outcome of that call."""

    class Rung(models.TextChoices):
        TEXT = "text", _("Text asking for an answer")
        TEXT_NEXT = "text_next", _("Text to the next caregiver")
        CALL = "call", _("Phone call")
        CALL_LIST = "call_list", _("On the nurses' call list")
        STOPPED = "stopped", _("Ladder stopped")

    class Outcome(models.TextChoices):
        REACHED = "reached", _("Reached")
        MESSAGE_LEFT = "message_left", _("Message left")
        NO_ANSWER = "no_answer", _("No answer")
        WRONG_NUMBER = "wrong_number", _("Wrong number")

    concern = models.ForeignKey(Concern, on_delete=models.CASCADE, related_name="ladder_steps")
    rung = models.CharField(max_length=10, choices=Rung.choices)
    at = models.DateTimeField()
    caregiver = models.ForeignKey(
        "patients.Caregiver", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sms_message = models.ForeignKey(
        SmsMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="ladder_steps"
    )
    # A text rung's send, as handed to the provider (committed before the provider is called):
    # with no sms_message and no error, its outcome is unknown and the provider is asked before it
    # goes again (alerts/ladder.py).
    send_started_at = models.DateTimeField(null=True, blank=True)
    send_to = models.TextField(blank=True)
    send_from = models.TextField(blank=True)
    send_body = models.TextField(blank=True)
    call_sid = models.CharField(max_length=64, blank=True, db_index=True)
    call_status = models.CharField(max_length=20, blank=True)
    error = models.CharField(max_length=300, blank=True)
    list_day = models.DateField(null=True, blank=True, help_text="call_list: the clinic day of the call")
    note = models.CharField(max_length=300, blank=True)
    answer = models.CharField(max_length=20, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=15, choices=Outcome.choices, blank=True)
    outcome_note = models.CharField(max_length=500, blank=True)
    outcome_at = models.DateTimeField(null=True, blank=True)
    outcome_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = LadderStepQuerySet.as_manager()

    class Meta:
        ordering = ["at", "pk"]
        constraints = [
            # One stop per ladder, one call-list entry per day: two beats can never add either twice.
            models.UniqueConstraint(
                fields=["concern"], condition=models.Q(rung="stopped"), name="ladder_one_stop"
            ),
            models.UniqueConstraint(
                fields=["concern", "list_day"], condition=models.Q(rung="call_list"), name="ladder_list_day"
            ),
        ]
        indexes = [models.Index(fields=["rung", "list_day"], name="ladder_call_list")]

    def __str__(self) -> str:
        return f"{self.get_rung_display()} at {self.at:%Y-%m-%d %H:%M}"


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

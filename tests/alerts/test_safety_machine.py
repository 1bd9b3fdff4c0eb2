"""The safety engine under random sequences of the real services (a hypothesis state machine).

Refills, program changes (flex too), bookings, moves, cancellations, no-shows, completions,
STOP/START, sending and delivery reports, caregivers linked and removed, and time passing across
alarm and due dates, days and the November clock change. After every step:
- the stored open concerns equal a fresh assessment of the same facts;
- every child with an open critical or urgent concern ranks above every child with none;
- no planned text is for a date other than the governing one, nor for a closed appointment.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)

from alerts.concerns import load_facts
from alerts.escalations import escalations_check
from alerts.inbound import sms_status_update
from alerts.models import ChildSafety, Concern, Reminder
from alerts.sending import reminders_claim_due, reminders_send
from alerts.sms import SendResult
from alerts.sms.locmem import LocmemBackend
from appointments.models import Appointment
from appointments.services import (
    AppointmentError,
    appointment_book,
    appointment_cancel,
    appointment_complete,
    appointment_no_show,
    appointment_reschedule,
)
from patients.contact import link_invitation_accept
from patients.registration import caregiver_link_deactivate, caregiver_link_existing
from patients.services import sms_consent_record
from patients.staff.worklist import worklist
from pumps import safety
from pumps.services import RefillError, refill_record
from tests.factories import CaregiverFactory, ClinicFactory, PatientFactory, PumpFactory, StaffFactory

DENVER = ZoneInfo("America/Denver")


class QueuedBackend(LocmemBackend):
    """The outside boundary as Twilio behaves: a text is accepted ("sent"), and its delivery
    report comes later (the machine's delivery_report rule)."""

    def send(self, *, to: str, body: str, reference: str = "") -> SendResult:
        result = super().send(to=to, body=body, reference=reference)
        return SendResult(provider_message_id=result.provider_message_id, status="sent", backend="locmem")


START = datetime(2026, 9, 20, 9, 30, tzinfo=DENVER)  # the November clock change is in reach

FLEX = [{"start": "00:00", "mcg_per_hour": "10"}, {"start": "07:00", "mcg_per_hour": "14"},
        {"start": "19:00", "mcg_per_hour": "11"}]  # fmt: skip


def program(flex: bool) -> dict:
    if flex:
        return {"concentration_mcg_ml": Decimal(1000), "mode": "flex", "flex_steps": FLEX}
    return {"concentration_mcg_ml": Decimal(1000), "mode": "simple", "daily_dose_mcg": Decimal(300)}


class SafetyMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        self.now = START
        self.traveller = time_machine.travel(self.now, tick=False)
        self.traveller.start()
        clinic = ClinicFactory()
        self.nurse = StaffFactory(clinic=clinic).user
        self.children = []
        self.caregivers = []
        for name in ("Ana", "Ben"):
            child = PatientFactory(clinic=clinic, first_name=name)
            pump = PumpFactory(patient=child)
            refill_record(pump=pump, by=self.nurse, kind="implant", visit_at=self.now - timedelta(days=30),
                          volume_after_ml=Decimal(19), program=program(False))  # fmt: skip
            caregiver = CaregiverFactory()
            self.link(child, caregiver)
            self.children.append(child)
            self.caregivers.append(caregiver)

    def teardown(self):
        self.traveller.stop()
        transaction.set_rollback(True)
        self.atomic.__exit__(None, None, None)

    # --- helpers --------------------------------------------------------------------------------

    def _open_refills(self, child):
        return list(Appointment.objects.filter(patient=child).open().order_by("start", "pk"))

    # --- the nurse -----------------------------------------------------------------------------

    @rule(
        which=st.integers(0, 1),
        volume=st.integers(8, 20),
        residual=st.sampled_from([None, Decimal("0.5"), Decimal("-3"), Decimal("2.5")]),
        printed_shift=st.sampled_from([None, 0, -5, 4]),
        next_in=st.sampled_from([None, 30, 50, 70]),
        flex=st.booleans(),
        eri=st.booleans(),
    )
    def refill(self, which, volume, residual, printed_shift, next_in, flex, eri):
        child = self.children[which]
        details = {}
        if residual is not None:
            details.update(expected_residual_ml=Decimal(4), actual_residual_ml=Decimal(4) + residual)
        if printed_shift is not None:
            details["printed_alarm_date"] = (self.now + timedelta(days=40 + printed_shift)).date()
        if eri:
            details["eri_reported_date"] = self.now.astimezone(DENVER).date()
        try:
            refill_record(
                pump=child.pumps.get(),
                by=self.nurse,
                visit_at=self.now,
                volume_after_ml=Decimal(volume),
                program=program(flex),
                bridge_bolus_ml=Decimal(0),
                next_appointment_at=self.now + timedelta(days=next_in) if next_in else None,
                after_alarm_reason="Family travelling" if next_in else "",
                next_appointment_hours_confirmed=True,
                **details,
            )
        except RefillError:
            pass

    @rule(which=st.integers(0, 1), flex=st.booleans())
    def program_change(self, which, flex):
        try:
            refill_record(pump=self.children[which].pumps.get(), by=self.nurse, kind="programming",
                          visit_at=self.now, volume_after_ml=Decimal(9), program=program(flex))  # fmt: skip
        except RefillError:
            pass

    @rule(
        which=st.integers(0, 1),
        days=st.integers(0, 80),
        kind=st.sampled_from(["refill", "refill", "battery"]),
    )
    def book(self, which, days, kind):
        start = self.now + timedelta(days=days, hours=1)
        child = self.children[which]
        appointment_book(patient=child, by=self.nurse, kind=kind, start=start, after_alarm_reason="Only day",
                         outside_hours_confirmed=True)  # fmt: skip

    @rule(
        which=st.integers(0, 1),
        days=st.integers(-2, 60),
        action=st.sampled_from(["move", "cancel", "no_show", "complete"]),
    )
    def change_appointment(self, which, days, action):
        rows = self._open_refills(self.children[which])
        if not rows:
            return
        appointment = rows[0]
        try:
            if action == "move":
                start = self.now + timedelta(days=days, hours=2)
                appointment_reschedule(
                    appointment=appointment, by=self.nurse, start=start, after_alarm_reason="x"
                )
            elif action == "cancel":
                appointment_cancel(appointment=appointment, by=self.nurse)
            elif action == "no_show":
                appointment_no_show(appointment=appointment, by=self.nurse)
            else:
                appointment_complete(appointment=appointment, by=self.nurse)
        except AppointmentError:
            pass

    # --- the family and the texts ------------------------------------------------------------------

    @rule(which=st.integers(0, 1), given=st.booleans())
    def stop_or_start(self, which, given):
        caregiver = self.caregivers[which]
        caregiver.refresh_from_db()
        sms_consent_record(caregiver=caregiver, given=given, source="sms", now=self.now)

    @rule(which=st.integers(0, 1), linked=st.booleans())
    def link_or_unlink(self, which, linked):
        caregiver, child = self.caregivers[which], self.children[which]
        if linked:
            if not caregiver.links.filter(patient=child, active=True).exists():
                self.link(child, caregiver)
        elif caregiver.links.filter(patient=child, active=True).exists():
            caregiver_link_deactivate(link=caregiver.links.get(patient=child), by=self.nurse)

    def link(self, child, caregiver):
        """A nurse asks the parent account to be linked; the parent accepts (security, issue 13)."""
        invitation = caregiver_link_existing(
            patient=child, by=self.nurse, email=caregiver.user.email, relationship="mother"
        )
        link_invitation_accept(invitation=invitation, now=self.now)

    @rule()
    def send_due(self):
        reminders_send(reminder_ids=reminders_claim_due(now=self.now), now=self.now)

    @rule(status=st.sampled_from(["delivered", "undelivered", "failed"]))
    def delivery_report(self, status):
        row = Reminder.objects.filter(status="sent").exclude(provider_message_id="").order_by("pk").last()
        if row is not None:
            sms_status_update(
                message_sid=row.provider_message_id, status=status, reminder_id=row.pk, now=self.now
            )

    # --- time ----------------------------------------------------------------------------------

    @rule(hours=st.sampled_from([1, 2, 13, 24, 24 * 3, 24 * 9, 24 * 20]))
    def time_passes(self, hours):
        self.now = self.now + timedelta(hours=hours)
        self.traveller.stop()
        self.traveller = time_machine.travel(self.now, tick=False)
        self.traveller.start()
        escalations_check(now=self.now)  # the beat

    # --- invariants --------------------------------------------------------------------------

    @invariant()
    def stored_concerns_equal_a_fresh_assessment(self):
        facts = load_facts([c.pk for c in self.children], self.now)
        for child in self.children:
            _, f = facts[child.pk]
            fresh = safety.assess(f, now=self.now)
            want = {(c.key, c.tier.value, c.act_by, c.nurse_words()) for c in fresh.concerns}
            stored = set(
                Concern.objects.open()
                .filter(patient=child)
                .values_list("key", "tier", "act_by", "nurse_words")
            )
            assert stored == want
            state = ChildSafety.objects.get(patient=child)
            assert (state.tier_rank, state.alarm_day, state.refill_due) == (
                fresh.rank, fresh.dates.alarm_day, fresh.dates.refill_due)  # fmt: skip

    @invariant()
    def danger_ranks_first(self):
        rows = list(worklist(user=self.nurse))
        danger = [Concern.objects.needing_nurse().filter(patient_id=r.patient_id).exists() for r in rows]
        assert danger == sorted(danger, reverse=True)

    @invariant()
    def planned_texts_follow_the_governing_dates(self):
        for child in self.children:
            state = ChildSafety.objects.get(patient=child)
            today = self.now.astimezone(DENVER).date()
            for row in Reminder.objects.filter(patient=child, status="planned").select_related("appointment"):
                if row.kind == "refill_due":
                    assert row.target_date == state.refill_due
                elif row.kind == "alarm":
                    assert row.target_date == state.alarm_day
                elif row.kind == "overdue":
                    assert row.target_date == today and state.alarm_at <= self.now
                elif row.kind == "appointment":
                    assert row.appointment.is_open
                    assert row.target_date == row.appointment.start.astimezone(DENVER).date()


@pytest.mark.django_db
def test_the_safety_engine_holds_under_random_sequences_of_the_services(settings_sms_locmem):
    run_state_machine_as_test(
        SafetyMachine,
        settings=settings(
            max_examples=30,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )


@pytest.fixture
def settings_sms_locmem(settings):
    settings.SMS_BACKEND = "tests.alerts.test_safety_machine.QueuedBackend"
    return settings

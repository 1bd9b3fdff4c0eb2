"""Concerns keep their history (issue 23, point 6): a concern clears only when its condition is
truly gone, a child in registration is not yet out of reach, and a worse danger never sends the
escalation ladder back down."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine

from alerts.concerns import children_recheck, concern_acknowledge, concerns_refresh
from alerts.escalations import escalations_check
from alerts.ladder import ladders_advance
from alerts.models import Concern, LadderStep, Reminder
from alerts.planning import reminders_replan
from patients.models import CaregiverLink
from tests.alerts.conftest import at, make_child, set_dates
from tests.factories import PatientFactory, PumpFactory, refill

pytestmark = pytest.mark.django_db


@pytest.fixture
def child(clinic):
    clinic.nurse_inbox_email = "pump-nurses@hospital.test"
    clinic.save()
    with time_machine.travel(at(2026, 11, 2, 8), tick=False):
        patient = make_child(clinic, first_name="Noah")
        set_dates(patient, refill_due=date(2026, 11, 30), alarm=at(2026, 12, 7, 15))
        reminders_replan(patient=patient, now=at(2026, 11, 2, 8))
    return patient


def handed(row, status, when, error=""):
    """A text's outcome written by hand; the sender and the delivery reports move the child's
    stored instant (or refresh it) as they write, so the next check looks again."""
    Reminder.objects.filter(pk=row.pk).update(status=status, sent_at=when, claimed_at=when, last_error=error)
    children_recheck(patient_ids=[row.patient_id], at=when)


def test_a_text_sent_to_a_dead_number_keeps_the_concern_open_with_its_acknowledgment(
    child, nurse, mailoutbox, django_capture_on_commit_callbacks, celery_eager
):
    first, second = Reminder.objects.filter(patient=child).order_by("send_after")[:2]
    handed(first, "undelivered", at(2026, 11, 16, 10), "30005: unknown number")
    with django_capture_on_commit_callbacks(execute=True):
        escalations_check(now=at(2026, 11, 16, 10, 5))
    concern = Concern.objects.open().get(patient=child, kind="unreachable")
    concern_acknowledge(concern=concern, by=nurse, now=at(2026, 11, 16, 10, 30))
    mails = len(mailoutbox)

    # A new text to the same number is handed over: it says nothing yet about the number.
    handed(second, "sent", at(2026, 11, 17, 10))
    with django_capture_on_commit_callbacks(execute=True):
        escalations_check(now=at(2026, 11, 17, 10, 1))
        # Its undelivered report comes: still the same row, still acknowledged, no new e-mail.
        handed(second, "undelivered", at(2026, 11, 17, 10), "30005: unknown number")
        escalations_check(now=at(2026, 11, 17, 10, 10))
    (row,) = Concern.objects.filter(patient=child, kind="unreachable")
    assert row.pk == concern.pk and row.resolved_at is None
    assert row.acknowledged_by == nurse and len(mailoutbox) == mails
    assert "30005" in row.nurse_words


def test_only_a_delivered_text_clears_family_cannot_be_reached(child):
    first, second = Reminder.objects.filter(patient=child).order_by("send_after")[:2]
    handed(first, "failed", at(2026, 11, 16, 10), "30003: unreachable")
    escalations_check(now=at(2026, 11, 16, 10, 5))
    concern = Concern.objects.open().get(patient=child, kind="unreachable")
    handed(second, "sent", at(2026, 11, 17, 10))
    escalations_check(now=at(2026, 11, 17, 10, 30))  # handed over, no report yet
    assert Concern.objects.open().get(patient=child, kind="unreachable").details["reasons"] == ["undelivered"]
    escalations_check(now=at(2026, 11, 17, 12))  # two hours on: still no report
    assert Concern.objects.open().get(patient=child, kind="unreachable").pk == concern.pk
    handed(second, "delivered", at(2026, 11, 17, 10))
    escalations_check(now=at(2026, 11, 17, 12, 5))
    concern.refresh_from_db()
    assert concern.resolved_at == at(2026, 11, 17, 12, 5)
    assert concern.resolved_reason == "texts reach the family again"


def test_no_report_is_not_cleared_by_a_newer_text_only_handed_over(child):
    first, second = Reminder.objects.filter(patient=child).order_by("send_after")[:2]
    handed(first, "sent", at(2026, 11, 16, 10))
    escalations_check(now=at(2026, 11, 16, 11, 5))
    concern = Concern.objects.open().get(patient=child, kind="unreachable")
    handed(second, "sent", at(2026, 11, 16, 11, 10))
    escalations_check(now=at(2026, 11, 16, 11, 15))
    assert Concern.objects.open().get(patient=child, kind="unreachable").pk == concern.pk


def test_a_child_in_registration_is_not_unreachable_until_a_caregiver_was_linked(
    clinic, mailoutbox, django_capture_on_commit_callbacks, celery_eager
):
    clinic.nurse_inbox_email = "pump-nurses@hospital.test"
    clinic.save()
    made = at(2026, 11, 2, 8)
    with time_machine.travel(made, tick=False), django_capture_on_commit_callbacks(execute=True):
        patient = PatientFactory(clinic=clinic, first_name="Ava")
        refill(PumpFactory(patient=patient), visit_at=at(2026, 11, 1, 9))
        concerns_refresh(patient=patient, now=at(2026, 11, 2, 8))
    assert not Concern.objects.filter(patient=patient, kind="unreachable").exists()
    assert not [m for m in mailoutbox if "cannot be reached" in m.subject]

    # A caregiver linked, then unlinked: now the family truly cannot be reached.
    caregiver_child = make_child(clinic)
    link = CaregiverLink.objects.filter(patient=caregiver_child).first()
    CaregiverLink.objects.create(patient=patient, caregiver=link.caregiver, active=False)
    concerns_refresh(patient=patient, now=at(2026, 11, 2, 9))
    concern = Concern.objects.open().get(patient=patient, kind="unreachable")
    assert concern.details["reasons"] == ["no_textable"]


# --- A worse danger never sends the ladder back down ---------------------------------------------

ALARM = at(2026, 12, 11, 14)


@pytest.fixture
def family(clinic, fake_twilio, settings):
    settings.VOICE_BACKEND = "twilio"
    settings.TWILIO_VOICE_FROM_NUMBER = "+17205550100"
    with time_machine.travel(at(2026, 12, 1, 8), tick=False):
        patient = make_child(clinic, caregivers=2, visit_at=at(2026, 9, 15, 9))
        links = list(patient.caregiver_links.order_by("pk"))
        links[1].primary_contact = False
        links[1].save(update_fields=["primary_contact"])
        set_dates(patient, refill_due=date(2026, 12, 4), alarm=ALARM)
    return patient


def advance(now):
    with time_machine.travel(now, tick=False):
        return ladders_advance(now=now)


def refresh(patient, now):
    with time_machine.travel(now, tick=False):
        concerns_refresh(patient=patient, now=now)


def test_when_alarm_near_becomes_alarm_passed_the_ladder_carries_on_from_the_rung_reached(
    family, fake_twilio
):
    t0 = at(2026, 12, 11, 9)  # Friday 09:00: alarm at 14:00, five hours left, nothing booked
    refresh(family, t0)
    near = Concern.objects.open().get(patient=family, kind="alarm_near")
    assert advance(t0) == 1  # text
    assert advance(t0 + timedelta(hours=1, minutes=15)) == 1  # text to the next caregiver
    assert [s.rung for s in near.ladder_steps.order_by("at", "pk")] == ["text", "text_next"]

    passed_at = at(2026, 12, 11, 14, 1)  # the alarm date passes mid-ladder
    refresh(family, passed_at)
    near.refresh_from_db()
    passed = Concern.objects.open().get(patient=family, kind="alarm_passed")
    assert near.resolved_at == passed_at and passed.follows_id == near.pk
    assert "alarm date passed" in near.resolved_reason and "booked" not in near.resolved_reason

    calls_before, texts_before = len(fake_twilio.calls), len(fake_twilio.accepted)
    assert advance(passed_at + timedelta(minutes=1)) == 1
    stop = near.ladder_steps.get(rung="stopped")
    assert stop.note.startswith("Carried on as") and "booked" not in stop.note
    # The next rung after the second text is the call: not the first text again.
    (taken,) = passed.ladder_steps.all()
    assert taken.rung == "call" and taken.concern_id == passed.pk
    assert len(fake_twilio.calls) == calls_before + 1 and len(fake_twilio.accepted) == texts_before
    # And then, with no answer, the call list: the ladder never climbs down.
    assert advance(passed_at + timedelta(hours=1, minutes=2)) == 1
    assert [s.rung for s in passed.ladder_steps.order_by("at", "pk")] == ["call", "call_list"]
    assert not LadderStep.objects.filter(concern=passed, rung="stopped").exists()


def test_a_refill_recorded_after_the_alarm_passed_says_refill_recorded(family):
    refresh(family, at(2026, 12, 11, 9))
    advance(at(2026, 12, 11, 9))
    refresh(family, at(2026, 12, 11, 14, 1))
    advance(at(2026, 12, 11, 14, 2))
    set_dates(family, refill_due=date(2027, 3, 1), alarm=at(2027, 3, 8, 14))
    refresh(family, at(2026, 12, 11, 15))
    advance(at(2026, 12, 11, 15, 1))
    passed = Concern.objects.get(patient=family, kind="alarm_passed", follows__isnull=False)
    assert passed.resolved_reason == "refill recorded"
    assert passed.ladder_steps.get(rung="stopped").note == "Concern resolved: refill recorded."


def test_a_child_made_inactive_resolves_its_concerns_saying_so(child):
    escalations_check(now=at(2026, 12, 5, 9))
    near = Concern.objects.open().get(patient=child, kind="alarm_near")
    type(child).objects.filter(pk=child.pk).update(active=False)
    child.refresh_from_db()
    concerns_refresh(patient=child, now=at(2026, 12, 5, 10))
    near.refresh_from_db()
    assert (near.resolved_at, near.resolved_reason) == (at(2026, 12, 5, 10), "child no longer active")

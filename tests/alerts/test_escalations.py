"""Escalations are the open concerns that need a nurse: opened once, refreshed by the beat as
time passes, resolved by themselves when the condition clears, e-mailed to the inbox on commit."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.db import transaction

from alerts.concerns import children_recheck, concern_acknowledge
from alerts.escalations import escalate_reminder, escalations_check
from alerts.models import Concern, Reminder
from alerts.planning import reminders_replan
from tests.alerts.conftest import at, make_child, set_dates

pytestmark = pytest.mark.django_db


@pytest.fixture
def child(clinic):
    clinic.nurse_inbox_email = "pump-nurses@hospital.test"
    clinic.save()
    # Made on Nov 2 2026: the factories assess the child at the clock's "now", and at a real
    # date past these dates (the suite under faketime in March 2027) that assessment opened
    # concerns the checks below then opened again.
    with time_machine.travel(at(2026, 11, 2, 8), tick=False):
        patient = make_child(clinic, first_name="Noah")
        set_dates(patient, refill_due=date(2026, 11, 30), alarm=at(2026, 12, 7, 15))
        reminders_replan(patient=patient, now=at(2026, 11, 2, 8))
    return patient


def open_kinds(patient) -> set[str]:
    return set(Concern.objects.open().filter(patient=patient).values_list("kind", flat=True))


def test_alarm_three_days_away_with_no_refill_booked_opens_once_and_mails_once(
    child, mailoutbox, django_capture_on_commit_callbacks, celery_eager
):
    with django_capture_on_commit_callbacks(execute=True):
        escalations_check(now=at(2026, 12, 3, 12))
        assert "alarm_near" not in open_kinds(child)
        escalations_check(now=at(2026, 12, 4, 9))
        escalations_check(now=at(2026, 12, 5, 9))
    near = Concern.objects.get(patient=child, kind="alarm_near")
    assert (near.tier, near.clinic_id, near.needs_nurse) == ("critical", child.clinic_id, True)
    mails = [m for m in mailoutbox if "Alarm near" in m.subject]
    assert len(mails) == 1 and mails[0].to == ["pump-nurses@hospital.test"]
    assert "/sms/escalations/" in mails[0].body


def test_alarm_passed_replaces_alarm_near_and_the_history_keeps_both(child):
    escalations_check(now=at(2026, 12, 5, 9))
    escalations_check(now=at(2026, 12, 7, 16))
    assert {"alarm_passed", "due_passed"} <= open_kinds(child)
    near = Concern.objects.get(patient=child, kind="alarm_near")
    assert near.resolved_at == at(2026, 12, 7, 16) and near.resolved_reason
    assert Concern.objects.get(patient=child, kind="alarm_passed").tier == "critical"


def test_a_new_refill_resolves_the_alarm_concerns_by_itself(child):
    escalations_check(now=at(2026, 12, 7, 16))
    assert "alarm_passed" in open_kinds(child)
    set_dates(child, refill_due=date(2027, 2, 1), alarm=at(2027, 2, 8, 15))
    # a refill by hand: the service refreshes in its write (at the write's instant, pinned: at a
    # later real clock the child's stored instant would stay at its old, later value)
    children_recheck(patient_ids=[child.pk], at=at(2026, 12, 7, 16, 30))
    escalations_check(now=at(2026, 12, 7, 17))
    assert open_kinds(child) == set()
    passed = Concern.objects.get(patient=child, kind="alarm_passed")
    assert passed.resolved_reason == "refill recorded"


def test_a_text_not_delivered_within_an_hour_opens_unreachable_until_a_text_is_delivered(child):
    row = Reminder.objects.filter(patient=child).first()
    Reminder.objects.filter(pk=row.pk).update(
        status="sent", sent_at=at(2026, 11, 16, 10), claimed_at=at(2026, 11, 16, 10)
    )
    # Handed over by hand: the sender moves the child's instant as it writes (alerts/sending.py).
    children_recheck(patient_ids=[child.pk], at=at(2026, 11, 16, 10))
    escalations_check(now=at(2026, 11, 16, 10, 59))
    assert "unreachable" not in open_kinds(child)
    escalations_check(now=at(2026, 11, 16, 11, 1))
    escalations_check(now=at(2026, 11, 16, 12))
    concern = Concern.objects.open().get(patient=child, kind="unreachable")
    assert concern.details["reasons"] == ["no_report"] and concern.tier == "urgent"
    Reminder.objects.filter(pk=row.pk).update(status="delivered")
    children_recheck(patient_ids=[child.pk], at=at(2026, 11, 16, 12))  # a delivery report refreshes
    escalations_check(now=at(2026, 11, 16, 12, 5))
    assert Concern.objects.get(pk=concern.pk).resolved_reason == "texts reach the family again"


def test_escalate_reminder_marks_why_and_opens_unreachable_once(child):
    row = Reminder.objects.filter(patient=child).first()
    Reminder.objects.filter(pk=row.pk).update(status="failed", claimed_at=at(2026, 11, 16, 10))
    row.refresh_from_db()
    assert escalate_reminder(reminder=row, why="30006: landline", now=at(2026, 11, 16, 10, 1))
    assert escalate_reminder(reminder=row, why="30006: landline", now=at(2026, 11, 16, 10, 2))
    assert Reminder.objects.get(pk=row.pk).last_error == "30006: landline"
    assert Concern.objects.open().filter(patient=child, kind="unreachable").count() == 1


def test_unreachable_is_critical_when_the_alarm_is_within_14_days(child):
    type(child.caregivers.get()).objects.update(sms_consent=False)
    escalations_check(now=at(2026, 11, 20, 9))
    assert Concern.objects.open().get(patient=child, kind="unreachable").tier == "urgent"
    escalations_check(now=at(2026, 11, 23, 9))
    assert Concern.objects.open().get(patient=child, kind="unreachable").tier == "critical"


def test_a_concern_opened_in_a_rolled_back_transaction_leaves_nothing(child, mailoutbox):
    type(child.caregivers.get()).objects.update(sms_consent=False)
    with pytest.raises(RuntimeError), transaction.atomic():
        reminders_replan(patient=child, now=at(2026, 11, 2, 9))
        raise RuntimeError
    assert "unreachable" not in open_kinds(child) and mailoutbox == []


def test_acknowledging_keeps_it_open_with_who_and_when(child, nurse):
    escalations_check(now=at(2026, 12, 7, 16))
    concern = Concern.objects.get(patient=child, kind="alarm_passed")
    concern_acknowledge(concern=concern, by=nurse, now=at(2026, 12, 7, 16, 5))
    concern.refresh_from_db()
    assert concern.resolved_at is None
    assert (concern.acknowledged_by, concern.acknowledged_at) == (nurse, at(2026, 12, 7, 16, 5))


def test_a_clinic_without_a_nurse_inbox_still_shows_the_concern(child, mailoutbox):
    child.clinic.nurse_inbox_email = ""
    child.clinic.save()
    escalations_check(now=at(2026, 12, 7, 16))
    assert Concern.objects.needing_nurse().filter(patient=child).exists() and mailoutbox == []

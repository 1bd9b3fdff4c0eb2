"""Escalations to the nurses: raised once, e-mailed to the clinic's inbox on commit."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import transaction

from alerts.models import Escalation, Reminder
from alerts.services import escalations_check, reminders_replan
from tests.alerts.conftest import at, make_child, set_dates

pytestmark = pytest.mark.django_db


@pytest.fixture
def child(clinic):
    clinic.nurse_inbox_email = "pump-nurses@hospital.test"
    clinic.save()
    patient = make_child(clinic, first_name="Noah")
    set_dates(patient, refill_due=date(2026, 11, 30), alarm=at(2026, 12, 7, 15))
    return patient


def test_alarm_two_days_away_with_no_refill_is_escalated_once(
    child, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert escalations_check(now=at(2026, 12, 4, 12)) == 0
        assert escalations_check(now=at(2026, 12, 5, 9)) == 1
        assert escalations_check(now=at(2026, 12, 6, 9)) == 0
    (escalation,) = Escalation.objects.all()
    assert (escalation.kind, escalation.severity, escalation.clinic_id) == (
        "alarm_near",
        "warning",
        child.clinic_id,
    )
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["pump-nurses@hospital.test"]
    assert "/sms/escalations/" in mailoutbox[0].body


def test_alarm_passed_with_no_refill_is_critical(child):
    escalations_check(now=at(2026, 12, 7, 16))
    escalations_check(now=at(2026, 12, 8, 9))
    assert list(Escalation.objects.values_list("kind", "severity")) == [("alarm_passed", "critical")]


def test_a_new_refill_stops_the_alarm_escalations(child):
    set_dates(child, refill_due=date(2027, 2, 1), alarm=at(2027, 2, 8, 15))
    escalations_check(now=at(2026, 12, 7, 16))
    assert not Escalation.objects.exists()


def test_a_text_not_delivered_within_an_hour_is_escalated_once(child):
    reminders_replan(patient=child, now=at(2026, 11, 2, 8))
    row = Reminder.objects.filter(patient=child).first()
    Reminder.objects.filter(pk=row.pk).update(status="sent", sent_at=at(2026, 11, 16, 10))
    assert escalations_check(now=at(2026, 11, 16, 10, 59)) == 0
    assert escalations_check(now=at(2026, 11, 16, 11, 1)) == 1
    assert escalations_check(now=at(2026, 11, 16, 12)) == 0
    assert Escalation.objects.get().reminder_id == row.pk


def test_an_escalation_raised_in_a_rolled_back_transaction_leaves_nothing(child, mailoutbox):
    type(child.caregivers.get()).objects.update(sms_consent=False)
    with pytest.raises(RuntimeError), transaction.atomic():
        reminders_replan(patient=child, now=at(2026, 11, 2, 8))
        raise RuntimeError
    assert not Escalation.objects.exists() and mailoutbox == []


def test_a_clinic_without_a_nurse_inbox_still_shows_the_escalation(child, mailoutbox):
    child.clinic.nurse_inbox_email = ""
    child.clinic.save()
    escalations_check(now=at(2026, 12, 7, 16))
    assert Escalation.objects.count() == 1 and mailoutbox == []

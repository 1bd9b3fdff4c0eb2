"""The sweep and reminder_send: claims, quiet hours, words, the unknown-outcome rule."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
import time_machine
from django.db import connection

from alerts import tasks
from alerts.models import Heartbeat, Reminder, SmsMessage
from alerts.planning import reminders_replan
from alerts.sending import (
    lost_after,
    reminder_send,
    reminders_claim_due,
    reminders_recover_stale,
    sweep_health,
)
from tests.alerts.conftest import at, make_child, set_dates
from tests.factories import CaregiverFactory, CaregiverLinkFactory, PatientFactory, PumpFactory

pytestmark = pytest.mark.django_db
FORBIDDEN = ["baclofen", "mcg", "dose", "dosis", "mg/", "intrathecal", "intratecal", "spastic", "palsy"]


@pytest.fixture(autouse=True)
def _locmem(settings):
    settings.SMS_BACKEND = "locmem"


@pytest.fixture
def child(clinic):
    patient = make_child(clinic, first_name="Sofia")
    set_dates(patient, refill_due=date(2026, 11, 30), alarm=at(2026, 12, 7, 15))
    reminders_replan(patient=patient, now=at(2026, 11, 2, 8))
    return patient


def send_due(now):
    for pk in reminders_claim_due(now=now):
        reminder_send(reminder=Reminder.objects.get(pk=pk), now=now)


def test_a_due_reminder_is_sent_once_and_logged_in_the_outbox(child, outbox):
    now = at(2026, 11, 16, 10, 1)
    send_due(now)
    send_due(now)
    assert len(outbox) == 1
    row = Reminder.objects.get(kind="refill_due", offset_days=14)
    assert (row.status, row.attempts, row.provider_message_id) == ("delivered", 1, outbox[0].sid)
    logged = SmsMessage.objects.get(reminder=row)
    assert (logged.direction, logged.to_number, logged.backend) == ("out", outbox[0].to, "locmem")


def test_nothing_is_sent_before_its_time(child, outbox):
    send_due(at(2026, 11, 16, 9, 59))
    assert outbox == []


def test_the_text_names_the_child_by_its_text_name_with_date_action_and_clinic_number(child, outbox):
    send_due(at(2026, 11, 16, 10, 1))
    body = outbox[0].body
    assert "S.'s" in body and "Sofia" not in body and "Test" not in body
    assert "Mon Nov 30" in body and child.clinic.phone_nurse_line in body and "refill" in body
    assert not [w for w in FORBIDDEN if w in body.lower()]


def test_a_spanish_speaking_caregiver_gets_the_spanish_text(clinic, outbox):
    patient = make_child(clinic, first_name="Mateo", language="es")
    set_dates(patient, refill_due=date(2026, 11, 30), alarm=at(2026, 12, 7, 15))
    reminders_replan(patient=patient, now=at(2026, 11, 2, 8))
    send_due(at(2026, 12, 7, 10, 5))
    bodies = [m.body for m in outbox]
    assert any("la bomba de M. puede sonar hoy, lun 7 dic" in b for b in bodies)
    assert all("Mateo" not in b and not [w for w in FORBIDDEN if w in b.lower()] for b in bodies)


def test_a_repeated_send_task_for_a_sent_reminder_sends_nothing(child, outbox):
    now = at(2026, 11, 16, 10, 1)
    (pk,) = reminders_claim_due(now=now)
    with time_machine.travel(now, tick=False):  # the task reads the clock: outside quiet hours
        tasks.send_reminder(pk)
        tasks.send_reminder(pk)
    assert len(outbox) == 1


def test_quiet_hours_defer_to_their_end(clinic, outbox):
    patient = make_child(clinic)
    caregiver = patient.caregivers.get()
    set_dates(patient, refill_due=date(2026, 11, 30), alarm=at(2026, 12, 7, 15))
    reminders_replan(patient=patient, now=at(2026, 11, 2, 8))
    row = Reminder.objects.get(kind="refill_due", offset_days=14)
    Reminder.objects.filter(pk=row.pk).update(send_after=at(2026, 11, 15, 22))
    send_due(at(2026, 11, 15, 22, 30))
    row.refresh_from_db()
    assert outbox == [] and row.status == "planned" and row.attempts == 0
    assert row.send_after == at(2026, 11, 16, 8, 0)  # caregiver.quiet_hours_end
    assert caregiver.quiet_hours_end.hour == 8
    send_due(at(2026, 11, 16, 8, 0))
    assert len(outbox) == 1


def test_alarm_reminders_of_the_last_two_days_ignore_quiet_hours(child, outbox):
    row = Reminder.objects.get(kind="alarm", offset_days=1)
    Reminder.objects.filter(pk=row.pk).update(send_after=at(2026, 12, 5, 23))
    far = Reminder.objects.get(kind="refill_due", offset_days=7)
    Reminder.objects.filter(pk=far.pk).update(send_after=at(2026, 12, 5, 23))
    send_due(at(2026, 12, 5, 23, 30))  # the 3-days-before alarm text (Dec 4, 10:00) is due too
    assert len(outbox) == 2
    assert set(
        Reminder.objects.filter(kind="alarm", offset_days__in=[3, 1]).values_list("status", flat=True)
    ) == {"delivered"}
    assert Reminder.objects.get(pk=far.pk).status == "planned"


def test_a_claim_whose_task_was_lost_is_claimed_again_within_a_minute_using_no_attempt(child, outbox):
    now = at(2026, 11, 16, 10, 1)
    (pk,) = reminders_claim_due(now=now)  # the broker lost the message: nothing else happens
    assert reminders_recover_stale(now=now + lost_after() - timedelta(seconds=1)) == 0
    assert reminders_recover_stale(now=now + lost_after() + timedelta(seconds=1)) == 1
    send_due(now + timedelta(minutes=1))
    row = Reminder.objects.get(pk=pk)
    assert (row.status, row.attempts, len(outbox)) == ("delivered", 1, 1)


def test_a_claimed_reminder_for_a_caregiver_who_opted_out_meanwhile_is_not_sent(child, outbox):
    (pk,) = reminders_claim_due(now=at(2026, 11, 16, 10, 1))
    caregiver = child.caregivers.get()
    type(caregiver).objects.filter(pk=caregiver.pk).update(sms_consent=False)
    tasks.send_reminder(pk)
    assert outbox == [] and Reminder.objects.get(pk=pk).status == "cancelled"


def test_sweep_records_its_heartbeat_and_health_goes_stale_after_5_minutes(child):
    assert sweep_health(at(2026, 11, 16, 10))[1] is False
    tasks.sweep()
    last, ok = sweep_health()
    assert ok and Heartbeat.objects.get(name="sweep").last_run_at == last
    assert sweep_health(last + timedelta(minutes=5, seconds=1)) == (last, False)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_four_concurrent_sweeps_over_1000_due_reminders_send_exactly_1000_texts(clinic, outbox, settings):
    from celery import current_app

    patient = PatientFactory(clinic=clinic)
    pump = PumpFactory(patient=patient)
    caregivers = [CaregiverFactory() for _ in range(10)]
    for c in caregivers:
        CaregiverLinkFactory(caregiver=c, patient=patient)
    due = at(2026, 11, 1, 10)
    Reminder.objects.bulk_create(
        Reminder(
            patient=patient,
            pump=pump,
            caregiver=caregivers[i % 10],
            kind="refill_due",
            target_date=date(2026, 12, 1) + timedelta(days=i // 10),
            offset_days=1,
            send_after=due,
        )
        for i in range(1000)
    )
    current_app.conf.task_always_eager = True
    errors = []
    clock = time_machine.travel(at(2026, 11, 1, 12), tick=True)  # the tasks read the clock: a day hour
    clock.start()

    def run():
        try:
            for _ in range(10):
                tasks.sweep()
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    try:
        threads = [threading.Thread(target=run) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        current_app.conf.task_always_eager = False
        clock.stop()
    assert errors == []
    assert len(outbox) == 1000
    assert Reminder.objects.filter(status="delivered").count() == 1000
    assert SmsMessage.objects.filter(direction="out").count() == 1000
    assert set(Reminder.objects.values_list("attempts", flat=True)) == {1}

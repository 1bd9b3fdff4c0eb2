"""Send tasks carry batches of ids; a full claim queues the next sweep; per-row rules hold."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from celery import current_app
from django.utils import timezone

from alerts import sending, tasks
from alerts.models import Reminder, SmsMessage
from tests.factories import CaregiverFactory, CaregiverLinkFactory, PatientFactory, PumpFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _locmem(settings):
    settings.SMS_BACKEND = "locmem"


@pytest.fixture
def eager():
    current_app.conf.task_always_eager = True
    yield
    current_app.conf.task_always_eager = False


def due(n: int) -> list[int]:
    patient = PatientFactory()
    pump = PumpFactory(patient=patient)
    caregiver = CaregiverFactory(quiet_hours_start=time(0), quiet_hours_end=time(0))
    CaregiverLinkFactory(caregiver=caregiver, patient=patient)
    rows = Reminder.objects.bulk_create(
        Reminder(
            patient=patient,
            pump=pump,
            caregiver=caregiver,
            kind="refill_due",
            target_date=date(2030, 1, 1) + timedelta(days=i),
            offset_days=1,
            send_after=timezone.now() - timedelta(minutes=1),
        )
        for i in range(n)
    )
    return [r.pk for r in rows]


def test_a_batch_sends_each_claimed_reminder_once_and_leaves_unclaimed_rows_alone(outbox):
    ids = due(4)
    claimed = sending.reminders_claim_due(limit=3)
    tasks.send_reminders(ids)
    tasks.send_reminders(ids)  # a repeated task finds them sent
    assert len(outbox) == 3
    assert set(Reminder.objects.filter(pk__in=claimed).values_list("status", flat=True)) == {"delivered"}
    (left,) = set(ids) - set(claimed)
    assert Reminder.objects.get(pk=left).status == "planned"
    assert SmsMessage.objects.filter(direction="out").count() == 3


def test_a_row_whose_send_breaks_stays_claimed_for_recovery_and_the_rest_are_sent(outbox, monkeypatch):
    ids = due(3)
    sending.reminders_claim_due()
    real = sending.message_for

    def broken(reminder):
        if reminder.pk == ids[1]:
            raise RuntimeError("boom")
        return real(reminder)

    monkeypatch.setattr(sending, "message_for", broken)
    assert sending.reminders_send(reminder_ids=ids) == 2
    assert Reminder.objects.get(pk=ids[1]).status == "claimed"  # the lost-claim rule takes it
    assert len(outbox) == 2


def test_a_full_claim_queues_the_next_sweep_so_one_sweep_drains_a_backlog(
    outbox, eager, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(sending, "CLAIM_BATCH", 4)
    monkeypatch.setattr(tasks, "SEND_BATCH", 3)
    ids = due(10)
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.sweep() == 4
    assert len(outbox) == 10
    assert set(Reminder.objects.filter(pk__in=ids).values_list("attempts", flat=True)) == {1}


def test_a_batch_begins_its_rows_a_group_at_a_time_and_records_each_text_as_it_is_accepted(settings, outbox):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.SMS_SEND_THREADS = 2
    settings.TWILIO_TIMEOUT_SECONDS = 10
    settings.REMINDER_LOST_AFTER_SECONDS = 50  # two rounds of two threads fit: groups of 4
    assert sending.send_group_size() == 4
    ids = due(10)
    claimed = sending.reminders_claim_due(limit=10)
    with CaptureQueriesContext(connection) as queries:
        assert sending.reminders_send(reminder_ids=claimed) == 10
    sql = [q["sql"] for q in queries.captured_queries]
    begins = [q for q in sql if q.startswith('UPDATE "alerts_reminder"') and '"send_started_at" = ' in q]
    outbox_inserts = [q for q in sql if q.startswith('INSERT INTO "alerts_smsmessage"')]
    # 4 + 4 + 2 rows begun; each text's outbox row is written as the provider accepts it.
    assert (len(begins), len(outbox_inserts)) == (3, 10)
    assert len(outbox) == 10
    rows = Reminder.objects.filter(pk__in=ids)
    assert set(rows.values_list("status", "attempts")) == {("delivered", 1)}
    assert SmsMessage.objects.filter(reminder__in=ids).count() == 10


def test_a_group_whose_follow_ups_fail_keeps_every_text_recorded_as_accepted(settings, outbox, monkeypatch):
    settings.SMS_SEND_THREADS = 1
    ids = due(3)
    claimed = sending.reminders_claim_due(limit=3)

    def broken(*args, **kwargs):
        raise RuntimeError("the follow-ups failed")

    monkeypatch.setattr(sending, "_unreachable_open_of", broken)
    monkeypatch.setattr(sending, "_unreachable_open", broken)
    assert sending.reminders_send(reminder_ids=claimed) == 3
    assert SmsMessage.objects.filter(reminder__in=ids).count() == 3 == len(outbox)
    assert set(Reminder.objects.filter(pk__in=ids).values_list("status", flat=True)) == {"delivered"}

"""Texts flow through a worker process one by one (issue 23, point 3): a free sending thread takes
the next text, so one slow request holds one thread, not its batch, and the task does not wait for
it; a transient refusal is retried within seconds by the process that met it, then after minutes;
a permanent one is not retried. The real twilio SDK against the local fake Twilio, real HTTP."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from alerts import sending, tasks
from alerts.models import Reminder, SmsMessage
from tests.alerts.conftest import texts_to_distinct_caregivers
from tests.alerts.processes import wait_until

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def threads(settings, fake_twilio):
    settings.SMS_SEND_THREADS = 4
    settings.TWILIO_TIMEOUT_SECONDS = 10
    return fake_twilio


def due(n: int) -> list[Reminder]:
    return texts_to_distinct_caregivers(n, send_after=timezone.now() - timedelta(minutes=1))


def status(row: Reminder) -> str:
    return Reminder.objects.values_list("status", flat=True).get(pk=row.pk)


def test_a_hung_request_holds_one_thread_while_the_batch_and_the_task_go_on(threads):
    rows = due(12)
    threads.fail_next(("hang", 8))  # the first text's request: Twilio answers it 8 s later
    ids = sending.reminders_claim_due()
    started = timezone.now()
    assert tasks.send_reminders(ids) == 12  # every row handed to a thread...
    first = threads.requests[0]["To"]
    others = [r for r in rows if str(r.caregiver.mobile) != first]
    # ...and the other eleven are sent and recorded while the first request still hangs.
    assert wait_until(lambda: all(status(r) == "sent" for r in others), timeout=7)
    (slow,) = [r for r in rows if str(r.caregiver.mobile) == first]
    assert status(slow) == "claimed" and timezone.now() - started < timedelta(seconds=8)
    assert wait_until(lambda: status(slow) == "sent", timeout=20)
    assert len(threads.accepted) == 12 == len({f["To"] for f in threads.accepted})
    assert SmsMessage.objects.filter(reminder__in=rows).count() == 12
    slow.refresh_from_db()
    # Recorded when Twilio accepted it, not when its batch began.
    assert slow.sent_at - started >= timedelta(seconds=7)


def test_a_transient_refusal_is_retried_within_seconds_then_sent_once(threads):
    (row,) = due(1)
    threads.fail_next(503, "reset")  # a 503, then a connection dropped without an answer
    ids = sending.reminders_claim_due()
    assert sending.reminders_send(reminder_ids=ids) == 0
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("planned", 1)
    assert timedelta(seconds=1.9) <= row.send_after - row.updated_at <= timedelta(seconds=3.1)
    # No sweep runs here: the process that met the errors retries (after 2-3 s, then 5-7.5 s).
    assert wait_until(lambda: status(row) == "sent", timeout=20, every=0.1)
    row.refresh_from_db()
    assert row.attempts == 3 and len(threads.requests) == 3 and len(threads.accepted) == 1
    assert SmsMessage.objects.filter(reminder=row).count() == 1


def test_a_quick_retry_waits_two_to_three_seconds_then_five_to_seven_and_a_half():
    for pk in (1, 2, 777, 123457):
        assert timedelta(seconds=2) <= sending.backoff(1, pk) <= timedelta(seconds=3)
        assert timedelta(seconds=5) <= sending.backoff(2, pk) <= timedelta(seconds=7.5)
    assert sending.backoff(3) == timedelta(seconds=60)  # then minutes (REMINDER_RETRY_SECONDS)
    assert sending.backoff(4) == timedelta(minutes=2)
    assert len({sending.backoff(1, pk) for pk in range(1, 50)}) > 10  # texts refused together spread


def test_a_permanent_refusal_is_not_retried(threads):
    (row,) = due(1)
    threads.fail_next(("error", 400, 21211))
    sending.reminders_send(reminder_ids=sending.reminders_claim_due())
    assert not wait_until(lambda: len(threads.requests) > 1, timeout=4)
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("failed", 1)

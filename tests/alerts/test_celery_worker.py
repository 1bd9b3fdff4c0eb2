"""Real Celery workers on a private redis-server, real twilio SDK against the fake API:
a worker killed mid-send and a Redis restart lose no reminder; the duplicate rule holds."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from alerts import tasks
from alerts.models import Reminder
from alerts.sending import lost_after, reminders_claim_due, reminders_recover_stale
from tests.alerts.conftest import texts_to_distinct_caregivers
from tests.alerts.processes import broker, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def due_reminders(n: int) -> list[Reminder]:
    return texts_to_distinct_caregivers(n, send_after=timezone.now() - timedelta(minutes=1))


def recover_and_resend():
    """What the next sweeps do once the lost-message limits have passed (the clock moved on by hand)."""
    later = timezone.now() + lost_after() + timedelta(seconds=5)
    reminders_recover_stale(now=later)
    tasks.dispatch(reminders_claim_due(now=later))


def all_sent(rows) -> bool:
    return Reminder.objects.filter(pk__in=[r.pk for r in rows], status="sent").count() == len(rows)


def texts_per_number(fake) -> Counter:
    return Counter(r["To"] for r in fake.requests)


def test_a_worker_killed_mid_send_loses_no_reminder_and_resends_only_what_twilio_had_not_taken(
    redis_server, fake_twilio, workers
):
    """Before any resend the provider is asked (alerts/sending.py): a text Twilio already lists is
    recorded from the list and not sent again; the one Twilio is still holding (the fake records
    it only when its 15 s hang ends, after the recovery) has no record yet, so it goes again
    rather than never. Nothing is lost."""
    rows = due_reminders(4)
    fake_twilio.fail_next(("hang", 15))  # one send reaches Twilio and the worker dies waiting
    with broker(redis_server.url):
        worker = workers()
        assert tasks.sweep() == 4
        assert fake_twilio.arrived.wait(30)
        worker.kill()
        assert Reminder.objects.filter(status="claimed").count() >= 1
        workers()
        assert wait_until(lambda: Reminder.objects.filter(status="claimed").count() == 0, timeout=5) is False
        # Read once the fake has taken in every request the dead worker made (nothing new comes
        # before recovery): the batch's sends went side by side.
        reached = {r["To"] for r in fake_twilio.requests}
        recorded = {str(r.caregiver.mobile) for r in Reminder.objects.filter(status="sent")}
        in_flight = reached - recorded  # reached Twilio, no answer stored: the outcome is unknown
        recover_and_resend()
        assert wait_until(lambda: all_sent(rows)), list(Reminder.objects.values_list("status", flat=True))
    per_number = texts_per_number(fake_twilio)
    assert set(per_number) == {str(r.caregiver.mobile) for r in rows}
    assert in_flight  # at least the one Twilio held
    assert all(per_number[number] <= 2 for number in in_flight)  # again only if Twilio had no record
    assert all(count == 1 for number, count in per_number.items() if number not in in_flight)


def test_redis_stopped_and_restarted_loses_no_reminder_and_sends_none_twice(
    redis_server, fake_twilio, workers
):
    first = due_reminders(3)
    with broker(redis_server.url):
        assert tasks.sweep() == 3  # queued in Redis, no worker yet
        redis_server.stop()  # the queued messages are gone
        second = due_reminders(2)
        assert tasks.sweep() == 2  # claimed, but the broker is down: nothing raised
        assert Reminder.objects.filter(status="claimed").count() == 5
        redis_server.start()
        workers()
        recover_and_resend()
        assert wait_until(lambda: all_sent(first + second)), list(
            Reminder.objects.values_list("status", flat=True)
        )
    per_number = texts_per_number(fake_twilio)
    assert sorted(per_number.values()) == [1] * 5

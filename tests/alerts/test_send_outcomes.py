"""The outcome of a send is recorded so that nothing loops: an accepted text is never sent again
because its bookkeeping failed; every path that re-sends counts against one limit, and reaching
it tells the nurses once; a live send is never taken for lost. Plus the table of Twilio's codes."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction

from alerts import sending
from alerts.models import Concern, Reminder, SmsMessage
from alerts.sending import (
    MAX_ATTEMPTS,
    lost_after,
    reminder_send,
    reminders_claim_due,
    reminders_recover_stale,
)
from alerts.sms import SendResult
from alerts.sms.errors import ErrorClass, classify, meaning
from tests.alerts.conftest import at, refill_text

T0 = at(2026, 11, 16, 10, 1)
calls: list[str] = []


class DyingBackend:
    """The worker dies while Twilio has the request: the outcome is unknown."""

    def send(self, *, to: str, body: str, reference: str = "") -> SendResult:
        calls.append(to)
        raise SystemExit("worker killed mid-send")


@pytest.fixture
def row(clinic):
    return refill_text(clinic)


def send_due(now) -> None:
    for pk in reminders_claim_due(now=now):
        try:
            reminder_send(reminder=Reminder.objects.get(pk=pk), now=now)
        except SystemExit:
            pass


@pytest.mark.django_db
def test_sends_with_unknown_outcome_count_against_the_limit_which_escalates_once_with_the_reason(
    row, settings
):
    settings.SMS_BACKEND = "tests.alerts.test_send_outcomes.DyingBackend"
    calls.clear()
    now = T0
    for _ in range(MAX_ATTEMPTS + 3):
        send_due(now)
        now += lost_after() + timedelta(seconds=1)
        reminders_recover_stale(now=now)
    row.refresh_from_db()
    assert (row.status, row.attempts, len(calls)) == ("failed", MAX_ATTEMPTS, MAX_ATTEMPTS)
    (concern,) = Concern.objects.open().filter(kind="unreachable", patient=row.patient)
    assert "outcome of the last send is unknown" in concern.nurse_words
    assert f"after {MAX_ATTEMPTS} sends" in concern.nurse_words


@pytest.mark.django_db
def test_a_text_the_provider_accepted_is_not_sent_again_when_its_bookkeeping_breaks(
    row, settings, outbox, monkeypatch
):
    settings.SMS_BACKEND = "locmem"

    def broken(*args, **kwargs):
        raise RuntimeError("the outbox row could not be written")

    working = sending._log_outbound
    monkeypatch.setattr(sending, "_log_outbound", broken)
    send_due(T0)
    for minutes in (1, 11, 22):  # recording keeps failing: the provider holds it, never sent again
        reminders_recover_stale(now=T0 + timedelta(minutes=minutes))
        send_due(T0 + timedelta(minutes=minutes))
    assert Reminder.objects.get(pk=row.pk).status == "claimed" and len(outbox) == 1
    monkeypatch.setattr(sending, "_log_outbound", working)
    reminders_recover_stale(now=T0 + timedelta(minutes=120))
    send_due(T0 + timedelta(minutes=120))
    row.refresh_from_db()
    assert (row.status, row.attempts, row.provider_message_id) == ("delivered", 1, outbox[0].sid)
    assert len(outbox) == 1 and SmsMessage.objects.get().provider_message_id == outbox[0].sid


@pytest.mark.django_db
def test_claims_and_quiet_hours_use_no_attempt(row, settings, outbox):
    settings.SMS_BACKEND = "locmem"
    night = at(2026, 11, 16, 23)
    Reminder.objects.filter(pk=row.pk).update(send_after=night)
    for minutes in range(0, 4):  # claimed, deferred to 08:00, claimed again...
        send_due(night + timedelta(minutes=minutes))
    row.refresh_from_db()
    assert (row.status, row.attempts, outbox) == ("planned", 0, [])


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_send_in_progress_holds_its_row_and_is_never_taken_for_lost(row):
    (pk,) = reminders_claim_due(now=T0)
    Reminder.objects.filter(pk=pk).update(send_started_at=T0, attempts=1)  # begun
    locked, release = threading.Event(), threading.Event()

    def live_send():  # what _send_attempt does while Twilio has the request
        try:
            with transaction.atomic():
                Reminder.objects.select_for_update().filter(pk=pk).exists()
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    sender = threading.Thread(target=live_send)
    sender.start()
    try:
        assert locked.wait(10)
        assert reminders_recover_stale(now=T0 + timedelta(hours=1)) == 0
        assert Reminder.objects.get(pk=pk).status == "claimed"
    finally:
        release.set()
        sender.join()
    assert reminders_recover_stale(now=T0 + timedelta(hours=1)) == 1  # the worker is gone
    assert Reminder.objects.get(pk=pk).status == "planned"


@pytest.mark.parametrize(
    "code, status, expected",
    [
        (21211, 400, ErrorClass.PERMANENT),
        (21610, 400, ErrorClass.PERMANENT),
        (21614, 400, ErrorClass.PERMANENT),
        (30003, 400, ErrorClass.PERMANENT),
        (14107, 429, ErrorClass.TRANSIENT),
        (21611, 400, ErrorClass.TRANSIENT),
        (20429, 429, ErrorClass.TRANSIENT),
        (None, 503, ErrorClass.TRANSIENT),
        (None, 429, ErrorClass.TRANSIENT),
        (99999, 400, ErrorClass.TRANSIENT),  # unknown: retried, and a nurse is told at the limit
        (20003, 401, ErrorClass.CONFIGURATION),
        (21606, 400, ErrorClass.PERMANENT),
        (21608, 400, ErrorClass.PERMANENT),
        (None, 401, ErrorClass.CONFIGURATION),
        (None, 403, ErrorClass.CONFIGURATION),
    ],
)
def test_twilio_errors_are_classified_by_what_they_mean(code, status, expected):
    assert classify(code=code, http_status=status) == expected


def test_every_code_in_the_table_says_what_it_means_in_plain_words():
    from alerts.sms.errors import TWILIO_ERRORS

    assert all(meaning(code) and not meaning(code).endswith(".") for code in TWILIO_ERRORS)
    assert meaning(12345) == ""

"""The twilio backend: the real SDK against a local fake of Twilio's HTTP API."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from alerts.models import Escalation, Reminder, SmsMessage
from alerts.sending import MAX_ATTEMPTS, backoff
from alerts.services import reminder_send, reminders_claim_due, reminders_replan
from tests.alerts.conftest import ACCOUNT_SID, at, make_child, set_dates

pytestmark = pytest.mark.django_db
T0 = at(2026, 11, 16, 10, 1)


@pytest.fixture
def row(clinic):
    clinic.nurse_inbox_email = "pump-nurses@hospital.test"
    clinic.save()
    patient = make_child(clinic)
    set_dates(patient, refill_due=date(2026, 11, 30), alarm=at(2026, 12, 7, 15))
    reminders_replan(patient=patient, now=at(2026, 11, 2, 8))
    return Reminder.objects.get(patient=patient, kind="refill_due", offset_days=14)


def attempt(now):
    for pk in reminders_claim_due(now=now):
        reminder_send(reminder=Reminder.objects.get(pk=pk), now=now)


def test_a_text_goes_through_the_sdk_with_callback_validity_and_messaging_service(row, fake_twilio):
    attempt(T0)
    (sent,) = fake_twilio.accepted
    assert sent["To"] == str(row.caregiver.mobile)
    assert sent["StatusCallback"] == f"https://portal.example.org/sms/twilio/status/?reminder={row.pk}"
    assert sent["ValidityPeriod"] == "14400"
    assert sent["MessagingServiceSid"].startswith("MG")
    row.refresh_from_db()
    assert row.status == "sent" and row.provider_message_id.startswith("SM")
    assert SmsMessage.objects.get(reminder=row).status == "accepted"


def test_without_a_messaging_service_the_from_number_is_used(row, fake_twilio, settings):
    settings.TWILIO_MESSAGING_SERVICE_SID = ""
    settings.TWILIO_FROM_NUMBER = "+18015550100"
    attempt(T0)
    assert fake_twilio.accepted[0]["From"] == "+18015550100"


@pytest.mark.parametrize("failure", [500, 503, 429, "timeout"])
def test_transient_errors_are_retried_with_backoff_and_end_sent(row, fake_twilio, failure):
    fake_twilio.fail_next(failure, failure)
    attempt(T0)
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("planned", 1)
    assert row.send_after == T0 + backoff(1)
    attempt(T0 + timedelta(seconds=30))  # not due yet: no request
    assert len(fake_twilio.requests) == 1
    attempt(row.send_after)
    row.refresh_from_db()
    assert (row.status, row.attempts, row.send_after - T0) == ("planned", 2, backoff(1) + backoff(2))
    attempt(row.send_after)
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("sent", 3)
    assert len(fake_twilio.requests) == 3
    assert not Escalation.objects.exists()


@pytest.mark.parametrize("code", [21610, 21211, 21614, 21408])
def test_permanent_errors_end_failed_at_once_and_escalate_once(
    row, fake_twilio, code, mailoutbox, django_capture_on_commit_callbacks
):
    fake_twilio.fail_next(("error", 400, code))
    with django_capture_on_commit_callbacks(execute=True):
        attempt(T0)
        attempt(T0 + timedelta(hours=2))
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("failed", 1)
    assert row.last_error.startswith(str(code))
    assert len(fake_twilio.requests) == 1
    (escalation,) = Escalation.objects.filter(kind="reminder_failed")
    assert escalation.reminder_id == row.pk and escalation.emailed_at is not None
    assert [m.to for m in mailoutbox if "not delivered" in m.subject.lower()] == [
        ["pump-nurses@hospital.test"]
    ]


def test_twilio_opted_out_error_withdraws_consent_and_tells_the_nurses(row, fake_twilio):
    fake_twilio.fail_next(("error", 400, 21610))
    attempt(T0)
    row.caregiver.refresh_from_db()
    assert row.caregiver.sms_consent is False
    assert Escalation.objects.filter(kind="opted_out").count() == 1
    assert not Reminder.objects.filter(patient=row.patient, status="planned").exists()


def test_transient_errors_end_failed_after_the_attempt_limit(row, fake_twilio):
    fake_twilio.fail_next(*[500] * MAX_ATTEMPTS)
    now = T0
    for _ in range(MAX_ATTEMPTS):
        attempt(now)
        now += timedelta(hours=2)
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("failed", MAX_ATTEMPTS)
    assert Escalation.objects.filter(kind="reminder_failed", reminder=row).count() == 1


def test_wrong_credentials_are_a_permanent_failure(row, fake_twilio, settings):
    settings.TWILIO_AUTH_TOKEN = "wrong"
    attempt(T0)
    row.refresh_from_db()
    assert row.status == "failed" and fake_twilio.requests == []


def test_the_sdk_talks_to_the_configured_base_url_not_twilio(fake_twilio):
    from alerts.sms import get_backend

    result = get_backend("twilio").send(to="+18015550123", body="hello")
    assert fake_twilio.accepted[0]["Body"] == "hello"
    assert result.provider_message_id.startswith("SM") and ACCOUNT_SID


def test_one_http_session_per_process_and_one_sdk_client_per_sending_thread(fake_twilio, settings):
    from concurrent.futures import ThreadPoolExecutor

    from alerts.sms import get_backend
    from alerts.sms.twilio import process_session

    first, again = get_backend("twilio"), get_backend("twilio")
    with ThreadPoolExecutor(4) as pool:
        others = list(pool.map(lambda _: get_backend("twilio").client, range(4)))
        results = list(
            pool.map(lambda n: get_backend("twilio").send(to=f"+1801555{n:04d}", body=f"t{n}"), range(12))
        )

    assert first.client is again.client  # reused by every text of the thread
    assert all(c is not first.client for c in others)  # the SDK's client keeps its last reply
    assert {c.http_client.session for c in [first.client, *others]} == {process_session()}
    assert len({r.provider_message_id for r in results}) == 12 and len(fake_twilio.accepted) == 12
    settings.TWILIO_AUTH_TOKEN = "rotated"
    assert get_backend("twilio").client is not first.client  # new settings, new client

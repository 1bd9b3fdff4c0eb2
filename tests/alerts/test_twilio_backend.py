"""The twilio backend: the real SDK against a local fake of Twilio's HTTP API."""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import parse_qs

import pytest

from alerts import begun
from alerts.holds import holds_open
from alerts.models import Concern, Reminder, SmsMessage
from alerts.planning import reminders_replan
from alerts.sending import (
    MAX_ATTEMPTS,
    backoff,
    lost_after,
    reminder_send,
    reminders_claim_due,
    reminders_recover_stale,
)
from tests.alerts.conftest import ACCOUNT_SID, at, make_child, set_dates
from tests.alerts.processes import wait_until
from tests.factories import StaffFactory

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
    url, _, query = sent["StatusCallback"].partition("?")
    assert url == "https://portal.example.org/sms/twilio/status/"
    # The callback names this send of this row, signed (alerts.begun).
    kind, pk, micros = begun.callback_ref_read(parse_qs(query)["ref"][0])
    row.refresh_from_db()
    assert (kind, pk) == ("r", row.pk) and begun.same_send(micros, row.send_started_at)
    handed = (row.send_to, row.send_from, row.send_body)
    assert handed == (sent["To"], sent["MessagingServiceSid"], sent["Body"])
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


@pytest.mark.parametrize("failure", [500, 503, 429])
def test_transient_errors_are_retried_with_backoff_and_end_sent(row, fake_twilio, failure):
    fake_twilio.fail_next(failure, failure)
    attempt(T0)
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("planned", 1)
    assert row.send_after == T0 + backoff(1, row.pk)
    attempt(T0 + timedelta(seconds=1))  # not due yet (a quick retry comes after 2 to 3 s): no request
    assert len(fake_twilio.requests) == 1
    attempt(row.send_after)
    row.refresh_from_db()
    waited = backoff(1, row.pk) + backoff(2, row.pk)
    assert (row.status, row.attempts, row.send_after - T0) == ("planned", 2, waited)
    attempt(row.send_after)
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("sent", 3)
    assert len(fake_twilio.requests) == 3
    assert not Concern.objects.open().filter(kind="unreachable").exists()


def test_a_text_whose_answer_never_came_is_looked_up_and_recorded_not_sent_again(row, fake_twilio):
    """Twilio accepted it but answered after the client's timeout (the fake's "timeout"): the text
    stays begun, and the lost-message rule finds it at Twilio and records it. One text, not two."""
    fake_twilio.fail_next("timeout")
    attempt(T0)
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("claimed", 1) and row.send_body and row.send_started_at == T0
    assert "no answer from Twilio" in row.last_error
    assert wait_until(lambda: len(fake_twilio.accepted) == 1, timeout=10)
    attempt(T0 + timedelta(seconds=5))  # still begun: nothing is claimed or sent meanwhile
    assert reminders_recover_stale(now=T0 + timedelta(seconds=5)) == 0  # not lost yet: not asked
    assert reminders_recover_stale(now=T0 + lost_after() + timedelta(seconds=1)) == 0
    row.refresh_from_db()
    assert row.status == "sent" and row.provider_message_id == fake_twilio.messages[0]["sid"]
    assert len(fake_twilio.requests) == 1 and SmsMessage.objects.filter(reminder=row).count() == 1


def test_a_dropped_connection_twilio_has_no_record_of_goes_again_once_with_the_same_words(row, fake_twilio):
    fake_twilio.fail_next("reset")  # closed with no answer and, here, no message kept
    attempt(T0)
    row.refresh_from_db()
    assert row.status == "claimed" and fake_twilio.accepted == []
    handed = (row.send_to, row.send_body)
    assert reminders_recover_stale(now=T0 + lost_after() + timedelta(seconds=1)) == 1
    attempt(T0 + lost_after() + timedelta(seconds=2))
    row.refresh_from_db()
    assert row.status == "sent" and row.attempts == 2
    assert [(r["To"], r["Body"]) for r in fake_twilio.requests] == [handed, handed]
    assert len(fake_twilio.accepted) == 1


def test_a_connection_never_made_is_an_ordinary_transient_error(row, fake_twilio, settings):
    settings.TWILIO_API_BASE_URL = "http://127.0.0.1:9"  # nothing listens: refused before sending
    attempt(T0)
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("planned", 1) and row.send_after == T0 + backoff(1, row.pk)
    assert "no answer" not in row.last_error


@pytest.mark.parametrize("code", [21610, 21211, 21614, 21408])
def test_permanent_errors_end_failed_at_once_and_escalate_once(
    row, fake_twilio, code, mailoutbox, django_capture_on_commit_callbacks, celery_eager
):
    fake_twilio.fail_next(("error", 400, code))
    with django_capture_on_commit_callbacks(execute=True):
        attempt(T0)
        attempt(T0 + timedelta(hours=2))
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("failed", 1)
    assert row.last_error.startswith(str(code))
    assert len(fake_twilio.requests) == 1
    (concern,) = Concern.objects.open().filter(kind="unreachable", patient=row.patient)
    assert "undelivered" in concern.details["reasons"] and concern.emailed_at is not None
    assert [m.to for m in mailoutbox if "cannot be reached" in m.subject.lower()] == [
        ["pump-nurses@hospital.test"]
    ]


def test_twilio_opted_out_error_withdraws_consent_and_tells_the_nurses(row, fake_twilio):
    fake_twilio.fail_next(("error", 400, 21610))
    attempt(T0)
    row.caregiver.refresh_from_db()
    assert row.caregiver.sms_consent is False
    assert "opted_out" in Concern.objects.open().get(kind="unreachable").details["reasons"]
    assert not Reminder.objects.filter(patient=row.patient, status="planned").exists()


def test_transient_errors_end_failed_after_the_attempt_limit(row, fake_twilio):
    fake_twilio.fail_next(*[500] * MAX_ATTEMPTS)
    now = T0
    for _ in range(MAX_ATTEMPTS):  # an hour apart, each after its backoff, all before quiet hours
        attempt(now)
        now += timedelta(hours=1)
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("failed", MAX_ATTEMPTS)
    assert Concern.objects.open().filter(kind="unreachable", patient=row.patient).count() == 1


@pytest.mark.parametrize("failure", [("error", 429, 14107), ("error", 400, 21611), ("error", 400, 20429)])
def test_rate_limits_and_a_full_queue_are_transient_not_permanent(row, fake_twilio, failure):
    fake_twilio.fail_next(failure)
    attempt(T0)
    row.refresh_from_db()
    assert (row.status, row.attempts, row.send_after) == ("planned", 1, T0 + backoff(1, row.pk))
    attempt(row.send_after)
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("sent", 2)
    assert not Concern.objects.open().filter(kind="unreachable").exists()


def test_an_unreachable_handset_30003_is_permanent_by_the_table(row, fake_twilio):
    fake_twilio.fail_next(("error", 400, 30003))
    attempt(T0)
    row.refresh_from_db()
    assert row.status == "failed" and "unreachable" in row.last_error
    assert Concern.objects.open().get(kind="unreachable", patient=row.patient).nurse_words.count("30003") == 1


@pytest.mark.parametrize("status, code", [("failed", 30007), ("undelivered", 30003), ("canceled", None)])
def test_a_creation_reply_that_says_failed_is_recorded_so_and_escalated_once(row, fake_twilio, status, code):
    fake_twilio.fail_next(("reply", {"status": status, "error_code": code}))
    attempt(T0)
    attempt(T0 + timedelta(hours=2))
    row.refresh_from_db()
    assert row.status == {"undelivered": "undelivered"}.get(status, "failed")
    assert (row.attempts, len(fake_twilio.requests)) == (1, 1)
    assert row.provider_message_id.startswith("SM")
    assert SmsMessage.objects.get(reminder=row).status == status
    (concern,) = Concern.objects.open().filter(kind="unreachable", patient=row.patient)
    assert status in concern.nurse_words


def test_a_whatsapp_sender_in_the_reply_is_stored_whole_and_the_text_goes_once(row, fake_twilio):
    fake_twilio.fail_next(("reply", {"from": "whatsapp:+14155238886"}))
    attempt(T0)
    for minutes in (11, 22, 60):  # the old stale-claim rule sent it again every 11 minutes
        reminders_recover_stale(now=T0 + timedelta(minutes=minutes))
        attempt(T0 + timedelta(minutes=minutes))
    row.refresh_from_db()
    assert (row.status, row.attempts, len(fake_twilio.requests)) == ("sent", 1, 1)
    assert SmsMessage.objects.get(reminder=row).from_number == "whatsapp:+14155238886"


def test_wrong_credentials_hold_the_clinic_alert_its_admins_once_and_send_all_once_fixed(
    row, fake_twilio, settings, mailoutbox, django_capture_on_commit_callbacks, celery_eager
):
    admin = StaffFactory(clinic=row.patient.clinic, role="clinic_admin", user__email="admin@hospital.test")
    StaffFactory(clinic=row.patient.clinic, role="nurse", user__email="nurse@hospital.test")
    other = Reminder.objects.filter(patient=row.patient, kind="refill_due", offset_days=7).get()
    Reminder.objects.filter(pk=other.pk).update(send_after=T0)  # two texts due
    right = settings.TWILIO_AUTH_TOKEN
    settings.TWILIO_AUTH_TOKEN = "rotated"
    with django_capture_on_commit_callbacks(execute=True):
        for minute in range(3):
            attempt(T0 + timedelta(minutes=minute))
    assert fake_twilio.accepted == []
    assert set(Reminder.objects.filter(pk__in=[row.pk, other.pk]).values_list("status", "attempts")) == {
        ("planned", 0)
    }
    (hold,) = holds_open(clinic=row.patient.clinic)
    assert hold.code == 20003 and hold.alerted_at is not None
    assert [m.to for m in mailoutbox] == [[admin.user.email]]  # once, to the admins only
    assert not Concern.objects.open().filter(kind="unreachable").exists()  # about no one child
    settings.TWILIO_AUTH_TOKEN = right
    attempt(T0 + timedelta(minutes=3))  # the probe works: the hold is released
    attempt(T0 + timedelta(minutes=4))  # the next sweep sends what waited
    assert holds_open() == []
    assert sorted(f["To"] for f in fake_twilio.accepted) == [str(row.caregiver.mobile)] * 2
    assert set(Reminder.objects.filter(pk__in=[row.pk, other.pk]).values_list("status", "attempts")) == {
        ("sent", 1)
    }


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


def test_the_session_reads_proxy_and_ca_bundle_from_the_environment_once(monkeypatch, settings):
    from alerts.sms import twilio

    monkeypatch.setattr(twilio, "_session", None)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.hospital.invalid:3128")
    monkeypatch.setenv("NO_PROXY", "localhost")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/hospital-ca.pem")
    settings.TWILIO_API_BASE_URL = "https://api.twilio.com"

    session = twilio.process_session()

    assert session.proxies["https"] == "http://proxy.hospital.invalid:3128"
    assert session.verify == "/etc/ssl/hospital-ca.pem"
    assert session.trust_env is False  # not read again on every request
    assert twilio.process_session() is session
    settings.TWILIO_API_BASE_URL = "http://localhost:9"
    assert "https" not in twilio.process_session().proxies  # NO_PROXY

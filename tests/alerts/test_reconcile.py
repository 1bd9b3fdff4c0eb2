"""No text twice after it was accepted (issue 23, point 1): before a begun text goes again, the
provider is asked (Twilio's message list for the number since the send began, through the real
SDK and the local fake); only a text it has no record of goes again."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from alerts import sending
from alerts.models import Reminder, SmsMessage
from alerts.sending import RECONCILE_GIVE_UP, lost_after, reminders_claim_due, reminders_recover_stale
from tests.alerts.conftest import at, fail_once, refill_text

pytestmark = pytest.mark.django_db
T0 = at(2026, 11, 16, 10, 1)


@pytest.fixture
def row(clinic, fake_twilio):
    return refill_text(clinic)


def sweep(now):
    """The sweep's work at `now`, on a clock pinned there (the fake dates its messages by it)."""
    with time_machine.travel(now, tick=False):
        reminders_recover_stale(now=now)
        ids = reminders_claim_due(now=now)
        if ids:
            sending.reminders_send(reminder_ids=ids, now=now)


def break_recording_once(monkeypatch):
    """Twilio accepted the text, then recording it failed."""
    return fail_once(monkeypatch, sending, "_log_outbound", "database is locked")


def test_recording_fails_after_the_provider_accepted_and_exactly_one_text_reaches_it(
    row, fake_twilio, monkeypatch
):
    failures = break_recording_once(monkeypatch)
    sweep(T0)
    assert failures == [1] and len(fake_twilio.accepted) == 1
    assert Reminder.objects.get(pk=row.pk).status == "claimed"  # the answer was not recorded

    later = T0 + lost_after() + timedelta(seconds=10)
    for step in range(4):  # sweeps for the next minutes
        sweep(later + timedelta(minutes=step))
    row.refresh_from_db()
    (message,) = fake_twilio.messages
    assert len(fake_twilio.requests) == 1  # exactly one text reached the provider
    assert (row.status, row.attempts, row.provider_message_id) == ("sent", 1, message["sid"])
    assert row.sent_at == T0  # the moment Twilio accepted it, not the moment we asked
    (outbox,) = SmsMessage.objects.filter(reminder=row)
    assert (outbox.provider_message_id, outbox.created_at) == (message["sid"], T0)
    # It asked with the number and the day the send began, as Twilio filters.
    assert fake_twilio.list_requests[0]["To"] == str(row.caregiver.mobile)
    assert fake_twilio.list_requests[0]["DateSent>"].startswith("2026-11-16")


def test_a_text_still_queued_at_the_provider_is_found_and_not_sent_again(row, fake_twilio, monkeypatch):
    fake_twilio.keep_queued = True  # no DateSent yet: the day filter does not show it
    break_recording_once(monkeypatch)
    sweep(T0)
    sweep(T0 + lost_after() + timedelta(seconds=10))
    sweep(T0 + timedelta(minutes=5))
    row.refresh_from_db()
    assert len(fake_twilio.requests) == 1 and row.status == "sent"
    assert row.provider_message_id == fake_twilio.messages[0]["sid"]


def test_a_begun_text_the_provider_has_no_record_of_goes_again_once(row, fake_twilio):
    # The worker died after beginning the send and before the request left.
    Reminder.objects.filter(pk=row.pk).update(status="claimed", claimed_at=T0, send_started_at=T0, attempts=1)
    sweep(T0 + lost_after() + timedelta(seconds=10))
    sweep(T0 + timedelta(minutes=5))
    row.refresh_from_db()
    assert len(fake_twilio.requests) == 1
    assert (row.status, row.attempts) == ("sent", 2)
    assert row.provider_message_id == fake_twilio.messages[0]["sid"]


def test_a_provider_that_cannot_be_asked_holds_the_text_then_it_goes_again(row, fake_twilio):
    Reminder.objects.filter(pk=row.pk).update(status="claimed", claimed_at=T0, send_started_at=T0, attempts=1)
    fake_twilio.lists_failing = 1000
    sweep(T0 + lost_after() + timedelta(seconds=10))
    sweep(T0 + timedelta(minutes=10))
    assert Reminder.objects.get(pk=row.pk).status == "claimed" and fake_twilio.requests == []
    sweep(T0 + RECONCILE_GIVE_UP + timedelta(seconds=1))  # asked long enough: a text twice, never none
    sweep(T0 + RECONCILE_GIVE_UP + timedelta(minutes=1))
    assert Reminder.objects.get(pk=row.pk).status == "sent" and len(fake_twilio.requests) == 1


def test_another_texts_record_is_not_taken_for_this_one(row, fake_twilio):
    """Two texts with one body to one number: the first one's record is not the second's."""
    sweep(T0)
    first = Reminder.objects.get(pk=row.pk)
    twin = Reminder.objects.create(
        patient=first.patient, pump=first.pump, caregiver=first.caregiver, kind=first.kind,
        target_date=first.target_date, offset_days=first.offset_days + 100, send_after=T0,
        status="claimed", claimed_at=T0, send_started_at=T0 + timedelta(seconds=5), attempts=1,
    )  # fmt: skip
    assert sending.message_for(twin) == sending.message_for(first)
    sweep(T0 + lost_after() + timedelta(seconds=10))
    sweep(T0 + timedelta(minutes=5))
    twin.refresh_from_db()
    assert twin.status == "sent" and len(fake_twilio.requests) == 2  # it had no record: sent
    assert twin.provider_message_id == fake_twilio.messages[1]["sid"] != first.provider_message_id


def break_sending_once(monkeypatch):
    """The worker dies after the send began and before the request left: nothing reached Twilio."""
    return fail_once(monkeypatch, sending, "_send_attempt", "worker lost")


def rename_clinic(row):
    """Between the send and the check, the clinic changes the name its texts open with and its
    nurse line: a body rebuilt at check time is no longer the one Twilio holds."""
    clinic = row.patient.clinic
    clinic.sms_sender_name, clinic.phone_nurse_line = "Renamed Pump Team", "+13035550199"
    clinic.save(update_fields=["sms_sender_name", "phone_nurse_line"])


def test_a_change_of_wording_between_send_and_check_still_finds_the_accepted_text(
    row, fake_twilio, monkeypatch
):
    break_recording_once(monkeypatch)
    sweep(T0)
    rename_clinic(row)
    assert sending.message_for(Reminder.objects.get(pk=row.pk)) != fake_twilio.accepted[0]["Body"]
    sweep(T0 + lost_after() + timedelta(seconds=10))
    sweep(T0 + timedelta(minutes=5))
    row.refresh_from_db()
    (message,) = fake_twilio.messages
    assert len(fake_twilio.requests) == 1 and row.status == "sent"
    assert row.provider_message_id == message["sid"]
    (outbox,) = SmsMessage.objects.filter(reminder=row)
    assert outbox.body == fake_twilio.accepted[0]["Body"]  # the outbox shows what went


def test_a_text_the_provider_has_no_record_of_goes_again_with_the_body_first_handed_over(
    row, fake_twilio, monkeypatch
):
    break_sending_once(monkeypatch)
    sweep(T0)
    row.refresh_from_db()
    assert fake_twilio.requests == [] and row.send_body and row.send_to == str(row.caregiver.mobile)
    first = row.send_body
    rename_clinic(row)
    sweep(T0 + lost_after() + timedelta(seconds=10))
    sweep(T0 + timedelta(minutes=5))
    (sent,) = fake_twilio.requests
    assert (sent["To"], sent["Body"]) == (row.send_to, first)
    assert Reminder.objects.get(pk=row.pk).status == "sent"


def test_a_number_changed_before_the_resend_gets_the_text_made_anew_and_the_old_number_none(
    row, fake_twilio, monkeypatch
):
    from patients.models import Caregiver

    break_sending_once(monkeypatch)
    sweep(T0)
    old = Reminder.objects.get(pk=row.pk).send_to
    Caregiver.objects.filter(pk=row.caregiver_id).update(mobile="+13035550142")
    rename_clinic(row)
    sweep(T0 + lost_after() + timedelta(seconds=10))
    sweep(T0 + timedelta(minutes=5))
    (sent,) = fake_twilio.requests
    row.refresh_from_db()
    assert sent["To"] == "+13035550142" != old
    assert sent["Body"] == sending.message_for(row)  # the words of now, for the number of now
    assert (row.status, row.send_to) == ("sent", "+13035550142")


def test_a_caregiver_who_stopped_texts_before_the_resend_is_not_sent_the_old_text(
    row, fake_twilio, monkeypatch
):
    from patients.models import Caregiver

    break_sending_once(monkeypatch)
    sweep(T0)
    Caregiver.objects.filter(pk=row.caregiver_id).update(sms_consent=False)
    sweep(T0 + lost_after() + timedelta(seconds=10))
    sweep(T0 + timedelta(minutes=5))
    assert fake_twilio.requests == []
    assert Reminder.objects.get(pk=row.pk).status == "cancelled"


def test_a_status_callback_naming_a_send_whose_recording_failed_records_it_once(
    row, fake_twilio, monkeypatch, client, signed
):
    """The status callback is a second source: its URL names the send (signed), so a report of a
    text whose recording failed records it as accepted, and it is never sent again."""
    from urllib.parse import urlsplit

    from alerts.models import WebhookReceipt

    break_recording_once(monkeypatch)
    sweep(T0)
    callback = urlsplit(fake_twilio.accepted[0]["StatusCallback"])
    path = f"{callback.path}?{callback.query}"
    sid = fake_twilio.messages[0]["sid"]
    forged = f"{callback.path}?ref=r.{row.pk}.1"  # not signed by the portal: names nothing
    for target, form in (
        (forged, {"MessageSid": "SMforged", "MessageStatus": "sent"}),
        (path, {"MessageSid": sid, "MessageStatus": "sent"}),
        (path, {"MessageSid": sid, "MessageStatus": "sent"}),  # a replay changes nothing
        (path, {"MessageSid": sid, "MessageStatus": "delivered"}),
    ):
        with time_machine.travel(T0 + timedelta(seconds=20), tick=False):
            assert client.post(target, form, HTTP_X_TWILIO_SIGNATURE=signed(target, form)).status_code == 204
        if form["MessageSid"] == "SMforged":
            assert Reminder.objects.get(pk=row.pk).status == "claimed"
    row.refresh_from_db()
    assert (row.status, row.provider_message_id, row.sent_at) == ("delivered", sid, T0)
    (outbox,) = SmsMessage.objects.filter(reminder=row)
    assert (outbox.provider_message_id, outbox.body, outbox.status) == (sid, row.send_body, "delivered")
    assert WebhookReceipt.objects.filter(message_sid=sid).count() == 2
    for minutes in (2, 5):
        sweep(T0 + timedelta(minutes=minutes))
    assert len(fake_twilio.requests) == 1 and fake_twilio.list_requests == []


def test_a_report_of_an_earlier_send_does_not_take_the_place_of_the_current_one(
    row, fake_twilio, client, signed
):
    """The name carries the send's begin: a report naming an earlier send of the row is not the
    current send's record."""
    from alerts import begun

    Reminder.objects.filter(pk=row.pk).update(
        status="claimed", claimed_at=T0, send_started_at=T0 + timedelta(minutes=3), attempts=2,
        send_to=str(row.caregiver.mobile), send_body="the body", send_from="",
    )  # fmt: skip
    path = reverse("alerts:twilio_status") + "?ref=" + begun.callback_ref(begun.REMINDER, row.pk, T0)
    form = {"MessageSid": "SMearlier", "MessageStatus": "sent"}
    assert client.post(path, form, HTTP_X_TWILIO_SIGNATURE=signed(path, form)).status_code == 204
    row.refresh_from_db()
    assert (row.status, row.provider_message_id) == ("claimed", "")

"""Twilio's webhooks: signed status callbacks and replies (STOP, START, HELP, confirm)."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from alerts.models import Concern, Reminder, SmsMessage, WebhookReceipt
from appointments.models import Appointment
from patients.models import SmsConsent
from tests.alerts.conftest import make_child, set_dates

pytestmark = pytest.mark.django_db
STATUS = reverse("alerts:twilio_status")
INBOUND = reverse("alerts:twilio_inbound")


@pytest.fixture
def post(client, signed):
    def _post(path, params, *, signature=None):
        headers = {"HTTP_X_TWILIO_SIGNATURE": signature if signature is not None else signed(path, params)}
        return client.post(path, params, **headers)

    return _post


@pytest.fixture
def sent_row(clinic):
    patient = make_child(clinic)
    now = timezone.now()
    set_dates(patient, refill_due=(now + timedelta(days=20)).date(), alarm=now + timedelta(days=27))
    from alerts.planning import reminders_replan

    reminders_replan(patient=patient)
    row = Reminder.objects.filter(patient=patient, kind="refill_due").first()
    Reminder.objects.filter(pk=row.pk).update(status="sent", provider_message_id="SMabc", sent_at=now)
    SmsMessage.objects.create(
        direction="out",
        reminder=row,
        to_number="+18015550000",
        body="x",
        provider_message_id="SMabc",
        status="accepted",
        created_at=now,
    )
    return row


def status_of(row):
    row.refresh_from_db()
    return row.status


def test_a_signed_delivery_report_marks_the_reminder_delivered(post, sent_row):
    response = post(STATUS, {"MessageSid": "SMabc", "MessageStatus": "delivered"})
    assert response.status_code == 204
    assert status_of(sent_row) == "delivered"
    assert SmsMessage.objects.get(provider_message_id="SMabc").status == "delivered"


def test_unsigned_or_tampered_callbacks_get_403_and_change_nothing(post, client, sent_row, signed):
    params = {"MessageSid": "SMabc", "MessageStatus": "delivered"}
    assert client.post(STATUS, params).status_code == 403
    assert post(STATUS, params, signature="not-a-signature").status_code == 403
    good = signed(STATUS, {"MessageSid": "SMabc", "MessageStatus": "sent"})
    assert post(STATUS, params, signature=good).status_code == 403  # body changed after signing
    assert status_of(sent_row) == "sent"


def test_a_signature_for_the_internal_url_is_refused_behind_the_proxy(client, sent_row):
    from twilio.request_validator import RequestValidator

    from tests.alerts.conftest import AUTH_TOKEN

    params = {"MessageSid": "SMabc", "MessageStatus": "delivered"}
    internal = RequestValidator(AUTH_TOKEN).compute_signature("http://testserver" + STATUS, params)
    assert client.post(STATUS, params, HTTP_X_TWILIO_SIGNATURE=internal).status_code == 403


def test_status_callbacks_must_be_posts(client, signed):
    assert client.get(STATUS).status_code == 405


def test_a_late_sent_after_delivered_does_not_move_the_status_back_and_repeats_are_harmless(post, sent_row):
    post(STATUS, {"MessageSid": "SMabc", "MessageStatus": "delivered"})
    post(STATUS, {"MessageSid": "SMabc", "MessageStatus": "sent"})
    post(STATUS, {"MessageSid": "SMabc", "MessageStatus": "queued"})
    post(STATUS, {"MessageSid": "SMabc", "MessageStatus": "delivered"})
    assert status_of(sent_row) == "delivered"
    assert SmsMessage.objects.get(provider_message_id="SMabc").status == "delivered"


def test_an_undelivered_text_is_final_and_escalated_once(post, sent_row):
    for _ in range(2):
        post(STATUS, {"MessageSid": "SMabc", "MessageStatus": "undelivered", "ErrorCode": "30003"})
    post(STATUS, {"MessageSid": "SMabc", "MessageStatus": "delivered"})
    assert status_of(sent_row) == "undelivered"
    [concern] = Concern.objects.open().filter(kind="unreachable", patient=sent_row.patient)
    assert concern.details["reasons"] == ["undelivered"]


SIDS = itertools.count(1)


def inbound(post, caregiver, body, *, sid=None):
    sid = sid or f"SMin{next(SIDS)}"
    return post(
        INBOUND, {"From": str(caregiver.mobile), "To": "+18015550100", "Body": body, "MessageSid": sid}
    )


@pytest.mark.parametrize(
    "word", ["STOP", "stop", "StopAll", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"]
)
def test_stop_words_withdraw_consent_cancel_texts_and_tell_the_nurses(post, sent_row, word):
    caregiver = sent_row.caregiver
    response = inbound(post, caregiver, word)
    assert response.status_code == 200 and "<Message>" not in response.content.decode()
    caregiver.refresh_from_db()
    assert caregiver.sms_consent is False
    assert SmsConsent.objects.filter(caregiver=caregiver, given=False, source="sms").count() == 1
    assert not Reminder.objects.filter(caregiver=caregiver, status="planned").exists()
    assert "opted_out" in Concern.objects.open().get(kind="unreachable").details["reasons"]
    assert SmsMessage.objects.filter(direction="in", body=word, caregiver=caregiver).count() == 1


@pytest.mark.parametrize("word", ["START", "UNSTOP", "yes"])
def test_start_words_restore_consent_and_replan(post, sent_row, word):
    caregiver = sent_row.caregiver
    inbound(post, caregiver, "STOP")
    inbound(post, caregiver, word)
    caregiver.refresh_from_db()
    assert caregiver.sms_consent is True
    assert Reminder.objects.filter(caregiver=caregiver, status="planned").exists()


def test_help_answers_with_the_clinic_number_in_the_caregivers_language(post, sent_row):
    body = inbound(post, sent_row.caregiver, "HELP").content.decode()
    assert "<Message>" in body and sent_row.patient.clinic.phone_nurse_line in body
    type(sent_row.caregiver).objects.filter(pk=sent_row.caregiver_id).update(preferred_language="es")
    assert "llame a la clínica" in inbound(post, sent_row.caregiver, "help").content.decode()


@pytest.mark.parametrize("word", ["C", "confirm", "Si", "SÍ"])
def test_a_confirm_reply_confirms_the_next_appointment(post, sent_row, word):
    soon = Appointment.objects.create(patient=sent_row.patient, start=timezone.now() + timedelta(days=3))
    later = Appointment.objects.create(patient=sent_row.patient, start=timezone.now() + timedelta(days=30))
    body = inbound(post, sent_row.caregiver, word).content.decode()
    soon.refresh_from_db()
    later.refresh_from_db()
    assert (soon.status, later.status) == ("confirmed", "scheduled")
    assert "S" in body and "<Message>" in body and "Sofia" not in body


def test_a_confirm_reply_with_nothing_booked_says_to_call(post, sent_row):
    body = inbound(post, sent_row.caregiver, "C").content.decode()
    assert sent_row.patient.clinic.phone_nurse_line in body


def test_unsigned_replies_get_403_and_change_nothing(client, sent_row, signed):
    response = client.post(INBOUND, {"From": str(sent_row.caregiver.mobile), "Body": "STOP"})
    assert response.status_code == 403
    sent_row.caregiver.refresh_from_db()
    assert sent_row.caregiver.sms_consent is True and not SmsMessage.objects.filter(direction="in").exists()


def test_any_other_reply_is_logged_and_answered_with_the_clinic_number(post, sent_row):
    body = inbound(post, sent_row.caregiver, "is the appointment still on?").content.decode()
    assert sent_row.patient.clinic.phone_nurse_line in body
    assert SmsMessage.objects.filter(direction="in", body="is the appointment still on?").exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_delivery_report_that_beats_the_senders_commit_waits_for_it(client, signed, clinic):
    """Twilio can call back before reminder_send has committed the message id."""
    import threading
    import time

    from django.db import connection, transaction

    patient = make_child(clinic)
    now = timezone.now()
    set_dates(patient, refill_due=(now + timedelta(days=20)).date(), alarm=now + timedelta(days=27))
    from alerts.planning import reminders_replan

    reminders_replan(patient=patient)
    row = Reminder.objects.filter(patient=patient).first()
    Reminder.objects.filter(pk=row.pk).update(status="claimed")
    locked = threading.Event()

    def sender():  # what reminder_send does: lock, call Twilio, record the sid, commit
        try:
            with transaction.atomic():
                Reminder.objects.select_for_update().get(pk=row.pk)
                locked.set()
                time.sleep(1.0)
                Reminder.objects.filter(pk=row.pk).update(status="sent", provider_message_id="SMrace")
        finally:
            connection.close()

    thread = threading.Thread(target=sender)
    thread.start()
    assert locked.wait(5)
    path = f"{STATUS}?reminder={row.pk}"
    params = {"MessageSid": "SMrace", "MessageStatus": "delivered"}
    response = client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signed(path, params))
    thread.join()
    assert response.status_code == 204
    assert status_of(row) == "delivered"


def test_a_replayed_start_after_stop_does_not_resubscribe(post, sent_row):
    """A correctly signed START, captured and sent again after the parent's STOP, changes nothing."""
    caregiver = sent_row.caregiver
    inbound(post, caregiver, "STOP", sid="SMstop1")
    inbound(post, caregiver, "START", sid="SMstart1")
    inbound(post, caregiver, "STOP", sid="SMstop2")
    replay = inbound(post, caregiver, "START", sid="SMstart1")
    assert replay.status_code == 200 and "<Message>" not in replay.content.decode()
    caregiver.refresh_from_db()
    assert caregiver.sms_consent is False
    assert SmsConsent.objects.filter(caregiver=caregiver).count() == 3
    assert SmsMessage.objects.filter(direction="in", provider_message_id="SMstart1").count() == 1
    assert WebhookReceipt.objects.filter(kind="inbound", message_sid="SMstart1").count() == 1


def test_a_replayed_confirm_or_help_is_recorded_once_and_answered_once(post, sent_row):
    soon = Appointment.objects.create(patient=sent_row.patient, start=timezone.now() + timedelta(days=3))
    first = inbound(post, sent_row.caregiver, "C", sid="SMc1").content.decode()
    again = inbound(post, sent_row.caregiver, "C", sid="SMc1").content.decode()
    assert "<Message>" in first and "<Message>" not in again
    soon.refresh_from_db()
    assert soon.status == "confirmed"
    assert SmsMessage.objects.filter(provider_message_id="SMc1").count() == 1
    assert SmsMessage.objects.filter(direction="out", status="reply").count() == 1


def test_a_replayed_delivery_report_is_recorded_once_and_changes_nothing(post, sent_row):
    for _ in range(3):
        assert post(STATUS, {"MessageSid": "SMabc", "MessageStatus": "delivered"}).status_code == 204
    assert WebhookReceipt.objects.filter(kind="status", message_sid="SMabc", status="delivered").count() == 1
    # A replayed failure report after a later delivery cannot escalate or move the status.
    post(STATUS, {"MessageSid": "SMabc", "MessageStatus": "failed", "ErrorCode": "30003"})
    post(STATUS, {"MessageSid": "SMabc", "MessageStatus": "failed", "ErrorCode": "30003"})
    assert status_of(sent_row) == "delivered"
    assert WebhookReceipt.objects.filter(message_sid="SMabc").count() == 2
    unreachable = Concern.objects.filter(kind="unreachable", patient=sent_row.patient)
    assert not any(
        "undelivered" in details["reasons"] for details in unreachable.values_list("details", flat=True)
    )


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_copies_of_one_reply_at_once_act_once(clinic):
    """Twilio may deliver a webhook twice at the same moment: the unique receipt lets one act."""
    import threading

    from django.db import connection

    from alerts.inbound import sms_inbound_receive

    patient = make_child(clinic)
    caregiver = patient.caregivers.first()
    barrier = threading.Barrier(2)
    answers = []

    def receive():
        try:
            barrier.wait(5)
            answers.append(
                sms_inbound_receive(
                    from_number=str(caregiver.mobile), to_number="+1", body="HELP", message_sid="SMtwin"
                )
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=receive) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(bool(a) for a in answers) == [False, True]
    assert SmsMessage.objects.filter(direction="in", provider_message_id="SMtwin").count() == 1

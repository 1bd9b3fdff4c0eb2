"""The escalation ladder, walked step by step with a frozen clock, through the real services and
the local fake of Twilio's Messages and Calls APIs (the twilio SDK talks HTTP to it)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.urls import reverse

from alerts.concerns import concerns_refresh
from alerts.ladder import ladders_advance
from alerts.models import Concern, LadderStep, WebhookReceipt
from alerts.words import sender_of
from appointments.services import appointment_book
from patients.models import Caregiver, Clinic
from tests.alerts.conftest import at, fail_once, make_child, set_dates
from tests.helpers import login_as

pytestmark = pytest.mark.django_db(transaction=False)
# The alarm: Friday 11 Dec 2026 at 14:00 in Denver. "Alarm near" opens on Tue 8 Dec (3 days before).
ALARM = at(2026, 12, 11, 14)
BANNED = ("ITB", "intrathecal", "baclofen", "Sofia", "mcg", "dose", "spastic", "cerebral")


@pytest.fixture
def voice(fake_twilio, settings):
    settings.VOICE_BACKEND = "twilio"
    settings.TWILIO_VOICE_FROM_NUMBER = "+17205550100"
    return fake_twilio


@pytest.fixture
def family(clinic):
    """Sofia, two caregivers who accept texts (the first is primary and speaks Spanish), the
    alarm date pinned, nothing booked; the concern refresh has opened "alarm near". Made at a
    pinned instant: at the real clock (March 2027 under CI's third run) the factories' assessment
    opened concerns after the tests' December texts, and an answer stops only the ladders that
    were open when its text went out."""
    with time_machine.travel(at(2026, 12, 6, 10), tick=False):
        patient = make_child(clinic, caregivers=2, visit_at=at(2026, 9, 15, 9))
        links = list(patient.caregiver_links.select_related("caregiver").order_by("pk"))
        links[1].primary_contact = False
        links[1].save(update_fields=["primary_contact"])
        Caregiver.objects.filter(pk=links[0].caregiver_id).update(preferred_language="es")
        set_dates(patient, refill_due=date(2026, 12, 4), alarm=ALARM)
    return patient


def advance(now):
    with time_machine.travel(now, tick=False):
        return ladders_advance(now=now)


def refresh(patient, now):
    with time_machine.travel(now, tick=False):
        concerns_refresh(patient=patient, now=now)


def steps(patient):
    return list(LadderStep.objects.filter(concern__patient=patient).order_by("at", "pk"))


def rungs(patient):
    return [s.rung for s in steps(patient)]


def test_the_ladder_climbs_text_next_text_call_then_call_list_each_at_its_time(
    family, voice, clinic, settings
):
    t0 = at(2026, 12, 8, 10)  # Tuesday 10:00, alarm in 3 days 4 hours
    refresh(family, t0)
    concern = Concern.objects.get(patient=family, kind="alarm_near", resolved_at__isnull=True)

    assert advance(t0) == 1
    (first,) = voice.accepted
    primary, second = [link.caregiver for link in family.caregiver_links.order_by("-primary_contact", "pk")]
    assert first["To"] == str(primary.mobile)
    assert "Responda 1 si ya tiene cita, 2 para que le llamemos" in first["Body"]  # Spanish caregiver
    assert first["Body"].startswith(f"{sender_of(family.clinic, 'es')}: La bomba de S. ")
    assert not any(word.lower() in first["Body"].lower() for word in BANNED)

    # The wait is the clinic's 24 h, shortened to a quarter of the 76 h left: 19 h.
    assert advance(t0 + timedelta(hours=18, minutes=59)) == 0
    assert advance(t0 + timedelta(hours=19)) == 1
    assert voice.accepted[1]["To"] == str(second.mobile)
    assert "Reply 1 if you have booked, 2 to be called." in voice.accepted[1]["Body"]

    # From Wed 05:00 (57 h left): wait 14.25 h. The alarm is within 2 days then: no quiet hours.
    t2 = t0 + timedelta(hours=19)
    assert advance(t2 + timedelta(hours=14)) == 0
    assert advance(t2 + timedelta(hours=14, minutes=15)) == 1
    (call,) = voice.calls
    assert call["To"] == str(primary.mobile) and call["From"] == "+17205550100"
    intro = f"Hola. Este es un mensaje de {sender_of(family.clinic, 'es')}, la clínica de su hijo."
    assert f'<Say language="es-US">{intro}' in call["Twiml"]
    assert "Marque 1 si escuchó este mensaje" in call["Twiml"] and '<Gather numDigits="1"' in call["Twiml"]
    assert not any(word.lower() in call["Twiml"].lower() for word in BANNED)
    step = steps(family)[-1]
    assert call["StatusCallback"] == f"https://portal.example.org/sms/twilio/voice/status/?step={step.pk}"
    assert voice.invalid == []  # every request fitted Twilio's request schema

    t3 = t2 + timedelta(hours=14, minutes=15)
    assert advance(t3 + timedelta(hours=9, minutes=59)) == 0  # 42.75 h left: wait 10.69 h
    assert advance(t3 + timedelta(hours=10, minutes=42)) == 1
    assert rungs(family) == ["text", "text_next", "call", "call_list"]
    on_list = steps(family)[-1]
    assert on_list.list_day == date(2026, 12, 10) and on_list.concern == concern
    # The same day: nothing more. The next day while the danger lasts: back on the list.
    assert advance(t3 + timedelta(hours=12)) == 0


def test_quiet_hours_hold_a_rung_until_morning_while_the_alarm_is_more_than_2_days_away(family, voice):
    night = at(2026, 12, 8, 2)  # Tuesday 02:00: alarm near has opened, caregivers asleep
    refresh(family, night)
    assert advance(night) == 0 and voice.accepted == []
    assert advance(at(2026, 12, 8, 7, 59)) == 0
    assert advance(at(2026, 12, 8, 8, 0)) == 1
    assert rungs(family) == ["text"]


def test_quiet_hours_no_longer_hold_once_the_alarm_is_within_2_days(family, voice):
    refresh(family, at(2026, 12, 8, 12))
    assert advance(at(2026, 12, 9, 23, 30)) == 1  # Wednesday 23:30, alarm on Friday
    assert len(voice.accepted) == 1


def test_the_ladder_stops_when_a_refill_is_booked_and_says_so(family, voice, nurse):
    t0 = at(2026, 12, 8, 10)
    refresh(family, t0)
    advance(t0)
    with time_machine.travel(t0 + timedelta(hours=2), tick=False):
        appointment_book(patient=family, by=nurse, kind="refill", start=at(2026, 12, 10, 9))
    assert advance(t0 + timedelta(hours=3)) == 0
    assert rungs(family) == ["text", "stopped"]
    assert "refill booked" in steps(family)[-1].note
    assert advance(t0 + timedelta(days=1)) == 0 and len(voice.accepted) == 1


def test_a_reply_1_stops_the_ladder_and_is_thanked_in_the_caregivers_language(family, voice, client, signed):
    t0 = at(2026, 12, 8, 10)
    refresh(family, t0)
    advance(t0)
    primary = family.caregiver_links.get(primary_contact=True).caregiver
    path = reverse("alerts:twilio_inbound")
    params = {"From": str(primary.mobile), "To": "+17205550100", "Body": " 1 ", "MessageSid": "SMreply1"}
    with time_machine.travel(t0 + timedelta(hours=1), tick=False):
        response = client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signed(path, params))
    assert b"Gracias. Anotamos que ya tiene cita." in response.content
    # Both open ladders of the child stop (alarm near, and refill-due passed which never climbed).
    assert rungs(family) == ["text", "stopped", "stopped"]
    first = steps(family)[0]
    assert first.answer == "text 1" and "replied 1" in steps(family)[-1].note
    assert advance(t0 + timedelta(days=2)) == 0 and len(voice.accepted) == 1


def test_a_reply_2_puts_the_child_on_todays_call_list(family, voice, client, signed):
    t0 = at(2026, 12, 8, 10)
    refresh(family, t0)
    advance(t0)
    primary = family.caregiver_links.get(primary_contact=True).caregiver
    path = reverse("alerts:twilio_inbound")
    params = {"From": str(primary.mobile), "To": "+17205550100", "Body": "2", "MessageSid": "SMreply2"}
    with time_machine.travel(t0 + timedelta(hours=1), tick=False):
        response = client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signed(path, params))
    assert "Una enfermera le llamará hoy".encode() in response.content
    assert rungs(family) == ["text", "call_list", "stopped", "stopped"]
    assert steps(family)[1].list_day == date(2026, 12, 8)


def test_ladder_texts_calls_and_answers_open_with_the_clinics_sender_name(family, voice, client, signed):
    Clinic.objects.filter(pk=family.clinic_id).update(sms_sender_name="PCH Rehab")
    t0 = at(2026, 12, 8, 10)
    refresh(family, t0)
    for hours in (0, 19, 33.25):
        advance(t0 + timedelta(hours=hours))
    texts = [form["Body"] for form in voice.accepted]
    [call] = voice.calls
    assert len(texts) == 2 and all(body.startswith("PCH Rehab: ") for body in texts)
    assert "PCH Rehab" in call["Twiml"]
    for words in (*texts, call["Twiml"]):
        assert not any(banned.lower() in words.lower() for banned in BANNED)
    primary = family.caregiver_links.get(primary_contact=True).caregiver
    path = reverse("alerts:twilio_inbound")
    params = {"From": str(primary.mobile), "To": "+17205550100", "Body": "2", "MessageSid": "SMsender"}
    with time_machine.travel(t0 + timedelta(hours=34), tick=False):
        response = client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signed(path, params))
    assert b"PCH Rehab: Gracias. Una enfermera" in response.content


def test_a_replayed_reply_2_acts_once_and_is_answered_once(family, voice, client, signed):
    t0 = at(2026, 12, 8, 10)
    refresh(family, t0)
    advance(t0)
    primary = family.caregiver_links.get(primary_contact=True).caregiver
    path = reverse("alerts:twilio_inbound")
    params = {"From": str(primary.mobile), "To": "+17205550100", "Body": "2", "MessageSid": "SMtwice"}
    with time_machine.travel(t0 + timedelta(hours=1), tick=False):
        first = client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signed(path, params)).content
        again = client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signed(path, params)).content
    assert b"<Message>" in first and b"<Message>" not in again
    assert rungs(family) == ["text", "call_list", "stopped", "stopped"]
    assert WebhookReceipt.objects.filter(kind="inbound", message_sid="SMtwice").count() == 1


def test_a_reply_from_a_number_the_ladder_did_not_text_stops_nothing(family, voice, client, signed):
    """The caregiver's proven number changed after the ladder texted the old one: a 1 from the new
    number answers nothing, and a 1 from the old number belongs to no one."""
    t0 = at(2026, 12, 8, 10)
    refresh(family, t0)
    advance(t0)
    primary = family.caregiver_links.get(primary_contact=True).caregiver
    old = str(primary.mobile)
    Caregiver.objects.filter(pk=primary.pk).update(mobile="+18015559876")
    path = reverse("alerts:twilio_inbound")
    with time_machine.travel(t0 + timedelta(hours=1), tick=False):
        for sid, number in (("SMnew", "+18015559876"), ("SMold", old)):
            params = {"From": number, "To": "+17205550100", "Body": "1", "MessageSid": sid}
            response = client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signed(path, params))
            assert b"Gracias" not in response.content and b"Thank you" not in response.content
    assert rungs(family) == ["text"] and steps(family)[0].answer == ""


def test_pressing_1_on_the_call_stops_the_ladder(family, voice, client, signed):
    t0 = at(2026, 12, 8, 10)
    refresh(family, t0)
    for hours in (0, 19, 33.25):
        advance(t0 + timedelta(hours=hours))
    call_step = steps(family)[-1]
    assert call_step.rung == "call"
    path = reverse("alerts:voice_gather") + f"?step={call_step.pk}"
    params = {"CallSid": call_step.call_sid, "Digits": "1"}
    assert client.post(path, params, HTTP_X_TWILIO_SIGNATURE="bad").status_code == 403
    with time_machine.travel(t0 + timedelta(hours=34), tick=False):
        response = client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signed(path, params))
    assert response["Content-Type"] == "text/xml"
    assert "Gracias. La clínica sabrá que escuchó este mensaje.".encode() in response.content
    assert rungs(family) == ["text", "text_next", "call", "stopped", "stopped"]
    assert advance(t0 + timedelta(days=3)) == 0


def test_an_unanswered_call_sends_the_child_to_the_call_list_at_the_next_beat(family, voice, client, signed):
    t0 = at(2026, 12, 8, 10)
    refresh(family, t0)
    for hours in (0, 19, 33.25):
        advance(t0 + timedelta(hours=hours))
    call_step = steps(family)[-1]
    path = reverse("alerts:voice_status") + f"?step={call_step.pk}"
    params = {"CallSid": call_step.call_sid, "CallStatus": "no-answer"}
    assert client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signed(path, params)).status_code == 204
    assert advance(t0 + timedelta(hours=33.5)) == 1
    assert rungs(family)[-1] == "call_list"


def test_every_step_is_on_the_chart_and_the_nurse_records_the_call(family, voice, client, nurse):
    t0 = at(2026, 12, 8, 10)
    refresh(family, t0)
    for hours in (0, 19, 33.25, 44):
        advance(t0 + timedelta(hours=hours))
    with time_machine.travel(at(2026, 12, 10, 8), tick=False):
        login_as(client, nurse)
        chart = client.get(reverse("staff:chart", args=[family.pk])).content.decode()
        for label in (
            "Text asking for an answer",
            "Text to the next caregiver",
            "Phone call",
            "On the nurses",
        ):
            assert label in chart
        page = client.get(reverse("staff:call_list"))
        assert family.last_name in page.content.decode()
        on_list = steps(family)[-1]
        url = reverse("staff:call_outcome", args=[on_list.pk])
        assert client.post(url, {}).status_code == 400  # no outcome chosen: plain words, nothing changes
        response = client.post(
            url, {f"s{on_list.pk}-outcome": "reached", f"s{on_list.pk}-note": "Booked Thu"}
        )
        assert response.status_code == 302
    assert rungs(family)[-1] == "stopped"
    assert "reached the family by phone" in steps(family)[-1].note
    on_list.refresh_from_db()
    assert on_list.outcome == "reached" and on_list.outcome_by == nurse


def test_a_nurse_of_another_clinic_cannot_record_the_call(family, voice, client, other_nurse):
    t0 = at(2026, 12, 8, 10)
    refresh(family, t0)
    for hours in (0, 19, 33.25, 44):
        advance(t0 + timedelta(hours=hours))
    login_as(client, other_nurse)
    on_list = steps(family)[-1]
    response = client.post(
        reverse("staff:call_outcome", args=[on_list.pk]), {f"s{on_list.pk}-outcome": "reached"}
    )
    assert response.status_code == 404


def test_the_call_list_reads_in_a_fixed_number_of_queries(
    family, voice, client, nurse, django_assert_max_num_queries
):
    t0 = at(2026, 12, 8, 10)
    refresh(family, t0)
    for hours in (0, 19, 33.25, 44):
        advance(t0 + timedelta(hours=hours))
    with time_machine.travel(at(2026, 12, 10, 8), tick=False):
        login_as(client, nurse)
        with django_assert_max_num_queries(12):
            page = client.get(reverse("staff:call_list")).content.decode()
    assert "Tried: text asking for an answer to" in page and "phone call to" in page


def test_a_refill_due_date_passed_with_nothing_booked_names_the_due_date(clinic, voice):
    patient = make_child(clinic, visit_at=at(2026, 9, 15, 9))
    set_dates(patient, refill_due=date(2026, 12, 4), alarm=at(2026, 12, 20, 14))
    refresh(patient, at(2026, 12, 7, 10))
    assert Concern.objects.filter(patient=patient, kind="due_passed", resolved_at__isnull=True).exists()
    assert advance(at(2026, 12, 7, 10)) == 1
    (text,) = voice.accepted
    assert "S.'s pump refill was due by Fri Dec 4 and no visit is booked." in text["Body"]


# No ladder text twice after it was accepted (issue 23): the rung is committed as begun with what
# it hands Twilio, then sent; a step whose answer was not recorded is looked up before it goes again.
T0 = at(2026, 12, 8, 10)


def break_once(monkeypatch, name, error="database is locked"):
    from alerts import ladder

    return fail_once(monkeypatch, ladder, name, error)


def test_a_ladder_text_accepted_whose_recording_failed_is_recorded_not_sent_again(family, voice, monkeypatch):
    refresh(family, T0)
    failures = break_once(monkeypatch, "sms_outbound_log")
    advance(T0)
    assert failures == [1] and len(voice.accepted) == 1
    (step,) = steps(family)
    assert step.sms_message is None and step.send_body == voice.accepted[0]["Body"]
    assert advance(T0 + timedelta(seconds=20)) == 0 and len(voice.list_requests) == 0  # maybe in flight
    for minutes in (2, 3, 10):
        advance(T0 + timedelta(minutes=minutes))
    assert len(voice.requests) == 1  # exactly one text reached Twilio
    (step,) = steps(family)
    assert step.sms_message.provider_message_id == voice.messages[0]["sid"]
    assert step.sms_message.body == voice.accepted[0]["Body"] and step.sms_message.patient == family
    # The ladder climbs on as before: the next caregiver's text comes at its time, once.
    advance(T0 + timedelta(hours=19))
    assert rungs(family) == ["text", "text_next"] and len(voice.requests) == 2


def test_a_ladder_text_twilio_has_no_record_of_goes_again_once_with_the_same_words(
    family, voice, monkeypatch
):
    refresh(family, T0)
    break_once(monkeypatch, "send_sms", "worker lost")
    advance(T0)
    assert voice.requests == []
    (step,) = steps(family)
    family.clinic.sms_sender_name = "Renamed Pump Team"
    family.clinic.save(update_fields=["sms_sender_name"])
    advance(T0 + timedelta(minutes=2))
    advance(T0 + timedelta(minutes=3))
    (sent,) = voice.requests
    assert (sent["To"], sent["Body"]) == (step.send_to, step.send_body)
    (step,) = steps(family)
    assert step.sms_message.provider_message_id == voice.messages[0]["sid"] and step.error == ""


def test_a_ladder_text_whose_answer_never_came_is_looked_up_not_sent_again(family, voice):
    """Twilio accepted the rung's text but answered after the client's timeout: the step stays
    begun (no error, so the ladder does not take it as failed) and is found at Twilio."""
    from tests.alerts.processes import wait_until

    refresh(family, T0)
    voice.fail_next("timeout")
    advance(T0)
    (step,) = steps(family)
    assert step.sms_message is None and step.error == "" and step.send_body
    with time_machine.travel(T0 + timedelta(seconds=1)):  # Twilio's clock when it keeps the text
        assert wait_until(lambda: len(voice.accepted) == 1, timeout=10)
    for minutes in (2, 3, 10):
        advance(T0 + timedelta(minutes=minutes))
    assert len(voice.requests) == 1  # one text reached the family
    (step,) = steps(family)
    assert step.sms_message.provider_message_id == voice.messages[0]["sid"] and step.error == ""


def test_a_ladder_text_not_sent_again_to_a_number_changed_meanwhile(family, voice, monkeypatch):
    refresh(family, T0)
    break_once(monkeypatch, "send_sms", "worker lost")
    advance(T0)
    (step,) = steps(family)
    Caregiver.objects.filter(pk=step.caregiver_id).update(mobile="+13035550142")
    advance(T0 + timedelta(minutes=2))
    step.refresh_from_db()
    assert step.error == "Not sent again: the caregiver's number changed"
    assert all(r["To"] != step.send_to for r in voice.requests)


def test_a_status_callback_naming_a_ladder_text_records_it_once(family, voice, monkeypatch, client, signed):
    from urllib.parse import urlsplit

    refresh(family, T0)
    break_once(monkeypatch, "sms_outbound_log")
    advance(T0)
    callback = urlsplit(voice.accepted[0]["StatusCallback"])
    path = f"{callback.path}?{callback.query}"
    params = {"MessageSid": voice.messages[0]["sid"], "MessageStatus": "delivered"}
    forged = (f"{callback.path}?ref=l.{steps(family)[0].pk}.1", {**params, "MessageSid": "SMforged"})
    # A name this portal did not sign matches nothing; a replay changes nothing.
    for target, form in (forged, (path, params), (path, params)):
        with time_machine.travel(T0 + timedelta(seconds=30), tick=False):
            assert client.post(target, form, HTTP_X_TWILIO_SIGNATURE=signed(target, form)).status_code == 204
        if form is forged[1]:
            assert steps(family)[0].sms_message is None
    (step,) = steps(family)
    assert step.sms_message.provider_message_id == voice.messages[0]["sid"]
    assert step.sms_message.status == "delivered"
    advance(T0 + timedelta(minutes=5))
    assert len(voice.requests) == 1 and voice.list_requests == []  # nothing left to ask

"""The voice channel: TwiML, the backends, the words of ladder texts and calls."""

from __future__ import annotations

from datetime import date

import pytest

from alerts.sms import SmsConfigurationError, SmsTransientError
from alerts.voice import get_backend, locmem, place_call
from alerts.voice.twiml import call_twiml, say_twiml
from alerts.words import LADDER_TEXTS, ladder_call_words, ladder_text

pytestmark = pytest.mark.django_db
BANNED = ("itb", "intrathecal", "baclofen", "mcg", "dose", "spastic", "palsy", "therapy")
DANGERS = ("alarm_near", "alarm_passed", "refill_overdue", "eri")


def test_the_twiml_says_the_message_in_the_language_and_gathers_one_key():
    twiml = call_twiml(
        message="A & B <tag>",
        prompt="Press 1",
        goodbye="Bye",
        language="es",
        gather_url="https://x/g?step=1&a=2",
    )
    assert twiml.startswith('<?xml version="1.0" encoding="UTF-8"?><Response><Gather numDigits="1"')
    assert 'action="https://x/g?step=1&amp;a=2"' in twiml
    assert '<Say language="es-US">A &amp; B &lt;tag&gt;</Say>' in twiml
    assert twiml.count("<Gather") == 2 and twiml.endswith('<Say language="es-US">Bye</Say></Response>')
    assert say_twiml("Thanks", language="en").endswith(
        '<Say language="en-US">Thanks</Say><Hangup/></Response>'
    )


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("danger", DANGERS)
def test_ladder_texts_and_calls_name_no_therapy_and_the_childs_text_name(danger, language):
    values = {
        "danger": danger,
        "language": language,
        "child": "S.",
        "day": date(2026, 12, 11),
        "phone": "303-555-0100",
        "sender": "PCH Rehab",
    }
    body = ladder_text(**values)
    said = " ".join(ladder_call_words(**values).values())
    for words in (body, said):
        assert "Sofia" not in words and ("S.'s" in words or "de S. " in words)
        assert not any(banned in words.lower() for banned in BANNED)
        assert "303-555-0100" in words
    assert body.startswith("PCH Rehab: ") and "PCH Rehab" in said
    assert body.endswith(LADDER_TEXTS[language]["ask"])
    assert len(body) <= 320  # two text segments at most


def test_the_locmem_backend_keeps_the_call():
    locmem.outbox.clear()
    result = get_backend("locmem").call(to="+18015550000", twiml="<Response/>", status_url="https://x/s")
    assert locmem.outbox[-1].to == "+18015550000" and result.provider_call_id.startswith("CA")


def test_a_call_through_the_sdk_fits_twilios_schema(fake_twilio, settings):
    settings.VOICE_BACKEND = "twilio"
    settings.TWILIO_VOICE_FROM_NUMBER = "+17205550100"
    result = place_call(
        to="+18015550000", twiml="<Response><Say>Hi</Say></Response>", status_url="https://p/s?step=3"
    )
    (sent,) = fake_twilio.calls
    assert sent["Twiml"] == "<Response><Say>Hi</Say></Response>" and sent["Timeout"] == "30"
    assert sent["StatusCallbackEvent"] == "completed" and sent["StatusCallbackMethod"] == "POST"
    assert result.provider_call_id.startswith("CA") and result.status == "queued"
    assert fake_twilio.invalid == []


def test_the_fake_refuses_a_call_without_a_from_number_as_twilio_would(fake_twilio, settings):
    settings.VOICE_BACKEND = "twilio"
    settings.TWILIO_VOICE_FROM_NUMBER = ""
    with pytest.raises(SmsConfigurationError):
        place_call(to="+18015550000", twiml="<Response/>", status_url="https://p/s")
    assert fake_twilio.invalid == ["Missing required parameter From"]


def test_a_server_error_is_transient(fake_twilio, settings):
    settings.VOICE_BACKEND = "twilio"
    settings.TWILIO_VOICE_FROM_NUMBER = "+17205550100"
    fake_twilio.fail_next(503)
    with pytest.raises(SmsTransientError):
        place_call(to="+18015550000", twiml="<Response/>", status_url="https://p/s")

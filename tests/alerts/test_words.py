"""The words of the texts: both languages, no diagnosis, drug or dose, initial only."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from alerts.words import REMINDER_TEXTS, REPLY_TEXTS, format_date, reminder_text

FORBIDDEN = [
    "baclofen",
    "baclofeno",
    "mcg",
    "mg",
    "dose",
    "dosis",
    "intrathecal",
    "intratecal",
    "spastic",
    "espastic",
    "cerebral",
    "palsy",
    "parálisis",
    "withdrawal",
    "abstinencia",
    "ml",
]


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("kind", ["refill_due", "alarm", "appointment", "battery"])
@pytest.mark.parametrize("offset", [0, 1])
def test_every_reminder_text_has_initial_date_phone_and_no_clinical_words(language, kind, offset):
    text = reminder_text(
        kind=kind,
        language=language,
        initial="Sofia",
        target=date(2026, 12, 7),
        phone="801.213.7694",
        offset_days=offset,
        local_start=datetime(2026, 12, 7, 14, 30),
    )
    words = set(text.lower().replace(",", " ").replace(".", " ").replace(":", " ").split())
    assert not words & set(FORBIDDEN)
    assert "Sofia" not in text and "S" in text and "801.213.7694" in text
    if kind != "battery":
        assert format_date(date(2026, 12, 7), language) in text


def test_every_text_exists_in_english_and_spanish():
    assert REMINDER_TEXTS["en"].keys() == REMINDER_TEXTS["es"].keys()
    assert REPLY_TEXTS["en"].keys() == REPLY_TEXTS["es"].keys()


def test_dates_read_naturally_in_each_language():
    assert format_date(date(2026, 12, 7), "en") == "Mon Dec 7"
    assert format_date(date(2026, 12, 9), "es") == "mié 9 dic"
    assert format_date(date(2026, 12, 9), "fr") == "Wed Dec 9"


def test_an_appointment_text_gives_the_local_time_and_how_to_confirm():
    en = reminder_text(
        kind="appointment",
        language="en",
        initial="L",
        target=date(2026, 12, 7),
        phone="1",
        local_start=datetime(2026, 12, 7, 14, 30),
    )
    es = reminder_text(
        kind="appointment",
        language="es",
        initial="L",
        target=date(2026, 12, 7),
        phone="1",
        local_start=datetime(2026, 12, 7, 14, 30),
    )
    assert "2:30 PM" in en and "Reply C" in en
    assert "14:30" in es and "Responda C" in es


THERAPY_WORDS = ["itb", "baclofen", "baclofeno", "intrathecal", "intratecal", "portal itb", "itb portal"]


@pytest.mark.parametrize("language", ["en", "es"])
def test_no_text_names_the_therapy_and_each_opens_with_the_clinics_short_name(language):
    """A text on a lock screen must not tell that a child has a baclofen pump."""
    from alerts.words import proof_text, reply_text

    texts = [
        reminder_text(
            kind=kind,
            language=language,
            initial="S",
            target=date(2026, 12, 7),
            phone="1",
            offset_days=offset,
            local_start=datetime(2026, 12, 7, 9),
            sender="PCH Rehab",
        )
        for kind in REMINDER_TEXTS[language]
        if kind != "alarm_today"
        for offset in (0, 1)
    ]
    values = {"phone": "1", "after": "2", "initial": "S", "date": "d", "time": "t", "code": "123456"}
    values["link"] = "https://portal.example/family/signs/"
    texts += [
        reply_text(key, language=language, sender="PCH Rehab", **values) for key in REPLY_TEXTS[language]
    ]
    texts.append(proof_text("123456", language=language, sender="PCH Rehab"))
    for text in texts:
        lowered = text.lower()
        assert not [word for word in THERAPY_WORDS if word in lowered], text
    for text in texts[:8]:
        assert text.startswith("PCH Rehab: "), text


def test_the_sender_name_is_a_clinic_setting(db, clinic, outbox):
    from alerts.planning import reminders_replan
    from alerts.sending import message_for
    from tests.alerts.conftest import make_child

    clinic.sms_sender_name = "PCH Rehab"
    clinic.save(update_fields=["sms_sender_name"])
    patient = make_child(clinic)
    reminders_replan(patient=patient)
    reminder = patient.reminders.select_related("patient__clinic", "caregiver", "appointment").first()
    assert message_for(reminder).startswith("PCH Rehab: ")

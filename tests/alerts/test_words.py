"""The words of the texts: both languages, no diagnosis, drug or dose, the child's text name."""

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
def test_every_reminder_text_has_the_text_name_date_phone_and_no_clinical_words(language, kind, offset):
    text = reminder_text(
        kind=kind,
        language=language,
        child="Sofi",
        target=date(2026, 12, 7),
        phone="801.213.7694",
        offset_days=offset,
        local_start=datetime(2026, 12, 7, 14, 30),
    )
    words = set(text.lower().replace(",", " ").replace(".", " ").replace(":", " ").split())
    assert not words & set(FORBIDDEN)
    assert "Sofi" in text and "801.213.7694" in text
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
        child="L.",
        target=date(2026, 12, 7),
        phone="1",
        local_start=datetime(2026, 12, 7, 14, 30),
    )
    es = reminder_text(
        kind="appointment",
        language="es",
        child="L.",
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
            child="S.",
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
    values = {"phone": "1", "after": "2", "child": "S.", "date": "d", "time": "t", "code": "123456"}
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


@pytest.mark.parametrize("name", ["Baclofen", "ITB kid", "a" * 13, ""])
def test_a_clinical_or_overlong_name_never_goes_out_only_its_first_letter(name):
    text = reminder_text(kind="refill_due", language="en", child=name, target=date(2026, 12, 7), phone="1")
    assert name not in text or not name
    assert text.startswith(f"Rehab clinic: {(name[:1] or '?').upper()}.'s pump refill")


def test_the_clinical_word_list_covers_every_word_the_texts_tests_forbid():
    from patients.text_names import CLINICAL_WORDS

    assert set(FORBIDDEN) <= set(CLINICAL_WORDS)


def test_the_sender_name_has_a_spanish_form_for_spanish_readers():
    from types import SimpleNamespace

    from alerts.words import sender_of

    neutral = SimpleNamespace(sms_sender_name="Rehab clinic", sms_sender_name_es="")
    branded = SimpleNamespace(sms_sender_name="PCH Rehab", sms_sender_name_es="")
    both = SimpleNamespace(sms_sender_name="PCH Rehab", sms_sender_name_es="Rehab. PCH")
    assert [sender_of(c, "en") for c in (neutral, branded, both)] == [
        "Rehab clinic",
        "PCH Rehab",
        "PCH Rehab",
    ]
    assert [sender_of(c, "es") for c in (neutral, branded, both)] == [
        "Clínica de rehabilitación",
        "PCH Rehab",
        "Rehab. PCH",
    ]
    assert sender_of(None, "es") == "Clínica de rehabilitación" and sender_of(None, "en") == "Rehab clinic"
    spanish = reminder_text(kind="battery", language="es", child="S.", target=date(2026, 12, 7), phone="1")
    assert spanish.startswith("Clínica de rehabilitación: es hora")


@pytest.mark.parametrize(("language", "opening"), [("en", "PCH Rehab: "), ("es", "Rehab. PCH: ")])
def test_each_caregiver_gets_the_sender_name_in_their_language(db, clinic, language, opening):
    from alerts.planning import reminders_replan
    from alerts.sending import message_for
    from tests.alerts.conftest import make_child

    clinic.sms_sender_name, clinic.sms_sender_name_es = "PCH Rehab", "Rehab. PCH"
    clinic.save(update_fields=["sms_sender_name", "sms_sender_name_es"])
    patient = make_child(clinic, language=language)
    reminders_replan(patient=patient)
    reminder = patient.reminders.select_related("patient__clinic", "caregiver", "appointment").first()
    assert message_for(reminder).startswith(opening)


def test_a_sender_name_that_names_the_therapy_is_refused_in_either_language(db, clinic):
    from django.core.exceptions import ValidationError

    clinic.sms_sender_name_es = "Bomba de baclofeno"
    with pytest.raises(ValidationError) as refused:
        clinic.clean()
    assert "sms_sender_name_es" in refused.value.message_dict

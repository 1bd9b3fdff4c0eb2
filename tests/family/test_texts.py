"""Text-message settings: number, consent with its exact wording, language, quiet hours, log."""

import re
from datetime import time, timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation

from alerts.models import SmsMessage
from patients.models import SmsConsent
from patients.services import SMS_CONSENT_WORDING

URL = "family:texts"


def post(client, **fields):
    data = {
        "mobile": "801 555 0199",
        "preferred_language": "en",
        "quiet_hours_start": "21:00",
        "quiet_hours_end": "08:00",
    }
    data.update(fields)
    return client.post(reverse(URL), {k: v for k, v in data.items() if v is not None}, follow=True)


def post_and_prove(client, number="+18015550199", **fields):
    """Save the settings with a new number, then type back the code texted to it."""
    from django.test import TestCase

    from tests.helpers import code_texted_to

    with TestCase.captureOnCommitCallbacks(execute=True):
        post(client, **fields)
    return client.post(reverse("family:mobile_verify"), {"code": code_texted_to(number)}, follow=True)


def test_the_page_shows_the_exact_consent_wording(parent_client):
    html = parent_client.get(reverse(URL)).content.decode()
    assert SMS_CONSENT_WORDING["en"].replace("'", "&#x27;") in html


def test_giving_consent_stores_the_exact_wording_from_the_portal(parent_client, parent, outbox):
    post_and_prove(parent_client, sms_consent="on")
    caregiver = parent.caregiver
    caregiver.refresh_from_db()
    assert caregiver.sms_consent and str(caregiver.mobile) == "+18015550199"
    record = SmsConsent.objects.get(caregiver=caregiver)
    assert (record.given, record.source, record.wording, str(record.mobile)) == (
        True,
        "portal",
        SMS_CONSENT_WORDING["en"],
        "+18015550199",
    )
    assert record.recorded_by == parent


def test_withdrawing_consent_is_recorded_too(parent_client, parent, outbox):
    post_and_prove(parent_client, sms_consent="on")
    post(parent_client)
    parent.caregiver.refresh_from_db()
    assert not parent.caregiver.sms_consent
    assert [c.given for c in SmsConsent.objects.filter(caregiver=parent.caregiver)] == [False, True]


def test_saving_again_without_changes_records_nothing_new(parent_client, parent, outbox):
    post_and_prove(parent_client, sms_consent="on")
    post(parent_client, sms_consent="on")
    assert SmsConsent.objects.filter(caregiver=parent.caregiver).count() == 1


def test_a_bad_number_shows_a_clear_error_and_nothing_changes(parent_client, parent):
    before = parent.caregiver.mobile
    response = post(parent_client, mobile="12345", sms_consent="on", quiet_hours_start="22:00")
    html = response.content.decode()
    assert "does not look like a mobile phone number" in html
    assert 'value="12345"' in html  # what the parent typed is kept
    parent.caregiver.refresh_from_db()
    assert parent.caregiver.mobile == before and parent.caregiver.quiet_hours_start == time(21, 0)
    assert not SmsConsent.objects.filter(caregiver=parent.caregiver).exists()


def test_consent_without_a_number_is_refused(parent_client, parent):
    before = parent.caregiver.mobile
    html = post(parent_client, mobile="", sms_consent="on").content.decode()
    assert "please enter your mobile phone number" in html
    parent.caregiver.refresh_from_db()
    assert parent.caregiver.mobile == before
    assert not SmsConsent.objects.filter(caregiver=parent.caregiver).exists()


def test_language_and_quiet_hours_are_saved(parent_client, parent):
    response = post(
        parent_client, preferred_language="es", quiet_hours_start="20:30", quiet_hours_end="07:15"
    )
    parent.caregiver.refresh_from_db()
    assert parent.caregiver.preferred_language == "es"
    assert (parent.caregiver.quiet_hours_start, parent.caregiver.quiet_hours_end) == (
        time(20, 30),
        time(7, 15),
    )
    # The new number is asked for its code next, and that page already speaks Spanish.
    html = response.content.decode()
    assert '<html lang="es">' in html
    assert "Compruebe su número" in html


def test_consent_given_with_a_language_change_stores_the_wording_that_was_shown(
    parent_client, parent, outbox
):
    parent.caregiver.mobile, parent.caregiver.sms_consent = "+18015550199", False
    parent.caregiver.save(update_fields=["mobile", "sms_consent"])  # a number already proven
    post(parent_client, sms_consent="on", preferred_language="es")
    assert SmsConsent.objects.get(caregiver=parent.caregiver).wording == SMS_CONSENT_WORDING["en"]


def test_the_last_texts_sent_show_with_their_delivery_status(parent_client, parent, other_parent):
    now = timezone.now()
    for body, status, direction, who in [
        ("Refill due soon for S.", "delivered", "out", parent),
        ("Call the clinic for S.", "undelivered", "out", parent),
        ("YES", "received", "in", parent),
        ("Someone else's text", "delivered", "out", other_parent),
    ]:
        SmsMessage.objects.create(
            direction=direction,
            caregiver=who.caregiver,
            to_number="+18015550100",
            body=body,
            status=status,
            created_at=now,
        )
    html = parent_client.get(reverse(URL)).content.decode()
    assert "Refill due soon for S." in html and "Delivered" in html
    assert "Call the clinic for S." in html and "Not delivered" in html
    assert "YES" not in html and "Someone else" not in html


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_latest_three_texts_then_older_and_not_delivered_says_what_to_do(parent_client, parent, language):
    """Issue 24, item 7: 14 texts make a short page (three, then the older ones folded away);
    a text that did not arrive says what to do next, in the parent's language."""
    parent.caregiver.preferred_language = language
    parent.caregiver.save(update_fields=["preferred_language"])
    start = timezone.now() - timedelta(days=30)
    for n in range(14):
        SmsMessage.objects.create(
            direction="out",
            caregiver=parent.caregiver,
            to_number="+18015550100",
            body=f"Text number {n:02d}",
            status="undelivered" if n == 13 else "delivered",
            created_at=start + timedelta(days=n),
        )
    html = parent_client.get(reverse(URL)).content.decode()
    translation.deactivate()
    folded = html.index('<details class="mt-2 older-texts">')
    shown_first = [f"Text number {n:02d}" for n in (13, 12, 11)]
    assert all(0 < html.index(text) < folded for text in shown_first)
    assert all(html.index(f"Text number {n:02d}") > folded for n in range(11))
    if language == "en":
        assert "11 older texts" in html
        assert "This text did not reach your phone. Check that your number above is right" in html
    else:
        assert "11 mensajes anteriores" in html
        assert "Este mensaje no llegó a su teléfono." in html
    assert html.count("not-delivered-next") == 1


def test_the_consent_checkbox_sits_inside_its_big_label(parent_client):
    html = parent_client.get(reverse(URL)).content.decode()
    label = html[
        html.index('<label class="consent-toggle"') : html.index("</label>", html.index("consent-toggle"))
    ]
    assert 'type="checkbox"' in label and 'name="sms_consent"' in label
    css = (settings.BASE_DIR / "static" / "css" / "portal.css").read_text()
    assert re.search(r"\.consent-toggle \{[^}]*min-height: 48px", css)

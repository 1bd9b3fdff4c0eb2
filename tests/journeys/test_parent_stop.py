"""Journey 3: the parent replies STOP to a reminder (Twilio's signed inbound webhook), and the nurse
sees it: "family cannot be reached" on the escalations page and on the child's worklist row."""

import pytest
import requests
from twilio.request_validator import RequestValidator

from alerts.models import Concern
from tests.journeys.conftest import TWILIO_TOKEN, sign_in

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

INBOUND = "/sms/twilio/inbound/"


def twilio_posts_a_reply(
    base_url: str, *, sender: str, body: str, token: str = TWILIO_TOKEN
) -> requests.Response:
    """What Twilio sends when a parent answers a text: signed for the portal's public URL."""
    params = {
        "From": sender,
        "To": "+15555550199",
        "Body": body,
        "MessageSid": "SM" + "7" * 32,
        "AccountSid": "AC" + "0" * 32,
    }
    signature = RequestValidator(token).compute_signature(base_url + INBOUND, params)
    return requests.post(
        base_url + INBOUND, data=params, headers={"X-Twilio-Signature": signature}, timeout=10
    )


def test_a_parent_who_replies_stop_shows_up_for_the_nurse(
    live_server, scene, two_factor_key, settings, desktop, shots
):
    settings.PUBLIC_BASE_URL = live_server.url
    settings.TWILIO_AUTH_TOKEN = TWILIO_TOKEN
    page = desktop
    sign_in(page, live_server.url, scene.nurse.email, totp_key=two_factor_key)
    page.wait_for_url("**/staff/")
    row = page.locator("table.worklist tbody tr", has_text="Rivera, Mia")
    assert row.locator(".flag-unreachable").count() == 0
    shots(page, "worklist-before")

    mobile = str(scene.parent.caregiver.mobile)
    forged = twilio_posts_a_reply(live_server.url, sender=mobile, body="STOP", token="not-twilio")
    assert forged.status_code == 403
    assert not Concern.objects.open().filter(patient=scene.child, kind="unreachable").exists()

    answer = twilio_posts_a_reply(live_server.url, sender=mobile, body="STOP")
    assert answer.status_code == 200  # Twilio itself answers STOP; the portal only records it
    scene.parent.caregiver.refresh_from_db()
    assert not scene.parent.caregiver.sms_consent
    concern = Concern.objects.open().get(patient=scene.child, kind="unreachable")
    assert "opted_out" in concern.details["reasons"]

    page.reload()
    assert row.locator(".flag-unreachable").is_visible()
    shots(page, "worklist-flag")

    page.get_by_role("link", name="Escalations").click()
    page.wait_for_url("**/sms/escalations/")
    # Mia's card, one per child (another child of the scene may have no textable caregiver).
    card = page.locator("section.escalation-child", has_text="Mia Rivera")
    assert card.count() == 1
    item = card.locator("li.escalation", has_text="Family cannot be reached by text")
    assert item.count() == 1
    assert "a caregiver stopped texts" in item.inner_text()
    shots(page, "escalations")

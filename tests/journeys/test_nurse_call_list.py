"""Journey 5: a family did not answer two texts and a call; the nurse opens the call list,
records how her call went, and then looks at the clinic's safety figures."""

from datetime import datetime, time, timedelta

import pytest
import time_machine
from django.utils import timezone

from alerts.concerns import concerns_refresh
from alerts.ladder import ladders_advance
from alerts.models import LadderStep
from pumps.models import RefillVisit
from tests.journeys.conftest import sign_in

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_nurse_records_a_call_from_the_call_list_and_sees_the_figures(
    live_server, scene, two_factor_key, desktop, shots
):
    # The ladder's hours must fall on one clinic day: across local midnight the call list takes
    # the family again for the new day (a second row), so the journey runs at a pinned hour, the
    # next weekday's 14:00 at the clinic, after the scene was built (its dates stay near).
    tz = scene.child.clinic.tzinfo
    day = timezone.localdate(timezone.now(), tz) + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    afternoon = datetime.combine(day, time(14), tzinfo=tz)
    with time_machine.travel(afternoon, tick=True):
        _journey(live_server, scene, two_factor_key, desktop, shots)


def _journey(live_server, scene, two_factor_key, desktop, shots):
    now = timezone.now()
    visit = RefillVisit.objects.filter(pump=scene.pump).latest("visit_at")
    RefillVisit.objects.filter(pk=visit.pk).update(alarm_at_worst=now - timedelta(days=1))
    concerns_refresh(patient=scene.child, now=now - timedelta(hours=3))
    for hours in (
        3,
        2,
        1,
        0,
    ):  # text; (no second caregiver); call; call list — an hour apart once the alarm passed
        ladders_advance(now=now - timedelta(hours=hours))
    on_list = LadderStep.objects.get(concern__patient=scene.child, rung="call_list")

    page = desktop
    sign_in(page, live_server.url, scene.nurse.email, totp_key=two_factor_key)
    page.wait_for_url("**/staff/")
    page.get_by_role("link", name="Call list").click()
    page.wait_for_url("**/staff/calls/")
    card = page.locator("section.card", has_text="Rivera, Mia")
    assert "Alarm date passed" in card.inner_text()
    shots(page, "call-list")

    card.get_by_text("Message left").click()
    card.get_by_label("Note (optional)").fill("Left a voicemail for Ana; will try again at 3 pm.")
    card.get_by_role("button", name="Record the call").click()
    page.wait_for_url("**/staff/calls/")
    assert "Call outcome recorded for Mia Rivera" in page.inner_text("body")
    assert "Message left" in page.locator("section.card", has_text="Rivera, Mia").inner_text()
    shots(page, "outcome-recorded")
    on_list.refresh_from_db()
    assert on_list.outcome == "message_left" and on_list.outcome_by == scene.nurse

    page.get_by_role("link", name="Figures").click()
    page.wait_for_url("**/staff/figures/")
    assert page.get_by_role("heading", name="Ladder steps reached").is_visible()
    assert page.locator("svg.itb-chart").count() >= 5
    shots(page, "figures")

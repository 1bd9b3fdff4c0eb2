"""Journey (issue 25): at 02:00 clinic time a parent reports withdrawal signs from a 360 px phone,
in English and in Spanish, and sees what to do first: the instruction and the operator's number;
at 08:00 the nurse (1280 px) finds the child first on the worklist with the report, records the
outcome, and the concern resolves. And without a network: the kept report page still says what to
do, keeps the report, and sends it once the phone is online again."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from alerts.models import Concern
from patients.clinic_hours import call_number
from patients.models import SignReport
from patients.signs import DEFAULT_INSTRUCTIONS
from tests.journeys.axe import violations
from tests.journeys.conftest import sign_in

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

DENVER = ZoneInfo("America/Denver")
PHONE = {"width": 360, "height": 740}
OPERATOR, CLINIC = "801.662.1000", "801.213.3599"
WORDS = {
    "en": {
        "report": "Report a sign", "tone": "A sudden increase in muscle tone", "agitation": "Agitation",
        "send": "Send and see what to do", "now": "What to do now", "operator": "Call the hospital operator",
    },
    "es": {
        "report": "Informar una señal", "tone": "Un aumento repentino del tono muscular",
        "agitation": "Agitación", "send": "Enviar y ver qué hacer", "now": "Qué hacer ahora",
        "operator": "Llamar a la operadora del hospital",
    },
}  # fmt: skip


def _weekday_clinic(scene) -> None:
    clinic = scene.clinic
    clinic.open_weekdays = [0, 1, 2, 3, 4]
    clinic.opens_at, clinic.closes_at = time(8), time(17)
    clinic.nurse_inbox_email = "nurses@demo.itbportal.test"
    clinic.save()


def _next_monday(hour: int) -> datetime:
    """The next Monday at `hour` clinic time, after the scene was built (its dates stay near)."""
    day = timezone.localtime(timezone.now(), DENVER).date() + timedelta(days=1)
    while day.weekday() != 0:
        day += timedelta(days=1)
    return datetime.combine(day, time(hour), tzinfo=DENVER)


def _axe_clean(page) -> None:
    found = violations(page)
    assert found == [], found


def _in_first_screen(page, locator) -> bool:
    box = locator.bounding_box()
    return box is not None and box["y"] + box["height"] <= PHONE["height"]


@pytest.mark.parametrize("language", ["en", "es"])
def test_a_parent_reports_withdrawal_signs_at_night_and_the_nurse_acts_at_eight(
    live_server, scene, two_factor_key, browser, desktop, shots, language
):
    _weekday_clinic(scene)
    caregiver = scene.parent.caregiver
    caregiver.preferred_language = language
    caregiver.save(update_fields=["preferred_language"])
    words = WORDS[language]
    night = _next_monday(2)
    with time_machine.travel(night, tick=True):
        context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True)
        page = context.new_page()
        try:
            sign_in(page, live_server.url, scene.parent.email)
            page.wait_for_url("**/family/")
            card = page.locator("article.child-card", has_text=scene.child.first_name)
            card.get_by_role("link", name=words["report"]).click()  # one tap from the home card
            page.wait_for_url(f"**/family/children/{scene.child.pk}/signs/")
            _axe_clean(page)
            page.get_by_label(words["tone"]).check()
            page.get_by_label(words["agitation"]).check()
            page.locator("#id_words").fill(
                "Muy rígida desde la cena" if language == "es" else "Very stiff since dinner"
            )
            shots(page, f"{language}-report")
            page.get_by_role("button", name=words["send"]).click()
            page.wait_for_url("**/family/signs/*/")
            assert page.locator("h1").inner_text() == words["now"]
            first = page.locator("section[data-sign-group]").first
            assert first.get_attribute("data-sign-group") == "withdrawal"
            assert DEFAULT_INSTRUCTIONS[language]["withdrawal"] in first.inner_text()
            call = page.locator(f'main a[href="tel:{OPERATOR}"]')
            assert call.count() == 1 and words["operator"] in call.inner_text()
            assert page.locator(f'main a[href="tel:{CLINIC}"]').count() == 0
            assert _in_first_screen(page, first) and _in_first_screen(page, call)
            page.screenshot(path=str(shots.folder / f"{language}-what-to-do-first-screen.png"))
            shots(page, f"{language}-what-to-do")
            _axe_clean(page)
        finally:
            context.close()
    report = SignReport.objects.get(patient=scene.child)
    assert report.groups == ["withdrawal"] and report.reporter == caregiver

    with time_machine.travel(night.replace(hour=8), tick=True):
        page = desktop
        sign_in(page, live_server.url, scene.nurse.email, totp_key=two_factor_key)
        page.wait_for_url("**/staff/")
        first_row = page.locator("table.worklist tbody tr").first
        assert scene.child.last_name in first_row.inner_text()
        assert "reported warning signs at 02:0" in first_row.inner_text()
        shots(page, f"{language}-worklist")
        _axe_clean(page)
        first_row.get_by_role("link", name=scene.child.last_name).first.click()
        page.wait_for_url(f"**/staff/patients/{scene.child.pk}/")
        assert "Warning signs reported by the family" in page.inner_text("body")
        page.get_by_role("link", name="Record the outcome").click()
        page.wait_for_url(f"**/staff/signs/{report.pk}/")
        _axe_clean(page)
        page.get_by_label("Advice given").check()
        page.get_by_label("Note (optional)").fill("Oral dose given at home; refill moved to today.")
        shots(page, f"{language}-outcome")
        page.get_by_role("button", name="Record the outcome").click()
        page.wait_for_url(f"**/staff/patients/{scene.child.pk}/")
        assert "Outcome recorded" in page.inner_text("body")
        shots(page, f"{language}-chart-after")
        _axe_clean(page)
    concern = Concern.objects.get(patient=scene.child, kind=Concern.Kind.SIGNS_REPORTED)
    assert concern.resolved_at is not None and concern.resolved_reason.startswith("outcome: advice given")


def test_without_a_network_the_kept_page_says_what_to_do_and_sends_the_report_later(
    live_server, scene, browser, shots
):
    _weekday_clinic(scene)
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True)
    page = context.new_page()
    try:
        sign_in(page, live_server.url, scene.parent.email)
        page.wait_for_url("**/family/")
        page.wait_for_selector("body[data-offline-kept]", timeout=30_000)
        url = f"{live_server.url}/family/children/{scene.child.pk}/signs/"
        cache = page.evaluate("caches.keys()")
        kept = page.evaluate(
            f"caches.open('{[n for n in cache if n.startswith('itb-family-')][0]}')"
            ".then(c => c.keys()).then(rs => rs.map(r => new URL(r.url).pathname))"
        )
        assert f"/family/children/{scene.child.pk}/signs/" in kept  # the service worker kept it
        context.set_offline(True)
        page.goto(url)  # from the copy kept on the phone
        assert page.locator("#offline-note").is_visible()
        page.get_by_label("Itching without a rash").check()
        page.get_by_label("Headaches").check()
        page.get_by_role("button", name="Send and see what to do").click()
        now_part = page.locator("#signs-offline-now")
        now_part.wait_for(state="visible")
        groups = now_part.locator("section[data-sign-group]:visible")
        assert [groups.nth(i).get_attribute("data-sign-group") for i in range(groups.count())] == [
            "withdrawal",
            "too_much",
        ]
        # The number for this hour, by the clinic's calendar the page carries.
        expected = "open" if call_number(scene.clinic).clinic_open else "closed"
        assert now_part.locator(f"[data-call={expected}]").is_visible()
        assert not now_part.locator(f"[data-call={'closed' if expected == 'open' else 'open'}]").is_visible()
        assert page.locator("#signs-queued").is_visible()
        assert "kept on this phone" in page.locator("#signs-queued").inner_text()
        shots(page, "offline-what-to-do")
        _axe_clean(page)
        assert not SignReport.objects.exists()
        context.set_offline(False)  # online again: the kept report is sent
        page.wait_for_selector("body[data-signs-sent]", timeout=30_000)
        assert page.locator("#signs-queue-sent").is_visible()
        shots(page, "offline-report-sent")
    finally:
        context.close()
    report = SignReport.objects.get(patient=scene.child)
    assert report.signs == ["itching", "headache"] and report.written_at is not None
    assert Concern.objects.open().filter(patient=scene.child, kind=Concern.Kind.SIGNS_REPORTED).count() == 1

"""Issue 15: a tired parent's phone. On a 360 x 740 screen the most urgent child's headline, next
appointment, alarm date and call button are on the first screen; every tap target is at least
44 x 44 px; the home card, child pages and emergency cards open with the network cut, and sign-out
deletes them; axe-core finds 0 violations on every page a parent or a nurse visits, at phone and
desktop widths, in English and Spanish."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from alerts.models import Concern
from tests.journeys.axe import violations
from tests.journeys.conftest import DEMO_PASSWORD, current_code, sign_in

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}

TAP_TARGETS = (Path(__file__).parent / "tap_targets.js").read_text()


def sign_in_any_language(page, base_url, email, totp_key=None):
    """The shared sign_in clicks the English words; this one the form's own button."""
    page.goto(base_url + "/accounts/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    if totp_key:
        page.wait_for_url("**/accounts/2fa/check/**")
        page.fill("#id_token", current_code(totp_key))
        page.click("main form button[type=submit]")
        page.wait_for_load_state()


def in_language(scene, language):
    """The parent reads the portal in the browser's language."""
    caregiver = scene.parent.caregiver
    caregiver.preferred_language = language[:2]
    caregiver.save(update_fields=["preferred_language"])


def family_of_three(scene):
    """Ana Rivera gets all three children: by name Lily comes first, by urgency Mia (alarm soonest)."""
    from tests.factories import CaregiverLinkFactory

    for child in scene.children[1:]:
        CaregiverLinkFactory(caregiver=scene.parent.caregiver, patient=child)
    return scene.child  # Mia


def phone_page(browser, language="en-US", viewport=PHONE):
    context = browser.new_context(viewport=viewport, device_scale_factor=2, is_mobile=True, locale=language)
    return context, context.new_page()


@pytest.mark.parametrize("language", ["en-US", "es-ES"])
def test_the_most_urgent_child_and_its_dates_are_on_the_first_screen(
    live_server, scene, browser, shots, language
):
    mia = family_of_three(scene)
    in_language(scene, language)
    context, page = phone_page(browser, language)
    try:
        sign_in_any_language(page, live_server.url, scene.parent.email)
        page.wait_for_url("**/family/")
        names = page.locator("article.child-card .child-name").all_inner_texts()
        assert names[0] == mia.first_name and sorted(names) == ["Lily", "Mia", "Noah"], names
        first = page.locator("article.child-card").first
        for part in (".urgency-band", ".fact-appointment", ".fact-alarm", ".btn-call"):
            box = first.locator(part).bounding_box()
            assert box is not None, part
            assert 0 <= box["y"] and box["y"] + box["height"] <= PHONE["height"], (part, box)
        assert page.evaluate("window.scrollY") == 0
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "sideways scroll"
        page.screenshot(path=str(shots.folder / "first-screen.png"))
    finally:
        context.close()


@pytest.mark.parametrize("language", ["en-US", "es-ES"])
def test_every_tap_target_on_the_parents_pages_is_at_least_44_px(live_server, scene, browser, language):
    family_of_three(scene)
    in_language(scene, language)
    context, page = phone_page(browser, language)
    try:
        sign_in_any_language(page, live_server.url, scene.parent.email)
        small, wide = {}, []
        for path in parent_paths(scene):
            page.goto(live_server.url + path)
            small[path] = page.evaluate(TAP_TARGETS)
            if page.evaluate("document.documentElement.scrollWidth") > PHONE["width"]:
                wide.append(path)
        assert {path: found for path, found in small.items() if found} == {}
        assert wide == [], "sideways scrolling"
    finally:
        context.close()


def test_the_card_and_the_dates_open_offline_and_sign_out_deletes_them(live_server, scene, browser, shots):
    mia = family_of_three(scene)
    context, page = phone_page(browser)
    try:
        sign_in(page, live_server.url, scene.parent.email)
        page.wait_for_url("**/family/")
        page.wait_for_selector("body[data-offline-kept]", timeout=30_000)
        kept = page.evaluate("caches.keys()")
        assert len([name for name in kept if name.startswith("itb-family-")]) == 1, kept
        context.set_offline(True)
        page.goto(f"{live_server.url}/documents/card/{mia.pk}/")
        assert mia.full_name in page.locator("h1").inner_text()
        assert "Last updated:" in page.locator(".last-updated").inner_text()
        assert page.locator("#offline-note").is_visible()
        shots(page, "offline-card")
        page.screenshot(path=str(shots.folder / "offline-card-screen.png"))
        page.goto(live_server.url + "/family/")
        assert page.locator("article.child-card .fact-alarm").count() == 3
        page.goto(f"{live_server.url}/family/children/{mia.pk}/")
        assert page.locator(".fact-alarm").first.is_visible()
        page.goto(live_server.url + "/family/texts/")  # never kept: the plain offline page
        assert "No network" in page.content()
        context.set_offline(False)
        page.goto(live_server.url + "/family/")
        page.click("header button:has-text('Sign out')")
        page.wait_for_url("**/accounts/login/?signed_out=1")
        page.wait_for_function("caches.keys().then(names => names.every(n => !n.startsWith('itb-family-')))")
        assert "You are signed out" in page.content()
    finally:
        context.close()


def test_nothing_of_another_family_is_kept(live_server, scene, browser):
    """The other parent signs in on the same phone: the first family's pages are deleted, and a
    nurse's pages are never kept."""
    context, page = phone_page(browser)
    try:
        sign_in(page, live_server.url, scene.parent.email)
        page.wait_for_selector("body[data-offline-kept]", timeout=30_000)
        first = page.evaluate("caches.keys()")
        page.context.clear_cookies()
        sign_in(page, live_server.url, scene.other_parent.email)
        page.wait_for_url("**/family/")
        page.wait_for_selector("body[data-offline-kept]", timeout=30_000)
        now = [name for name in page.evaluate("caches.keys()") if name.startswith("itb-family-")]
        assert len(now) == 1 and now[0] not in first
        pages = page.evaluate(
            f"caches.open('{now[0]}').then(c => c.keys()).then(rs => rs.map(r => new URL(r.url).pathname))"
        )
        assert f"/family/children/{scene.children[1].pk}/" in pages
        mia = (f"/family/children/{scene.child.pk}/", f"/documents/card/{scene.child.pk}/")
        assert not set(mia) & set(pages)
    finally:
        context.close()


def parent_paths(scene) -> list[str]:
    child = scene.child.pk
    return [
        "/family/",
        f"/family/children/{child}/",
        "/family/texts/",
        "/family/calendar/",
        "/emergency/",
        f"/documents/card/{child}/",
        f"/documents/patient/{child}/",
    ]


def nurse_paths(scene) -> list[str]:
    child = scene.child.pk
    return [
        "/staff/",
        "/staff/day/",
        "/staff/battery/",
        "/staff/patients/new/",
        f"/staff/patients/{child}/",
        f"/staff/patients/{child}/visit/refill/",
        f"/staff/patients/{child}/appointments/new/",
        f"/staff/patients/{child}/caregivers/",
        "/sms/escalations/",
        "/sms/escalations/?resolved=1",
        "/sms/outbox/",
        f"/documents/card/{child}/",
        "/accounts/2fa/",
    ]


def open_escalations(scene):
    now = timezone.now()
    for n, (tier, resolved) in enumerate((("critical", None), ("urgent", None), ("critical", now))):
        Concern.objects.create(
            clinic=scene.clinic,
            patient=scene.children[n],
            kind=Concern.Kind.ALARM_NEAR,
            tier=tier,
            tier_rank=0 if tier == "critical" else 1,
            key=f"journey-{n}",
            nurse_words="Alarm in 2 days, no refill booked before it.",
            needs_nurse=True,
            began_at=now - timedelta(hours=n),
            opened_at=now - timedelta(hours=n),
            updated_at=now,
            resolved_at=resolved,
            resolved_reason="refill recorded" if resolved else "",
        )


def check_pages(page, base_url, role, paths, found):
    """Each page at phone and desktop width (one sign-in: a second-step code is good once)."""
    for path in paths:
        for viewport in (PHONE, DESKTOP):
            page.set_viewport_size(viewport)
            page.goto(base_url + path)
            assert "/accounts/login" not in page.url or role == "anonymous", (role, path, page.url)
            found[(role, viewport["width"], path)] = violations(page)


@pytest.mark.parametrize("language", ["en-US", "es-ES"])
def test_axe_finds_nothing_on_any_page_a_parent_or_a_nurse_visits(
    live_server, scene, browser, two_factor_key, language
):
    family_of_three(scene)
    in_language(scene, language)
    open_escalations(scene)
    found = {}
    context, page = phone_page(browser, language)
    try:
        anonymous = ["/accounts/login/", "/accounts/password_reset/", "/emergency/"]
        check_pages(page, live_server.url, "anonymous", anonymous, found)
        sign_in_any_language(page, live_server.url, scene.parent.email)
        check_pages(page, live_server.url, "parent", parent_paths(scene), found)
        page.click("header button[type=submit]")  # sign out
        page.wait_for_url("**/accounts/login/?signed_out=1")
        found[("signed out", PHONE["width"], "login")] = violations(page)
        sign_in_any_language(page, live_server.url, scene.nurse.email, totp_key=two_factor_key)
        check_pages(page, live_server.url, "nurse", nurse_paths(scene), found)
    finally:
        context.close()
    bad = {key: value for key, value in found.items() if value}
    assert bad == {}, bad
    assert len(found) == 2 * (3 + len(parent_paths(scene)) + len(nurse_paths(scene))) + 1

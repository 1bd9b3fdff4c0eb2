"""Issue 24's journeys: which child (points 1), the numbing cream and the comfort note (point 8),
and the refill form that keeps its box and its save button in view (point 11). Every page is
checked with axe; every step is saved as a screenshot at the size it is read at."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.concerns import concerns_refresh
from appointments.models import Appointment
from patients.models import Patient
from patients.services import caregiver_link
from tests.factories import PatientFactory, PumpFactory, refill
from tests.journeys.axe import violations
from tests.journeys.conftest import Scene, sign_in

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PHONE = {"width": 360, "height": 740}
WORDS = {
    "en": {
        "cream": "Put the numbing cream on at 9:00 AM, an hour before.",
        "refused": "Please do not use your child's full first or last name",
        "save": "Save",
        "saved": "Saved. Texts will call your child Bear.",
    },
    "es": {
        "cream": "Ponga la crema para adormecer la piel a las 09:00, una hora antes.",
        "refused": "Por favor, no use el nombre ni el apellido completos",
        "save": "Guardar",
        "saved": "Guardado. Los mensajes llamarán a su hijo o hija Bear.",
    },
}
COMFORT = "Music on his tablet and his blue truck"


def _brothers(scene: Scene, *, language: str = "en"):
    """Liam and Lucas, one parent's two children at the scene's clinic: linked through the
    service, so their text names are L. and Lu.; Lucas's refill visit is tomorrow at 10:00."""
    parent = Scene._parent(f"kim.park.{language}", "Kim", "Park", "+15555550199")
    parent.caregiver.preferred_language = language
    parent.caregiver.save()
    now = timezone.now()
    brothers = []
    for n, first in enumerate(("Liam", "Lucas")):
        child = PatientFactory(clinic=scene.clinic, first_name=first, last_name="Park", mrn=f"DEMO-20{n}")
        refill(PumpFactory(patient=child, serial_number=f"DEMO9{n}"), visit_at=now - timedelta(days=20))
        caregiver_link(caregiver=parent.caregiver, patient=child, relationship="mother")
        brothers.append(Patient.objects.get(pk=child.pk))
    tomorrow = timezone.localtime(now, scene.clinic.tzinfo) + timedelta(days=1)
    Appointment.objects.create(
        patient=brothers[1],
        kind="refill",
        start=tomorrow.replace(hour=10, minute=0, second=0, microsecond=0),
        location="Rehabilitation Clinic",
    )
    concerns_refresh(patient=brothers[1], now=now)  # as the booking service does in its write
    return parent, brothers


def _no_axe(page):
    assert violations(page) == [], page.url


@pytest.mark.parametrize("language", ["en", "es"])
def test_a_parent_of_two_names_one_for_texts_and_says_what_comforts_him(
    live_server, scene, browser, shots, language
):
    parent, (liam, lucas) = _brothers(scene, language=language)
    assert (liam.text_name, lucas.text_name) == ("L.", "Lu.")
    words = WORDS[language]
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True)
    page = context.new_page()
    sign_in(page, live_server.url, parent.email)
    page.wait_for_url("**/family/**")
    card = page.locator("article", has_text="Lucas")
    assert words["cream"] in card.inner_text()
    shots(page, f"{language}-home-cream-time")
    _no_axe(page)

    page.goto(f"{live_server.url}/family/children/{lucas.pk}/")
    field = page.locator("#id_text_name")
    assert field.input_value() == "Lu."
    field.scroll_into_view_if_needed()
    shots(page, f"{language}-child-about")
    _no_axe(page)

    field.fill("Lucas")
    page.fill("#id_comfort_note", COMFORT)
    page.get_by_role("button", name=words["save"], exact=True).click()
    page.wait_for_load_state()
    assert words["refused"] in page.locator("#id_text_name_error").inner_text()
    assert page.locator("#id_comfort_note").input_value() == COMFORT  # kept
    page.locator("#about-child").scroll_into_view_if_needed()
    shots(page, f"{language}-child-name-refused")
    _no_axe(page)

    page.fill("#id_text_name", "Bear")
    page.get_by_role("button", name=words["save"], exact=True).click()
    page.get_by_text(words["saved"]).wait_for()
    shots(page, f"{language}-child-saved")
    _no_axe(page)
    lucas.refresh_from_db()
    assert (lucas.text_name, lucas.comfort_note) == ("Bear", COMFORT)
    context.close()


def _in_view(page, selector: str) -> bool:
    box = page.locator(selector).bounding_box()
    size = page.viewport_size
    return bool(box) and box["y"] >= 0 and box["y"] + box["height"] <= size["height"]


@pytest.mark.parametrize("width", [1280, 360])
def test_the_nurse_reads_the_comfort_note_and_the_refill_form_keeps_save_in_view(
    live_server, scene, two_factor_key, browser, shots, width
):
    _, (_, lucas) = _brothers(scene)
    Patient.objects.filter(pk=lucas.pk).update(comfort_note=COMFORT)
    context = browser.new_context(viewport={"width": width, "height": 900 if width > 400 else 740})
    page = context.new_page()
    sign_in(page, live_server.url, scene.nurse.email, totp_key=two_factor_key)
    page.wait_for_url("**/staff/")
    day = timezone.localtime(Appointment.objects.get(patient=lucas).start, scene.clinic.tzinfo).date()
    page.goto(f"{live_server.url}/staff/day/?date={day:%Y-%m-%d}")
    assert f"Comforts Lucas: {COMFORT}" in page.locator("main").inner_text()
    shots(page, f"{width}-day-view-comfort-note")
    _no_axe(page)

    page.goto(f"{live_server.url}/staff/patients/{lucas.pk}/visit/refill/")
    assert COMFORT in page.locator("#comfort-note").inner_text()
    assert page.locator("#id_flex_steps").is_hidden() and page.locator("#id_daily_dose_mcg").is_visible()
    assert page.locator("#id_concentration_reason").is_hidden()
    shots(page, f"{width}-refill-form")
    _no_axe(page)

    page.locator("#id_private_notes").scroll_into_view_if_needed()
    assert _in_view(page, ".visit-actions button[type=submit]")
    if width > 400:
        assert _in_view(page, "#visit-preview .preview-box h2")
    page.screenshot(path=str(shots.folder / f"{width}-refill-form-scrolled-viewport.png"))

    page.select_option("#id_mode", "flex")
    assert page.locator("#id_flex_steps").is_visible() and page.locator("#id_daily_dose_mcg").is_hidden()
    page.fill("#id_flex_steps", "00:00 12\n07:00 14.5")
    page.select_option("#id_mode", "simple")
    page.fill("#id_volume_after_ml", "999")
    page.fill("#id_notes", "Walk in the pool")
    page.locator(".visit-actions button[type=submit]").click()
    page.wait_for_load_state()
    assert "Not saved yet" in page.locator("main").inner_text()
    assert page.locator("#id_volume_after_ml").input_value() == "999"
    assert page.locator("#id_notes").input_value() == "Walk in the pool"
    assert page.locator("#id_flex_steps").input_value().strip() == "00:00 12\n07:00 14.5"  # kept, hidden
    assert page.locator("#id_flex_steps").is_hidden()
    shots(page, f"{width}-refill-form-refused-kept")
    _no_axe(page)
    context.close()

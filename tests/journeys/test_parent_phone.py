"""Journey 2: the parent, on a 390 px phone, sees the new alarm date and the booked refill on the
home card, opens the after-visit summary that a real Celery worker rendered, and switches to Spanish."""

import shutil
import subprocess
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from patients.family.templatetags import longdate
from pumps.models import Document
from pumps.services import refill_record
from tests.alerts.processes import wait_until
from tests.journeys.conftest import sign_in

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PROGRAM = {
    "concentration_mcg_ml": Decimal(1000),
    "concentration_reason": "",
    "mode": "simple",
    "daily_dose_mcg": Decimal(400),
    "flex_steps": [],
    "bolus_mcg": Decimal(0),
    "bolus_max_per_day": 0,
    "alarm_volume_ml": Decimal("2.0"),
}


def nurse_records_the_refill(scene):
    """What journey 1 does in the console, through the same service the form calls."""
    now = timezone.localtime().replace(second=0, microsecond=0)
    return refill_record(
        pump=scene.pump,
        by=scene.nurse,
        visit_at=now,
        volume_after_ml=Decimal(19),
        program=PROGRAM,
        next_appointment_at=(now + timedelta(days=30)).replace(hour=10, minute=0),
        pre_concentration_mcg_ml=Decimal(1000),
        pre_mode="simple",
        pre_daily_dose_mcg=Decimal(300),
        expected_residual_ml=Decimal("4.0"),
        actual_residual_ml=Decimal("4.2"),
        volume_instilled_ml=Decimal("14.8"),
        dose_change_reason="More tone in the legs at night",
        dose_change_confirmed=True,
    )


def test_parent_sees_new_dates_opens_the_summary_and_switches_to_spanish(
    live_server, scene, celery_worker, phone, shots
):
    visit = nurse_records_the_refill(scene)
    summaries = Document.objects.filter(visit=visit, kind="visit_summary")
    assert wait_until(summaries.exists, timeout=90), celery_worker.log.read_text()[-3000:]

    page = phone
    sign_in(page, live_server.url, scene.parent.email, shots=shots)
    page.wait_for_url("**/family/")
    card = page.locator("article.child-card").first
    alarm_day = longdate(timezone.localtime(visit.alarm_at_worst))
    booked = scene.child.appointments.get(kind="refill")
    assert alarm_day in card.inner_text()
    assert longdate(timezone.localtime(booked.start)) in card.inner_text()
    shots(page, "home-card")

    card.get_by_role("link", name="Mia: dose, pump and visits").click()
    page.wait_for_url(f"**/family/children/{scene.child.pk}/")
    link = page.get_by_role("link", name="After-visit summary (English)").first
    link.scroll_into_view_if_needed()
    shots(page, "child-page")
    response = page.request.get(live_server.url + link.get_attribute("href"))
    assert response.ok and response.headers["content-type"] == "application/pdf"
    pdf = shots.folder / f"{shots.count + 1:02d}-after-visit-summary.pdf"
    pdf.write_bytes(response.body())
    assert pdf.read_bytes().startswith(b"%PDF-")
    if shutil.which("pdftoppm"):
        subprocess.run(
            [
                "pdftoppm",
                "-png",
                "-r",
                "70",
                "-f",
                "1",
                "-l",
                "1",
                "-singlefile",
                str(pdf),
                str(pdf.with_suffix("")),
            ],
            check=True,
        )
    shots.count += 1

    page.get_by_role("button", name="Español").click()
    page.wait_for_load_state()
    page.get_by_role("heading", name="Mia").first.wait_for()
    assert page.locator("html").get_attribute("lang") == "es"
    body = page.locator("body").inner_text()
    assert "Fecha de alarma de la bomba" in body and "Pump alarm date" not in body
    shots(page, "spanish")

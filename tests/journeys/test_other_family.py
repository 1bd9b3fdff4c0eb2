"""Journey 4: a parent of another family types the first family's URLs (child page, summary
download, document list, emergency card, calendar) and sees nothing of them: 404 pages, no name."""

import pytest

from pumps.documents import visit_summary_store
from pumps.models import RefillVisit
from tests.journeys.conftest import sign_in

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_another_family_sees_nothing_of_the_first_family(live_server, scene, phone, shots):
    mia = scene.child
    [summary, *_] = visit_summary_store(visit=RefillVisit.objects.filter(pump=scene.pump).latest("visit_at"))
    ana = scene.parent.caregiver
    page = phone
    sign_in(page, live_server.url, scene.other_parent.email)
    page.wait_for_url("**/family/")
    assert "Noah" in page.locator("main").inner_text() and "Mia" not in page.content()
    shots(page, "own-home")

    first_family = {
        "child-page": f"/family/children/{mia.pk}/",
        "summary-download": f"/documents/{summary.pk}/",
        "document-list": f"/documents/patient/{mia.pk}/",
        "emergency-card": f"/documents/card/{mia.pk}/",
        "emergency-card-pdf": f"/documents/card/{mia.pk}/pdf/",
        "calendar-guessed": f"/family/calendar/{ana.pk}.ics",
        "calendar-mangled": f"/family/calendar/{ana.calendar_token[:-1]}x.ics",
    }
    for step, path in first_family.items():
        response = page.goto(live_server.url + path)
        assert response.status == 404, (path, response.status)
        html = page.content()
        for secret in ("Mia", "Rivera", mia.mrn, "Ana"):
            assert secret not in html, (path, secret)
        assert "application/pdf" not in response.headers.get("content-type", "")
        shots(page, step)

    page.goto(live_server.url + "/family/calendar/")
    own_feed = page.request.get(page.locator("#feed-url").input_value())
    assert own_feed.ok and "BEGIN:VCALENDAR" in own_feed.text()
    assert "Mia" not in own_feed.text() and "Rivera" not in own_feed.text()

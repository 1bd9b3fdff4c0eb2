"""Issue 15: the nurse writes notes for the family and private notes apart; the after-visit
summary prints only the first, and the form says which is which."""

from django.urls import reverse

from pumps.documents import visit_summary_store
from pumps.models import RefillVisit
from tests.console.test_refill import _data
from tests.documents.conftest import pdf_text
from tests.factories import CaregiverLinkFactory

FAMILY = "Walk in the pool twice a week"
PRIVATE = "Mother worried about the cost of parking"


def test_the_form_says_which_note_the_family_sees(nurse_client, child):
    page = nurse_client.get(reverse("staff:visit", args=[child.pk, "refill"])).content.decode()
    assert "Notes for the family" in page and "Printed on the after-visit summary" in page
    assert "Private notes (staff only)" in page and "never printed or shown to the family" in page


def test_the_summary_prints_the_family_note_only_and_the_chart_shows_both(nurse_client, child):
    CaregiverLinkFactory(patient=child)
    response = nurse_client.post(
        reverse("staff:visit", args=[child.pk, "refill"]), _data(notes=FAMILY, private_notes=PRIVATE)
    )
    assert response.status_code == 302
    visit = RefillVisit.objects.order_by("-pk").first()
    assert (visit.notes, visit.private_notes) == (FAMILY, PRIVATE)
    [document] = visit_summary_store(visit=visit)
    text = " ".join(pdf_text(document.file.read()).split())
    assert FAMILY in text
    assert PRIVATE not in text and "Mother worried" not in text
    chart = nurse_client.get(reverse("staff:chart", args=[child.pk])).content.decode()
    assert FAMILY in chart and PRIVATE in chart and "Private (staff only)" in chart

"""Downloads: only the family's own children, never cached, always audited."""

import pytest
from django.urls import reverse

from patients.models import AuditEvent
from pumps.documents import visit_summary_store
from pumps.models import Document
from tests.documents.conftest import pdf_text
from tests.helpers import login_as


@pytest.fixture
def summary(dose_change_visit, parent):
    return visit_summary_store(visit=dose_change_visit)[0]


def test_parent_downloads_own_childs_summary_inline_without_caching(parent_client, summary, parent):
    response = parent_client.get(reverse("documents:summary", args=[summary.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'inline; filename="after-visit-summary-2026-11-13-en-v1.pdf"'
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    assert "Sunday, Jan. 3, 2027" in pdf_text(b"".join(response.streaming_content))
    event = AuditEvent.objects.get(action="document.downloaded")
    assert (event.actor, event.object_id, event.patient_id) == (parent, str(summary.pk), summary.patient_id)
    assert event.object_type == "pumps.document" and event.ip_address == "127.0.0.1"


def test_another_family_gets_404_and_nothing_is_served(client, summary, other_parent):
    response = login_as(client, other_parent).get(reverse("documents:summary", args=[summary.pk]))
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(action="document.downloaded").exists()


def test_nurse_of_the_clinic_may_download_but_another_clinic_gets_404(client, summary, nurse, other_nurse):
    url = reverse("documents:summary", args=[summary.pk])
    assert login_as(client, nurse).get(url).status_code == 200
    assert login_as(client, other_nurse).get(url).status_code == 404


def test_anonymous_visitor_is_sent_to_sign_in(client, summary):
    response = client.get(reverse("documents:summary", args=[summary.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_media_is_not_served_by_url(client, summary, parent):
    assert not summary.file.url.startswith("http")
    response = login_as(client, parent).get("/" + summary.file.name)
    assert response.status_code == 404


def test_nurse_regenerates_a_summary_and_every_version_is_kept(nurse_client, dose_change_visit, parent):
    url = reverse("documents:regenerate", args=[dose_change_visit.pk])
    assert nurse_client.post(url).status_code == 302
    dose_change_visit.notes = "Seen with dad."
    dose_change_visit.save()
    assert nurse_client.post(url).status_code == 302
    versions = list(Document.objects.filter(visit=dose_change_visit).values_list("version", flat=True))
    assert sorted(versions) == [1, 2]
    assert AuditEvent.objects.filter(action="document.regenerated").count() == 2


def test_regenerate_is_post_only_staff_only_and_scoped(client, dose_change_visit, parent, other_nurse, nurse):
    url = reverse("documents:regenerate", args=[dose_change_visit.pk])
    assert login_as(client, nurse).get(url).status_code == 405
    assert login_as(client, parent).post(url).status_code == 403
    assert login_as(client, other_nurse).post(url).status_code == 404
    assert not Document.objects.exists()


def test_summary_list_shows_own_childs_versions_only(parent_client, summary, other_child):
    page = parent_client.get(reverse("documents:list", args=[summary.patient_id]))
    assert page.status_code == 200
    assert reverse("documents:summary", args=[summary.pk]) in page.content.decode()
    assert parent_client.get(reverse("documents:list", args=[other_child.pk])).status_code == 404


def test_summary_list_queries_do_not_grow_with_versions(
    parent_client, summary, dose_change_visit, django_assert_max_num_queries
):
    for note in ("a", "b", "c"):
        dose_change_visit.notes = note
        dose_change_visit.save()
        visit_summary_store(visit=dose_change_visit)
    parent_client.get(reverse("documents:list", args=[summary.patient_id]))  # not counted: stores the frame
    with django_assert_max_num_queries(8):
        parent_client.get(reverse("documents:list", args=[summary.patient_id]))


def test_a_missing_file_answers_404_and_is_audited(parent_client, summary):
    summary.file.delete(save=False)
    response = parent_client.get(reverse("documents:summary", args=[summary.pk]))
    assert response.status_code == 404
    assert AuditEvent.objects.get(action="document.downloaded").outcome == "missing"

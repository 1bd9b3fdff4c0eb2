"""Who may read a child's FHIR record: the clinic's nurses (as on the chart) and the clinic's
API tokens; never another clinic; every use audited."""

import json

import pytest
from django.urls import reverse
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle

from patients import api_tokens, audit
from patients.models import AuditEvent, ClinicApiToken
from tests.factories import StaffFactory
from tests.helpers import login_as

pytestmark = pytest.mark.django_db


def _everything(child):
    return reverse("fhir:everything", args=[child.pk])


@pytest.fixture
def admin_user(clinic):
    return StaffFactory(clinic=clinic, role="clinic_admin").user


@pytest.fixture
def secret(clinic, admin_user):
    return api_tokens.token_create(clinic=clinic, by=admin_user, name="Hospital EHR").secret


def _bearer(secret):
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def test_a_nurse_reads_her_clinics_child_as_fhir_json_and_it_is_audited(nurse_client, nurse, child):
    response = nurse_client.get(_everything(child))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+json"
    result = Bundle.model_validate_json(response.content)
    assert result.type == "searchset" and result.total == 1
    assert result.entry[0].resource.id == str(child.pk)
    assert result.entry[0].search.mode == "match"
    row = AuditEvent.objects.get(action=audit.FHIR_READ)
    assert (row.actor, row.patient_id, row.outcome) == (nurse, child.pk, "ok")


def test_the_charts_button_downloads_a_collection_bundle(nurse_client, child):
    chart = nurse_client.get(reverse("staff:chart", args=[child.pk])).content.decode()
    url = reverse("fhir:collection", args=[child.pk])
    assert f'href="{url}"' in chart
    response = nurse_client.get(url)
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    assert Bundle.model_validate_json(response.content).type == "collection"


def test_another_clinics_nurse_gets_404_and_the_refusal_is_audited(client, other_nurse, child):
    login_as(client, other_nurse)
    for name in ("fhir:everything", "fhir:collection"):
        response = client.get(reverse(name, args=[child.pk]))
        assert response.status_code == 404
        assert json.loads(response.content)["resourceType"] == "OperationOutcome"
    assert AuditEvent.objects.filter(action=audit.FHIR_READ, outcome="missing").count() == 2
    assert not AuditEvent.objects.filter(action=audit.FHIR_READ, outcome="ok").exists()


def test_a_parent_and_an_anonymous_visitor_are_kept_out(client, parent_client, child):
    assert parent_client.get(_everything(child)).status_code == 403
    client.logout()
    response = client.get(_everything(child))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_token_is_stored_hashed_and_reads_its_clinics_child(client, child, secret):
    token = ClinicApiToken.objects.get()
    assert secret not in (token.token_hash, token.prefix) and token.token_hash == api_tokens.digest(secret)
    response = client.get(_everything(child), **_bearer(secret))
    assert response.status_code == 200
    assert Bundle.model_validate_json(response.content).entry[0].resource.id == str(child.pk)
    row = AuditEvent.objects.get(action=audit.FHIR_READ)
    assert row.actor is None and row.actor_label == f"api-token {token.pk} {token.prefix}"
    assert row.patient_id == child.pk


def test_a_token_never_reaches_another_clinic(client, child_in_other_clinic, secret):
    response = client.get(_everything(child_in_other_clinic), **_bearer(secret))
    assert response.status_code == 404
    assert AuditEvent.objects.get(action=audit.FHIR_READ).outcome == "missing"
    lines = client.get(reverse("fhir:export"), **_bearer(secret)).getvalue().decode().splitlines()
    patients = [json.loads(line) for line in lines if '"resourceType":"Patient"' in line]
    assert str(child_in_other_clinic.pk) not in {p["id"] for p in patients}


def test_a_revoked_or_unknown_token_gets_401_and_each_refusal_is_audited(client, child, secret, admin_user):
    token = ClinicApiToken.objects.get()
    assert api_tokens.token_revoke(token=token, by=admin_user) is True
    assert api_tokens.token_revoke(token=token, by=admin_user) is False  # once
    for headers in (_bearer(secret), _bearer("itb_nonsense"), {"HTTP_AUTHORIZATION": "Basic abc"}):
        response = client.get(_everything(child), **headers)
        assert response.status_code == 401
        assert response["WWW-Authenticate"].startswith("Bearer")
    assert AuditEvent.objects.filter(action=audit.API_TOKEN_REFUSED, outcome="refused").count() == 2
    assert AuditEvent.objects.filter(action=audit.API_TOKEN_REVOKED).count() == 1
    assert not AuditEvent.objects.filter(action=audit.FHIR_READ).exists()


def test_a_clinic_admin_creates_and_revokes_tokens_on_the_page(client, admin_user, clinic, child):
    login_as(client, admin_user)
    page = client.post(reverse("fhir:tokens"), {"name": "Epic"}).content.decode()
    token = ClinicApiToken.objects.get(clinic=clinic)
    secret = page.split('user-select-all d-block text-break">')[1].split("<")[0]
    assert api_tokens.digest(secret) == token.token_hash
    assert secret not in client.get(reverse("fhir:tokens")).content.decode()  # shown once
    assert client.get(_everything(child), **_bearer(secret)).status_code == 200
    assert client.post(reverse("fhir:token_revoke", args=[token.pk])).status_code == 302
    client.logout()
    assert client.get(_everything(child), **_bearer(secret)).status_code == 401
    assert AuditEvent.objects.filter(action=audit.API_TOKEN_CREATED, actor=admin_user).count() == 1


def test_a_blank_token_name_is_refused_in_plain_words(client, admin_user):
    login_as(client, admin_user)
    response = client.post(reverse("fhir:tokens"), {"name": "  "})
    assert response.status_code == 400
    assert "Give the token a name" in response.content.decode()
    assert not ClinicApiToken.objects.exists()


def test_only_a_clinic_admin_of_that_clinic_manages_tokens(client, nurse_client, other_clinic, secret):
    assert nurse_client.get(reverse("fhir:tokens")).status_code == 403
    other_admin = StaffFactory(clinic=other_clinic, role="clinic_admin").user
    login_as(client, other_admin)
    token = ClinicApiToken.objects.get()
    assert client.post(reverse("fhir:token_revoke", args=[token.pk])).status_code == 404
    assert "Hospital EHR" not in client.get(reverse("fhir:tokens")).content.decode()
    token.refresh_from_db()
    assert token.is_active


def test_the_bulk_export_streams_every_child_of_the_clinic_as_valid_ndjson(
    client, child, other_child, child_in_other_clinic, secret
):
    response = client.get(reverse("fhir:export"), **_bearer(secret))
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "application/fhir+ndjson"
    lines = response.getvalue().decode().splitlines()
    resources = [json.loads(line) for line in lines]
    for resource in resources:
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    patient_ids = [r["id"] for r in resources if r["resourceType"] == "Patient"]
    assert sorted(patient_ids) == sorted([str(child.pk), str(other_child.pk)])
    assert AuditEvent.objects.filter(action=audit.FHIR_BULK_EXPORTED).count() == 1
    only = (
        client.get(reverse("fhir:export") + "?_type=Device", **_bearer(secret))
        .getvalue()
        .decode()
        .splitlines()
    )
    assert len(only) == 2 and all('"resourceType":"Device"' in line for line in only)


def test_a_hostile_id_is_a_plain_404_not_an_error(nurse_client):
    assert nurse_client.get("/fhir/Patient/100000000000000000000000000000/$everything").status_code == 404
    assert nurse_client.get("/fhir/Patient/9223372036854775807/$everything").status_code == 404


def test_the_bulk_export_by_token_is_audited_under_the_tokens_name(client, child, secret):
    client.get(reverse("fhir:export"), **_bearer(secret)).getvalue()
    token = ClinicApiToken.objects.get()
    row = AuditEvent.objects.get(action=audit.FHIR_BULK_EXPORTED)
    assert row.actor_label == api_tokens.token_label(token)
    assert (row.object_type, row.object_id) == ("patients.clinic", str(token.clinic_id))

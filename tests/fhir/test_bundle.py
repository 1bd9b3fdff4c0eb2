"""The FHIR export of one child: every resource type validates with fhir.resources, the bundle
survives a round trip through the library, and the values are the portal's own."""

import json
from decimal import Decimal

import pytest
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle

from patients.fhir.bundle import (
    BACLOFEN_RXCUI,
    RXNORM,
    SNOMED,
    UCUM,
    bundle,
    child_resources,
    export_queryset,
)
from patients.models import Clinic, Patient

BASE = "https://portal.test"
TYPES = {
    "Patient",
    "RelatedPerson",
    "Device",
    "MedicationRequest",
    "Procedure",
    "Observation",
    "Appointment",
    "DocumentReference",
    "Flag",
}


def _bundle(patient, now):
    patient = export_queryset(Patient.objects.filter(pk=patient.pk)).get()
    return bundle(child_resources(patient, base_url=BASE), base_url=BASE, now=now)


def _of(data: dict, kind: str) -> list[dict]:
    return [e["resource"] for e in data["entry"] if e["resource"]["resourceType"] == kind]


@pytest.mark.django_db
def test_every_resource_type_validates_on_its_own(full_child, pinned):
    data = json.loads(_bundle(full_child, pinned).model_dump_json())
    seen = set()
    for entry in data["entry"]:
        kind = entry["resource"]["resourceType"]
        seen.add(kind)
        # Validated again from plain JSON by the library's own class for that type.
        model = get_fhir_model_class(kind).model_validate(entry["resource"])
        assert model.id == entry["resource"]["id"]
        assert entry["fullUrl"] == f"{BASE}/fhir/{kind}/{model.id}"
    assert seen == TYPES


@pytest.mark.django_db
def test_the_bundle_round_trips_through_the_library_with_every_value(full_child, pinned):
    original = _bundle(full_child, pinned)
    text = original.model_dump_json()
    again = Bundle.model_validate_json(text)
    assert again == original
    assert again.model_dump_json() == text
    assert json.loads(text) == json.loads(Bundle.model_validate(json.loads(text)).model_dump_json())


@pytest.mark.django_db
def test_the_values_are_the_portals(full_child, pinned):
    data = json.loads(_bundle(full_child, pinned).model_dump_json())
    assert data["type"] == "collection"
    [patient] = _of(data, "Patient")
    assert patient["identifier"][0]["value"] == "MRN-77"
    assert patient["name"][0] == {"use": "official", "family": "Reyes", "given": ["Sofia"]}
    assert patient["birthDate"] == full_child.date_of_birth.isoformat()

    devices = {d["serialNumber"]: d for d in _of(data, "Device")}
    assert devices["OLD001"]["status"] == "inactive"
    active = devices["NGP123456"]
    assert active["status"] == "active" and active["modelNumber"] == "8637-40"
    ext = {e["url"].rsplit("/", 1)[1]: e for e in active["extension"]}
    assert ext["implant-date"]["valueDate"] == "2024-01-10"
    assert "eri-reported-date" in ext and "battery-replace-by" in ext
    battery = [p for p in active["property"] if p["type"]["coding"][0]["code"] == "battery-state"][0]
    # The state is the stored assessment's: an ERI concern is open for this pump.
    assert battery["valueCode"][0]["coding"][0]["code"] == "eri"

    requests = _of(data, "MedicationRequest")
    assert len(requests) == 3  # one per program version, across both pumps
    assert [r["status"] for r in requests].count("active") == 1
    flex = [r for r in requests if r["status"] == "active"][0]
    medication = flex["contained"][0]
    assert medication["code"]["coding"][0] == {
        "system": RXNORM,
        "code": BACLOFEN_RXCUI,
        "display": "baclofen",
    }
    strength = medication["ingredient"][0]["strength"]
    assert strength["numerator"] == {"value": 2000.0, "unit": "mcg", "system": UCUM, "code": "ug"}
    assert strength["denominator"]["value"] == 1.0 and strength["denominator"]["code"] == "mL"
    daily, morning, evening, bolus = flex["dosageInstruction"]
    assert daily["route"]["coding"][0]["system"] == SNOMED
    assert daily["doseAndRate"][0]["doseQuantity"]["value"] == 312.0
    assert morning["timing"]["repeat"]["timeOfDay"] == ["07:00:00"]
    assert morning["doseAndRate"][0]["rateQuantity"] == {
        "value": 14.0,
        "unit": "mcg/h",
        "system": UCUM,
        "code": "ug/h",
    }
    assert evening["timing"]["repeat"]["timeOfDay"] == ["21:00:00"]
    assert bolus["asNeededBoolean"] is True and bolus["maxDosePerPeriod"]["numerator"]["value"] == 50.0
    assert flex["note"][0]["text"] == "More tone in the mornings."

    procedures = _of(data, "Procedure")
    assert sorted(p["code"]["coding"][0]["code"] for p in procedures) == ["programming", "refill", "refill"]
    observations = {
        o["code"]["coding"][0]["code"]: o
        for o in _of(data, "Observation")
        if o["device"]["reference"] == f"Device/{full_child.pumps.get(serial_number='NGP123456').pk}"
    }
    assert observations["residual-expected"]["valueQuantity"]["value"] == 3.1
    assert observations["residual-aspirated"]["valueQuantity"]["value"] == 2.95
    assert observations["volume-filled"]["valueQuantity"] == {
        "value": 37.0,
        "unit": "mL",
        "system": UCUM,
        "code": "mL",
    }
    assert observations["residual-expected"]["partOf"][0]["reference"].startswith("Procedure/")

    appointments = {a["status"]: a for a in _of(data, "Appointment")}
    assert set(appointments) == {"booked", "noshow"}
    assert appointments["booked"]["participant"][0]["status"] == "accepted"

    documents = _of(data, "DocumentReference")
    assert sorted(d["status"] for d in documents) == ["current", "superseded"]
    assert all(d["content"][0]["attachment"]["url"].startswith(f"{BASE}/documents/") for d in documents)

    flags = _of(data, "Flag")
    open_kinds = set(full_child.concerns.filter(resolved_at__isnull=True).values_list("kind", flat=True))
    assert flags and {f["code"]["coding"][0]["code"] for f in flags} == open_kinds


@pytest.mark.django_db
def test_caregiver_contact_goes_out_only_when_the_clinic_allows(full_child, pinned):
    def related():
        return _of(json.loads(_bundle(full_child, pinned).model_dump_json()), "RelatedPerson")

    people = related()
    assert len(people) == 2
    assert all("telecom" not in p for p in people)
    codes = sorted(p["relationship"][0]["coding"][0]["code"] for p in people)
    assert codes == ["MTH", "foster"]
    Clinic.objects.filter(pk=full_child.clinic_id).update(fhir_shares_caregiver_contact=True)
    people = related()
    assert all(any(t["system"] == "email" for t in p["telecom"]) for p in people)


@pytest.mark.django_db
def test_a_child_with_no_pump_is_a_patient_alone(clinic, pinned):
    from tests.factories import PatientFactory

    child = PatientFactory(clinic=clinic)
    data = json.loads(_bundle(child, pinned).model_dump_json())
    assert [e["resource"]["resourceType"] for e in data["entry"]] == ["Patient"]


def test_the_library_refuses_what_is_not_fhir():
    """What "validated on construction" means here: a missing required element or a value of the
    wrong type is refused (the library does not check codes against their value sets)."""
    from pydantic import ValidationError

    observation = get_fhir_model_class("Observation")
    with pytest.raises(ValidationError):
        observation(status="final")  # no code
    with pytest.raises(ValidationError):
        observation(status="final", code={"text": "x"}, valueQuantity={"value": "two mL"})
    with pytest.raises(ValidationError):
        observation(status="final", code={"text": "x"}, effectiveDateTime="last Tuesday")
    assert observation(status="final", code={"text": "x"}, valueQuantity={"value": Decimal("1.5")})


def test_the_documented_example_is_a_valid_bundle_of_every_type():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "fhir-example-bundle.json").read_text()
    example = Bundle.model_validate_json(text)
    assert {e.resource.get_resource_type() for e in example.entry} == TYPES

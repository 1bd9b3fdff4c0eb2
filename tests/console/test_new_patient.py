"""Registering a child after implant: patient, pump, first program and fill in one go."""

import pytest
from django.urls import reverse
from django.utils import timezone

from patients.models import Patient
from pumps.models import Pump, RefillVisit

pytestmark = pytest.mark.django_db


def _data(**over):
    data = {
        "first_name": "Nora",
        "last_name": "Vega",
        "date_of_birth": "2018-04-02",
        "mrn": "NEW-1",
        "model": "sm2_40",
        "serial_number": "NGP999",
        "implant_date": timezone.localdate().isoformat(),
        "fill-visit_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "fill-volume_after_ml": "38",
        "fill-concentration_mcg_ml": "500",
        "fill-mode": "simple",
        "fill-daily_dose_mcg": "100",
        "fill-alarm_volume_ml": "2.0",
        "fill-bridge_bolus_ml": "0",
        "fill-bolus_mcg": "0",
        "fill-bolus_max_per_day": "0",
    }
    data.update(over)
    return data


def test_register_creates_patient_pump_and_implant_visit(nurse_client, clinic):
    response = nurse_client.post(reverse("staff:patient_new"), _data())
    patient = Patient.objects.get(mrn="NEW-1")
    assert response["Location"] == reverse("staff:chart", args=[patient.pk])
    assert patient.clinic == clinic
    visit = RefillVisit.objects.get(pump__patient=patient)
    assert visit.kind == "implant" and visit.program.daily_dose_mcg == 100


def test_overfilling_the_new_pump_refuses_and_saves_nothing(nurse_client):
    response = nurse_client.post(
        reverse("staff:patient_new"), _data(model="sm2_20", **{"fill-volume_after_ml": "38"})
    )
    assert "Never overfill" in response.content.decode()
    assert (
        not Patient.objects.filter(mrn="NEW-1").exists()
        and not Pump.objects.filter(serial_number="NGP999").exists()
    )


def test_a_duplicate_record_number_is_refused(nurse_client, child):
    response = nurse_client.post(reverse("staff:patient_new"), _data(mrn=child.mrn))
    assert "already registered" in response.content.decode()


def test_the_first_fill_is_previewed_before_anything_is_saved(nurse_client):
    body = nurse_client.post(reverse("staff:patient_new_preview"), _data()).json()
    assert body["ok"] and "Refill due" in body["html"]
    assert not Patient.objects.filter(mrn="NEW-1").exists()


def test_the_preview_uses_the_chosen_pump_size_before_the_rest_is_typed(nurse_client):
    data = _data(first_name="", **{"fill-volume_after_ml": "38"})
    body = nurse_client.post(reverse("staff:patient_new_preview"), data).json()
    assert body["ok"] and "Never overfill" not in body["html"]

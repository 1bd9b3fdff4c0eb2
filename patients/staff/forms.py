"""Staff forms for people: a new patient with the pump, inviting and linking caregivers."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from phonenumber_field.formfields import PhoneNumberField

from patients.models import CaregiverLink, Language, Patient
from patients.staff.appointment_forms import VISIT_AHEAD, not_too_far_ahead
from pumps.models import Pump, PumpModel

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class NewPatientForm(forms.Form):
    first_name = forms.CharField(label="First name", max_length=100)
    last_name = forms.CharField(label="Last name", max_length=100)
    date_of_birth = forms.DateField(label="Date of birth", widget=DATE_WIDGET)
    mrn = forms.CharField(label="Medical record number", max_length=32)
    model = forms.ChoiceField(
        label="Pump model", choices=PumpModel.choices, initial=PumpModel.SYNCHROMED_II_20
    )
    capacity_ml_other = forms.DecimalField(
        label="Reservoir size (mL), other models only", required=False, max_digits=5, decimal_places=1
    )
    serial_number = forms.CharField(label="Pump serial number", max_length=40)
    implant_date = forms.DateField(label="Implant date", widget=DATE_WIDGET)

    def __init__(self, *args, clinic, **kwargs):
        self.clinic = clinic
        super().__init__(*args, **kwargs)

    def clean_mrn(self):
        mrn = self.cleaned_data["mrn"].strip()
        if Patient.objects.filter(clinic=self.clinic, mrn__iexact=mrn).exists():
            raise forms.ValidationError("A child with this record number is already registered.")
        return mrn

    def clean_implant_date(self):
        return not_too_far_ahead(self.cleaned_data["implant_date"], ahead=VISIT_AHEAD, what="An implant")

    def clean_date_of_birth(self):
        return not_too_far_ahead(self.cleaned_data["date_of_birth"], ahead=timedelta(0), what="A birth date")

    def clean(self):
        data = super().clean()
        if data.get("model") == PumpModel.OTHER and not data.get("capacity_ml_other"):
            self.add_error("capacity_ml_other", "Give the reservoir size for this pump model.")
        return data

    def pump_draft(self) -> Pump:
        """An unsaved pump, so the first fill can be checked against its reservoir size."""
        if self.is_bound:
            self.is_valid()  # fills cleaned_data with the fields valid so far (the name may come later)
        data = getattr(self, "cleaned_data", {})
        patient = Patient(clinic=self.clinic)
        return Pump(
            patient=patient,
            model=data.get("model", PumpModel.SYNCHROMED_II_20),
            capacity_ml_other=data.get("capacity_ml_other"),
            serial_number=data.get("serial_number", ""),
            implant_date=data.get("implant_date"),
        )

    def patient_fields(self) -> dict:
        return {k: self.cleaned_data[k] for k in ("first_name", "last_name", "date_of_birth", "mrn")}

    def pump_fields(self) -> dict:
        return {
            k: self.cleaned_data[k] for k in ("model", "capacity_ml_other", "serial_number", "implant_date")
        }


class InviteForm(forms.Form):
    email = forms.EmailField(label="Parent's e-mail address")
    first_name = forms.CharField(label="First name", max_length=150)
    last_name = forms.CharField(label="Last name", max_length=150)
    relationship = forms.ChoiceField(label="Relationship", choices=CaregiverLink.Relationship.choices)
    primary_contact = forms.BooleanField(label="Primary contact", required=False)
    preferred_language = forms.ChoiceField(label="Language", choices=Language.choices)
    mobile = PhoneNumberField(label="Mobile number (optional)", required=False, region="US")


class LinkExistingForm(forms.Form):
    email = forms.EmailField(label="E-mail of the parent's existing account")
    relationship = forms.ChoiceField(label="Relationship", choices=CaregiverLink.Relationship.choices)
    primary_contact = forms.BooleanField(label="Primary contact", required=False)


class MobileConsentForm(forms.Form):
    mobile = PhoneNumberField(label="Mobile number", required=False, region="US")
    consent = forms.ChoiceField(
        label="Text messages",
        choices=[
            ("given", "The parent agreed to text reminders"),
            ("withdrawn", "The parent does not want texts"),
        ],
        widget=forms.RadioSelect,
    )

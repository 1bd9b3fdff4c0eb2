"""Staff forms for booking and moving appointments. Times are in the clinic's time zone."""

from __future__ import annotations

from django import forms

from .models import Appointment

DT_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class AppointmentForm(forms.Form):
    kind = forms.ChoiceField(label="Kind", choices=Appointment.Kind.choices, initial=Appointment.Kind.REFILL)
    start = forms.DateTimeField(label="Date and time", widget=DT_WIDGET)
    duration_minutes = forms.IntegerField(label="Minutes", min_value=5, max_value=600, initial=30)
    location = forms.CharField(label="Location", required=False)
    notes = forms.CharField(label="Notes", required=False)
    after_alarm_reason = forms.CharField(
        label="Reason, if after the alarm date",
        required=False,
        help_text="Only needed when a refill cannot be booked before the pump's alarm date.",
    )


class RescheduleForm(forms.Form):
    start = forms.DateTimeField(label="New date and time", widget=DT_WIDGET)
    after_alarm_reason = forms.CharField(label="Reason, if after the alarm date", required=False)

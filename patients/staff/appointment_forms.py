"""Staff forms for booking and moving appointments. Times are in the clinic's time zone."""

from __future__ import annotations

from django import forms

from appointments.models import Appointment

DT_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def hours_confirmation_field() -> forms.BooleanField:
    """The tick a nurse gives to book on a closed day or outside hours. Hidden until the
    service says the time needs it (see `ask_hours_confirmation`), so it is never pre-ticked."""
    return forms.BooleanField(
        label="Book it anyway: I know the clinic is closed then",
        required=False,
        widget=forms.HiddenInput,
    )


def ask_hours_confirmation(form: forms.Form, name: str, message: str) -> None:
    """Show the tick box with the message beside it; everything typed stays in the form."""
    form.fields[name].widget = forms.CheckboxInput()
    form.add_error(name, message)


def add_service_error(form: forms.Form, error, default: str | None) -> None:
    """Put an AppointmentError next to the field it names (the tick box for hours)."""
    from appointments.services import HOURS_CONFIRM_FIELD

    field = getattr(error, "field", None)
    if field == HOURS_CONFIRM_FIELD and field in form.fields:
        ask_hours_confirmation(form, field, str(error))
        return
    field = field or default
    form.add_error(field if field in form.fields else None, str(error))


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
    outside_hours_confirmed = hours_confirmation_field()


class RescheduleForm(forms.Form):
    start = forms.DateTimeField(label="New date and time", widget=DT_WIDGET)
    after_alarm_reason = forms.CharField(label="Reason, if after the alarm date", required=False)
    outside_hours_confirmed = hours_confirmation_field()

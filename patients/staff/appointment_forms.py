"""Staff forms for booking and moving appointments. Times are in the clinic's time zone."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django import forms
from django.utils import timezone

from appointments.models import Appointment

DT_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
# How far ahead a date typed into a staff form may be: a visit (or an implant) within a year, an
# appointment within two. Beyond, it is a typing slip (9999-12-31), refused in plain words.
VISIT_AHEAD = timedelta(days=366)
APPOINTMENT_AHEAD = timedelta(days=2 * 366)


def not_too_far_ahead(value, *, ahead: timedelta, what: str, now: datetime | None = None):
    """The form's value, or a ValidationError naming the last date allowed."""
    if value is None:
        return value
    now = now or timezone.now()
    latest = (now + ahead).date() if isinstance(value, datetime) else timezone.localdate(now) + ahead
    day = timezone.localtime(value).date() if isinstance(value, datetime) else value
    if isinstance(value, date) and day > latest:
        if ahead < timedelta(days=2):
            raise forms.ValidationError(f"{what} cannot be in the future. Check the year.")
        years = "a year" if ahead <= VISIT_AHEAD else "two years"
        raise forms.ValidationError(
            f"{what} cannot be more than {years} ahead (the latest is {latest:%d %b %Y}). Check the year."
        )
    return value


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
    location = forms.CharField(label="Location", required=False, max_length=200)
    notes = forms.CharField(label="Notes", required=False, max_length=2000)
    after_alarm_reason = forms.CharField(
        label="Reason, if after the alarm date",
        required=False,
        max_length=300,
        help_text="Only needed when a refill cannot be booked before the pump's alarm date.",
    )
    outside_hours_confirmed = hours_confirmation_field()

    def clean_start(self):
        return not_too_far_ahead(self.cleaned_data["start"], ahead=APPOINTMENT_AHEAD, what="An appointment")


class RescheduleForm(forms.Form):
    start = forms.DateTimeField(label="New date and time", widget=DT_WIDGET)
    after_alarm_reason = forms.CharField(
        label="Reason, if after the alarm date", required=False, max_length=300
    )
    outside_hours_confirmed = hours_confirmation_field()

    def clean_start(self):
        return not_too_far_ahead(self.cleaned_data["start"], ahead=APPOINTMENT_AHEAD, what="An appointment")

"""`{% clinic_call clinic as call %}`: the number a family should call right now."""

from django import template

from patients.clinic_hours import CallNumber, call_number, clinic_calendar

register = template.Library()


@register.simple_tag(takes_context=True)
def clinic_call(context, clinic) -> CallNumber | None:
    """The clinic's business-hours number while it is open (its calendar, at the page's `now`
    or the current time), else the after-hours number; None without a clinic."""
    if clinic is None:
        return None
    # One read of the closed dates per clinic per request, however many cards show a button.
    request = context.get("request")
    calendars = getattr(request, "_clinic_calendars", {}) if request is not None else {}
    if clinic.pk not in calendars:
        calendars[clinic.pk] = clinic_calendar(clinic)
        if request is not None:
            request._clinic_calendars = calendars
    return call_number(clinic, now=context.get("now"), calendar=calendars[clinic.pk])

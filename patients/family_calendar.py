"""The parent's private calendar feed (iCalendar): appointments and each child's refill-due day.

It is the parent's own calendar, so a child is named by first name, and no drug or dose appears.
Times are in UTC, so every calendar app places them right without a VTIMEZONE.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from appointments.models import Appointment

from .family_cards import child_cards
from .models import Caregiver, Patient

UID_DOMAIN = "itbportal"


def _calendar() -> Calendar:
    cal = Calendar()
    cal.add("prodid", "-//ITB Portal//Family calendar//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", _("Pump refills"))
    return cal


def _appointment_event(appt: Appointment, now: datetime) -> Event:
    event = Event()
    event.add("uid", f"appointment-{appt.pk}@{UID_DOMAIN}")
    event.add("dtstamp", now)
    event.add("dtstart", appt.start.astimezone(UTC))
    event.add("dtend", appt.end.astimezone(UTC))
    event.add(
        "summary",
        _("%(name)s: %(kind)s") % {"name": appt.patient.first_name, "kind": appt.get_kind_display()},
    )
    if appt.location:
        event.add("location", appt.location)
    event.add("status", "CONFIRMED" if appt.status == Appointment.Status.CONFIRMED else "TENTATIVE")
    return event


def _refill_due_event(patient: Patient, due, now: datetime) -> Event:
    event = Event()
    # One UID per child: when the due date moves, the calendar moves the same event.
    event.add("uid", f"refill-due-patient-{patient.pk}@{UID_DOMAIN}")
    event.add("dtstamp", now)
    event.add("dtstart", due)
    event.add("dtend", due + timedelta(days=1))
    event.add("summary", _("%(name)s: pump refill due") % {"name": patient.first_name})
    event.add(
        "description",
        _("The pump must be refilled by this day. If no refill is booked, call the clinic."),
    )
    event.add("transp", "TRANSPARENT")
    return event


def feed(caregiver: Caregiver, *, now: datetime) -> bytes:
    patients = Patient.objects.visible_to(caregiver.user).active()
    appointments = (
        Appointment.objects.filter(patient__in=patients).open().select_related("patient").order_by("start")
    )
    now_utc = now.astimezone(UTC)
    with translation.override(caregiver.preferred_language or settings.LANGUAGE_CODE):
        cal = _calendar()
        for appt in appointments:
            cal.add_component(_appointment_event(appt, now_utc))
        for card in child_cards(patients, now=now):
            if card.refill_due is not None:
                cal.add_component(_refill_due_event(card.patient, card.refill_due, now_utc))
        return cal.to_ical()

"""The parent's private calendar feed (iCalendar): appointments, and each child's refill-due day
and pump alarm date as all-day events (one UID per child and kind: when a refill moves the dates,
the same events move; SEQUENCE follows the latest refill so strict calendar apps update).

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
from patients.family.cards import child_cards
from patients.models import Caregiver, Patient

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
        event.add("location", appt.patient.clinic.place_in(appt.location, translation.get_language()))
    event.add("status", "CONFIRMED" if appt.status == Appointment.Status.CONFIRMED else "TENTATIVE")
    return event


def _all_day_event(card, kind: str, day, summary: str, description: str, now: datetime) -> Event:
    event = Event()
    # One UID per child and kind: when the date moves, the calendar moves the same event.
    event.add("uid", f"{kind}-patient-{card.patient.pk}@{UID_DOMAIN}")
    event.add("dtstamp", now)
    event.add("dtstart", day)
    event.add("dtend", day + timedelta(days=1))
    event.add("summary", summary)
    event.add("description", description)
    event.add("transp", "TRANSPARENT")
    if card.visit is not None:
        event.add("sequence", card.visit.pk)
        event.add("last-modified", card.visit.visit_at.astimezone(UTC))
    return event


def _refill_due_event(card, now: datetime) -> Event:
    return _all_day_event(
        card,
        "refill-due",
        card.refill_due,
        _("%(name)s: pump refill due") % {"name": card.patient.first_name},
        _("The pump must be refilled by this day. If no refill is booked, call the clinic."),
        now,
    )


def _alarm_event(card, now: datetime) -> Event:
    return _all_day_event(
        card,
        "alarm",
        card.alarm_at.date(),
        _("%(name)s: pump alarm date") % {"name": card.patient.first_name},
        _("The earliest day the pump may beep. The refill must be done before this day."),
        now,
    )


def feed(caregiver: Caregiver, *, now: datetime) -> bytes:
    patients = Patient.objects.visible_to(caregiver.user).active()
    appointments = (
        Appointment.objects.filter(patient__in=patients)
        .open()
        .select_related("patient__clinic")
        .order_by("start")
    )
    now_utc = now.astimezone(UTC)
    with translation.override(caregiver.preferred_language or settings.LANGUAGE_CODE):
        cal = _calendar()
        for appt in appointments:
            cal.add_component(_appointment_event(appt, now_utc))
        for card in child_cards(patients, now=now):
            if card.refill_due is not None:
                cal.add_component(_refill_due_event(card, now_utc))
            if card.alarm_at is not None:
                cal.add_component(_alarm_event(card, now_utc))
        return cal.to_ical()

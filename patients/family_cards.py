"""What the parents' portal shows about each child: read once, in a constant number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from appointments.models import Appointment
from pumps.models import Document, Program, Pump, RefillVisit

from . import urgency as urg
from .models import Patient

LEVEL_ORDER = {urg.Level.CALL_TODAY: 0, urg.Level.BOOK_NOW: 1, urg.Level.PLENTY: 2}

# The card's headline, in the coloured band: one place for the words of each state.
HEADLINES = {
    urg.Reason.BOOKED: _("Refill booked: you are on time"),
    urg.Reason.NOT_DUE_YET: _("Plenty of time"),
    urg.Reason.DUE_SOON: _("Book the refill now"),
    urg.Reason.BOOKED_AFTER_ALARM: _("Book an earlier refill now"),
    urg.Reason.ALARM_NEAR: _("Call the clinic today"),
    urg.Reason.ALARM_PASSED: _("Call the clinic today"),
    urg.Reason.NO_REFILL: _("Ask the clinic for the alarm date"),
}


@dataclass
class ChildCard:
    patient: Patient
    pump: Pump | None
    visit: RefillVisit | None
    program: Program | None
    alarm_at: datetime | None  # worst case, clinic-local
    refill_due: date | None
    appointment: Appointment | None  # the next open refill appointment
    appointment_at: datetime | None  # clinic-local
    appointment_in_days: int | None
    urgency: urg.Urgency
    replace_by: date | None  # set only when the battery window is open
    recovery: urg.Recovery | None

    @property
    def level(self) -> str:
        return self.urgency.level.value

    @property
    def reason(self) -> str:
        return self.urgency.reason.value

    @property
    def headline(self) -> str:
        """The words of the coloured band (the template shows them, never re-derives them)."""
        return HEADLINES[self.urgency.reason]

    @property
    def needs_action(self) -> bool:
        return self.urgency.level != urg.Level.PLENTY


_NO_DATE = 10**6  # a child with no alarm date yet sorts after every dated one of the same level


def card_order(card: ChildCard) -> tuple:
    """The order of a family's children: the most urgent first (its level, then the soonest alarm,
    then the soonest refill-due date), the name last. The one sort key of the parents' pages."""
    return (
        LEVEL_ORDER[card.urgency.level],
        card.urgency.days_to_alarm if card.urgency.days_to_alarm is not None else _NO_DATE,
        card.urgency.days_to_due if card.urgency.days_to_due is not None else _NO_DATE,
        card.patient.first_name,
        card.patient.pk,
    )


def _today(patient: Patient, now: datetime) -> date:
    return timezone.localdate(now, patient.clinic.tzinfo)


def child_card(
    patient: Patient, pump: Pump | None, appointment: Appointment | None, now: datetime
) -> ChildCard:
    tz = patient.clinic.tzinfo
    today = _today(patient, now)
    visit = pump.latest_visit if pump else None
    alarm_at = timezone.localtime(visit.alarm_at_worst, tz) if visit else None
    appointment_at = timezone.localtime(appointment.start, tz) if appointment else None
    urgency = urg.refill_urgency(
        today=today,
        alarm_day=alarm_at.date() if alarm_at else None,
        refill_due=visit.refill_due if visit else None,
        appointment_day=appointment_at.date() if appointment_at else None,
    )
    window_open = bool(pump and pump.battery_window_open(today))
    return ChildCard(
        patient=patient,
        pump=pump,
        visit=visit,
        program=pump.current_program if pump else None,
        alarm_at=alarm_at,
        refill_due=visit.refill_due if visit else None,
        appointment=appointment,
        appointment_at=appointment_at,
        appointment_in_days=(appointment_at.date() - today).days if appointment_at else None,
        urgency=urgency,
        replace_by=pump.replace_by() if window_open else None,
        recovery=urg.recovery(implant_date=pump.implant_date, today=today) if pump else None,
    )


def _from_today(now: datetime) -> datetime:
    # An appointment earlier today still counts as the next one until the day is over.
    return now - timedelta(hours=24)


def child_cards(patients, *, now: datetime) -> list[ChildCard]:
    """One card per child: 4 queries whatever the number of children or length of history."""
    patients = list(patients.select_related("clinic"))
    ids = [p.pk for p in patients]
    pumps: dict[int, Pump] = {}
    for pump in Pump.objects.active().filter(patient_id__in=ids).with_current().order_by("-implant_date"):
        pumps.setdefault(pump.patient_id, pump)
    appointments: dict[int, Appointment] = {}
    by_id = {p.pk: p for p in patients}
    rows = Appointment.objects.filter(patient_id__in=ids).refills().upcoming(now=_from_today(now))
    for appt in rows:
        tz = by_id[appt.patient_id].clinic.tzinfo
        if timezone.localdate(appt.start, tz) >= timezone.localdate(now, tz):
            appointments.setdefault(appt.patient_id, appt)
    cards = [child_card(p, pumps.get(p.pk), appointments.get(p.pk), now) for p in patients]
    return sorted(cards, key=card_order)


def upcoming_appointments(patient: Patient, *, now: datetime) -> list[Appointment]:
    tz = patient.clinic.tzinfo
    today = timezone.localdate(now, tz)
    rows = Appointment.objects.filter(patient=patient).upcoming(now=_from_today(now))
    return [a for a in rows if timezone.localdate(a.start, tz) >= today]


def _newest_per_language(documents: list[Document]) -> list[Document]:
    seen: set[str] = set()
    newest = []
    for doc in documents:  # already newest first
        if doc.language not in seen:
            seen.add(doc.language)
            newest.append(doc)
    return newest


def past_visits(patient: Patient) -> list[RefillVisit]:
    """The child's visits, newest first, each with its newest after-visit summary per language."""
    summaries = Document.objects.filter(kind=Document.Kind.VISIT_SUMMARY, patient=patient).order_by(
        "-version", "-pk"
    )
    visits = list(
        RefillVisit.objects.filter(pump__patient=patient)
        .select_related("program")
        .prefetch_related(Prefetch("documents", queryset=summaries, to_attr="summaries"))
        .order_by("-visit_at", "-pk")
    )
    for visit in visits:
        visit.summaries = _newest_per_language(visit.summaries)
    return visits

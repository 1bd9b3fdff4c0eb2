"""Writes for appointments. Every change re-plans the child's reminders in the same transaction."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from appointments.models import Appointment
from patients import audit, events
from pumps import safety


class AppointmentError(ValueError):
    """A change that cannot be made; the message is plain words for the person who asked, and
    `field` the form field it belongs to (None: the after-alarm reason or the whole form)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


HOURS_CONFIRM_FIELD = "outside_hours_confirmed"


def clinic_hours_problem(*, clinic, start: datetime, duration_minutes: int = 30) -> str | None:
    """Plain words when a visit at `start` falls on a day the clinic is closed or outside its
    opening hours (pumps/clinic_calendar.py); None when it is inside them."""
    from patients.clinic_hours import clinic_calendar, hours_text

    calendar = clinic_calendar(clinic)
    if calendar.within_hours(start, start + timedelta(minutes=duration_minutes)):
        return None
    local = timezone.localtime(start, clinic.tzinfo)
    day = f"{local:%A} {local.day} {local:%B %Y}"
    if not calendar.is_open(local.date()):
        holiday = clinic.closed_dates.filter(day=local.date()).values_list("name", flat=True).first()
        why = holiday or f"it is open {hours_text(clinic)}"
        return (
            f"The clinic is closed on {day} ({why}). Choose an open day, or tick the box to book it anyway."
        )
    return (
        f"{day} at {local:%H:%M} for {duration_minutes} minutes is outside the clinic's opening hours "
        f"({hours_text(clinic)}). Choose a time inside them, or tick the box to book it anyway."
    )


def _check_clinic_hours(*, patient, start: datetime, duration_minutes: int, confirmed: bool) -> None:
    if confirmed:
        return
    problem = clinic_hours_problem(clinic=patient.clinic, start=start, duration_minutes=duration_minutes)
    if problem:
        raise AppointmentError(problem, field=HOURS_CONFIRM_FIELD)


AFTER_ALARM_MESSAGE = (
    "This refill appointment is after the pump's alarm date ({alarm}). Choose an earlier time, "
    "or give the reason it cannot be earlier."
)


def governing_alarm_at(patient) -> datetime | None:
    """The alarm instant that governs this child's dates (pumps/safety.py: the earliest of the
    computed worst case, the observed-rate date and the printed date until a nurse resolves a
    difference), from its latest visit."""
    from pumps.models import RefillVisit

    visit = (
        RefillVisit.objects.filter(pump__patient=patient, pump__explant_date__isnull=True)
        .order_by("-visit_at", "-pk")
        .first()
    )
    if visit is None:
        return None
    return safety.governing_alarm(
        computed_at=visit.alarm_at_worst,
        printed=visit.printed_alarm_date,
        tz=patient.clinic.tzinfo,
        resolved=visit.printed_alarm_resolved_at is not None,
        observed_at=visit.observed_alarm_at,
    )


def _check_after_alarm(*, patient, kind: str, start: datetime, reason: str) -> None:
    if kind != Appointment.Kind.REFILL:
        return
    alarm = governing_alarm_at(patient)
    if alarm is not None and not safety.booked_in_time(start, alarm) and not reason.strip():
        local = timezone.localtime(alarm, patient.clinic.tzinfo)
        raise AppointmentError(AFTER_ALARM_MESSAGE.format(alarm=f"{local:%a %d %b %Y %H:%M}"))


def refill_fulfilled_by(*, patient, visit_at: datetime, until: datetime) -> Appointment | None:
    """The open refill appointment a refill recorded at `visit_at` fulfils: one booked that day
    (clinic time), else the earliest upcoming one starting before `until` (the new next
    appointment, or halfway to the new alarm: one booked for the next cycle is left alone)."""
    tz = patient.clinic.tzinfo
    day = timezone.localdate(visit_at, tz)
    rows = list(
        Appointment.objects.select_for_update()
        .filter(patient=patient)
        .open()
        .refills()
        .filter(start__gte=visit_at - timedelta(hours=36), start__lt=until)
        .order_by("start", "pk")
    )
    same_day = [a for a in rows if timezone.localdate(a.start, tz) == day]
    later = [a for a in rows if a.start > visit_at]
    return (same_day or later or [None])[0]


def appointment_fulfil(*, appointment: Appointment, by=None) -> Appointment:
    """Mark the refill appointment a recorded refill fulfils as completed. Called by
    pumps.services.refill_record inside its transaction, which re-plans the texts after."""
    appointment.status = Appointment.Status.COMPLETED
    appointment.save(update_fields=["status", "updated_at"])
    _audit(appointment, by, audit.APPOINTMENT_CHANGED)
    return appointment


def _locked(appointment: Appointment) -> Appointment:
    return Appointment.objects.select_for_update().select_related("patient__clinic").get(pk=appointment.pk)


@transaction.atomic
def appointment_book(
    *,
    patient,
    by,
    kind: str,
    start: datetime,
    duration_minutes: int = 30,
    location: str = "",
    notes: str = "",
    after_alarm_reason: str = "",
    outside_hours_confirmed: bool = False,
) -> Appointment:
    """Book a visit. A refill after the worst-case alarm date needs a stated reason; a visit on
    a closed day or outside the clinic's hours needs `outside_hours_confirmed`."""
    _check_after_alarm(patient=patient, kind=kind, start=start, reason=after_alarm_reason)
    _check_clinic_hours(
        patient=patient, start=start, duration_minutes=duration_minutes, confirmed=outside_hours_confirmed
    )
    appointment = Appointment.objects.create(
        patient=patient,
        kind=kind,
        start=start,
        duration_minutes=duration_minutes,
        location=location or patient.clinic.default_location,
        notes=notes,
        after_alarm_reason=after_alarm_reason.strip(),
        booked_by=by,
    )
    events.child_changed_send(patient=patient)
    _audit(appointment, by, audit.APPOINTMENT_CREATED)
    return appointment


@transaction.atomic
def appointment_reschedule(
    *,
    appointment: Appointment,
    by,
    start: datetime,
    after_alarm_reason: str = "",
    outside_hours_confirmed: bool = False,
) -> Appointment:
    """Move an open appointment; the family must confirm the new time again. A closed day or a
    time outside the clinic's hours needs `outside_hours_confirmed`."""
    appointment = _locked(appointment)
    if not appointment.is_open:
        raise AppointmentError("Only a scheduled or confirmed appointment can be moved.")
    reason = after_alarm_reason or appointment.after_alarm_reason
    _check_after_alarm(patient=appointment.patient, kind=appointment.kind, start=start, reason=reason)
    _check_clinic_hours(
        patient=appointment.patient,
        start=start,
        duration_minutes=appointment.duration_minutes,
        confirmed=outside_hours_confirmed,
    )
    appointment.start = start
    appointment.after_alarm_reason = reason.strip()
    appointment.status = Appointment.Status.SCHEDULED
    appointment.confirmed_at = None
    appointment.save(update_fields=["start", "after_alarm_reason", "status", "confirmed_at", "updated_at"])
    events.child_changed_send(patient=appointment.patient)
    _audit(appointment, by, audit.APPOINTMENT_CHANGED)
    return appointment


def _close(appointment: Appointment, status: str, message: str, by=None) -> Appointment:
    appointment = _locked(appointment)
    if not appointment.is_open:
        raise AppointmentError(message)
    appointment.status = status
    appointment.save(update_fields=["status", "updated_at"])
    events.child_changed_send(patient=appointment.patient)
    action = (
        audit.APPOINTMENT_CANCELLED if status == Appointment.Status.CANCELLED else audit.APPOINTMENT_CHANGED
    )
    _audit(appointment, by, action)
    return appointment


def _audit(appointment: Appointment, by, action: str) -> None:
    audit.audit_record(actor=by, action=action, obj=appointment, patient_id=appointment.patient_id)


@transaction.atomic
def appointment_cancel(*, appointment: Appointment, by=None) -> Appointment:
    return _close(appointment, Appointment.Status.CANCELLED, "This appointment is already closed.", by)


@transaction.atomic
def appointment_complete(*, appointment: Appointment, by=None) -> Appointment:
    return _close(appointment, Appointment.Status.COMPLETED, "This appointment is already closed.", by)


@transaction.atomic
def appointment_no_show(*, appointment: Appointment, by=None) -> Appointment:
    return _close(appointment, Appointment.Status.NO_SHOW, "This appointment is already closed.", by)


@transaction.atomic
def appointment_confirm(*, appointment: Appointment, now: datetime | None = None) -> Appointment:
    """The family says they will come (from the portal or a text reply). Repeats are harmless."""
    appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
    if appointment.status == Appointment.Status.CONFIRMED:
        return appointment
    if appointment.status != Appointment.Status.SCHEDULED:
        raise AppointmentError("This appointment can no longer be confirmed. Please call the clinic.")
    appointment.status = appointment.Status.CONFIRMED
    appointment.confirmed_at = now or timezone.now()
    appointment.save(update_fields=["status", "confirmed_at", "updated_at"])
    events.child_changed_send(patient=appointment.patient)
    return appointment

"""The nurses' worklist: every active pump of the clinic with its danger flags, all in SQL.

Each flag is an annotation (Exists or a comparison), so filtering by a flag and paginating
happen in the database, and a page costs the same few queries for 20 or 2,000 children.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db import models
from django.db.models import Case, Exists, F, OuterRef, Q, Subquery, Value, When

from alerts.models import Escalation, Reminder
from appointments.models import Appointment
from pumps.models import (
    DOSE_CHANGE_CONFIRM_PERCENT,
    RESIDUAL_ABS_LIMIT_ML,
    RESIDUAL_RATIO_RANGE,
    Pump,
    RefillVisit,
)

FLAGS = {
    "no_refill_booked": "No refill booked before the alarm",
    "appt_after_alarm": "Appointment after the alarm date",
    "alarm_passed": "Alarm passed, no refill",
    "residual": "Residual discrepancy",
    "battery": "Battery window open",
    "eri": "ERI reported",
    # A text failed or was undelivered, the family opted out, or no caregiver can receive texts.
    "reminder_failed": "Texts not reaching the family",
    "dose_change": "Dose change over 20%",
}
UNDELIVERED = (Reminder.Status.FAILED, Reminder.Status.UNDELIVERED)
TEXT_ESCALATIONS = (
    Escalation.Kind.REMINDER_FAILED,
    Escalation.Kind.OPTED_OUT,
    Escalation.Kind.NO_TEXTABLE_CAREGIVER,
)


def battery_implant_cutoff(today: date) -> date:
    """Pumps implanted on or before this date have their 6.5-year window open (not EL pumps)."""
    day = today - timedelta(days=182)
    try:
        return day.replace(year=day.year - 6)
    except ValueError:
        return day.replace(year=day.year - 6, day=28)


def _flag(condition: Q) -> Case:
    return Case(When(condition, then=Value(True)), default=Value(False), output_field=models.BooleanField())


def _latest(field: str) -> Subquery:
    latest = RefillVisit.objects.filter(pump_id=OuterRef("pk")).order_by("-visit_at", "-pk")
    return Subquery(latest.values(field)[:1])


def _refill_appointments():
    return Appointment.objects.open().refills().filter(patient_id=OuterRef("patient_id"))


def _residual_q() -> Q:
    low, high = RESIDUAL_RATIO_RANGE
    return Q(last_expected__isnull=False, last_actual__isnull=False) & (
        Q(last_actual__gt=F("last_expected") + RESIDUAL_ABS_LIMIT_ML)
        | Q(last_actual__lt=F("last_expected") - RESIDUAL_ABS_LIMIT_ML)
        | Q(last_expected__gt=0, last_actual__lt=F("last_expected") * low)
        | Q(last_expected__gt=0, last_actual__gt=F("last_expected") * high)
    )


def _dose_change_q() -> Q:
    share = DOSE_CHANGE_CONFIRM_PERCENT / 100
    return Q(last_dose_changed=True, last_pre_dose__gt=0) & (
        Q(last_dose__gt=F("last_pre_dose") * (1 + share)) | Q(last_dose__lt=F("last_pre_dose") * (1 - share))
    )


def _flag_annotations(*, now: datetime, today: date) -> dict:
    reminders = Reminder.objects.filter(
        patient_id=OuterRef("patient_id"), status__in=UNDELIVERED, target_date__gte=today
    )
    escalations = Escalation.objects.filter(
        patient_id=OuterRef("patient_id"), kind__in=TEXT_ESCALATIONS, resolved_at__isnull=True
    )
    booked_in_time = _refill_appointments().filter(start__gte=now, start__lte=OuterRef("alarm_at_worst"))
    booked_late = _refill_appointments().filter(start__gt=OuterRef("alarm_at_worst"))
    battery = Q(eri_date__lte=today) | (
        ~Q(model="sm_el") & Q(implant_date__lte=battery_implant_cutoff(today))
    )
    return {
        "flag_alarm_passed": _flag(Q(alarm_at_worst__lt=now)),
        "flag_no_refill_booked": _flag(Q(alarm_at_worst__isnull=True) | ~Exists(booked_in_time)),
        "flag_appt_after_alarm": _flag(Q(alarm_at_worst__isnull=False) & Exists(booked_late)),
        "flag_residual": _flag(_residual_q()),
        "flag_eri": _flag(Q(eri_date__isnull=False)),
        "flag_battery": _flag(battery),
        "flag_reminder_failed": _flag(Exists(reminders) | Exists(escalations)),
        "flag_dose_change": _flag(_dose_change_q()),
    }


def worklist(*, user, now: datetime, today: date) -> models.QuerySet:
    """Active pumps of the children `user` may see (a nurse: her clinic's), soonest worst-case
    alarm first (no visit yet: first of all)."""
    from .models import Patient

    upcoming = _refill_appointments().filter(start__gte=now).order_by("start")
    return (
        Pump.objects.active()
        .filter(patient_id__in=Patient.objects.visible_to(user).values("pk"))
        .select_related("patient")
        .with_alarm()
        .annotate(
            next_refill_at=Subquery(upcoming.values("start")[:1]),
            next_refill_pk=Subquery(upcoming.values("pk")[:1]),
            last_expected=_latest("expected_residual_ml"),
            last_actual=_latest("actual_residual_ml"),
            last_dose_changed=_latest("dose_changed"),
            last_pre_dose=_latest("pre_daily_dose_mcg"),
            last_dose=_latest("program__daily_dose_mcg"),
        )
        .annotate(**_flag_annotations(now=now, today=today))
        .order_by(
            F("alarm_at_worst").asc(nulls_first=True), "patient__last_name", "patient__first_name", "pk"
        )
    )


def worklist_filter(qs: models.QuerySet, *, flag: str = "", search: str = "") -> models.QuerySet:
    if flag in FLAGS:
        qs = qs.filter(**{f"flag_{flag}": True})
    search = (search or "").strip()
    if search:
        q = Q(patient__mrn__iexact=search)
        for word in search.split():
            q |= Q(patient__first_name__icontains=word) | Q(patient__last_name__icontains=word)
        qs = qs.filter(q)
    return qs


def row_flags(pump) -> list[tuple[str, str]]:
    """The flags of one annotated row, as (key, words), most dangerous first."""
    return [(key, label) for key, label in FLAGS.items() if getattr(pump, f"flag_{key}", False)]

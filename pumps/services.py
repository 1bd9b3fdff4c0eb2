"""Writes with consequences for pumps. The forecast of a visit is computed here, once, from
the same inputs the clinician programmer uses (docs/rules.md#alarm-date-arithmetic)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from patients import audit, events
from patients.clinic_hours import clinic_calendar
from pumps import delivery as dl
from pumps import forecast as fc
from pumps import safety
from pumps.models import DOSE_CHANGE_CONFIRM_PERCENT, USUAL_CONCENTRATIONS, Program, Pump, RefillVisit
from pumps.tasks import emergency_card_queue, visit_summary_queue

PLAUSIBLE_DOSE_MCG = (Decimal(25), Decimal(1200))


def visit_forecast(
    *,
    pump: Pump,
    program: Program,
    visit_at: datetime,
    volume_after_ml: Decimal,
    bridge_bolus_ml: Decimal = Decimal(0),
    last_refill_at: datetime | None = None,
    reading: dl.FillRecord | None = None,
) -> dict:
    """The forecast fields of a visit: alarm, empty and refill-due, nominal and worst case, and
    the observed delivery with the dates at the observed rate (docs/rules.md#observed-delivery).

    `last_refill_at` is the last time the reservoir was filled (the visit itself for a refill);
    the 180-day drug-stability cap counts from it. `reading` is this visit as a fill (a refill or
    first fill, with its residuals): the observed delivery reads it with the pump's earlier fills.
    Raises forecast.ForecastError on bad input.
    """
    clinic = pump.patient.clinic
    tz = clinic.tzinfo
    local_visit = timezone.localtime(visit_at, tz)
    plan = program.as_forecast_program()
    fill = fc.Fill(
        refill_at=local_visit,
        volume_ml=Decimal(volume_after_ml),
        capacity_ml=pump.capacity_ml,
        one_off_bolus_ml=Decimal(bridge_bolus_ml or 0),
        pump_utc_offset=local_visit.utcoffset(),
    )
    result = fc.forecast(plan, fill)
    due = _refill_due(clinic, alarm_at_worst=result.alarm_at_worst, last_refill_at=last_refill_at or visit_at)
    fills = pump_fills(pump, before=visit_at) if pump.pk else []
    observed = dl.delivery(([reading] if reading is not None else []) + fills)
    at_rate = dl.observed_forecast(plan, fill, observed)
    return {
        "alarm_at": result.alarm_at,
        "alarm_at_worst": result.alarm_at_worst,
        "empty_at": result.empty_at,
        "empty_at_worst": result.empty_at_worst,
        "refill_due": due,
        "delivery_ratio": observed.ratio if observed else None,
        "delivery_spread": observed.spread if observed else None,
        "delivery_fills": observed.fills if observed else 0,
        "delivery_forecast_ratio": observed.forecast_ratio if observed else None,
        "observed_alarm_at": at_rate.alarm_at if at_rate else None,
        "observed_empty_at": at_rate.empty_at if at_rate else None,
    }


def fill_record(visit: RefillVisit) -> dl.FillRecord:
    return dl.FillRecord(
        at=visit.visit_at,
        volume_after_ml=visit.volume_after_ml,
        one_off_bolus_ml=visit.bridge_bolus_ml or Decimal(0),
        expected_residual_ml=visit.expected_residual_ml,
        actual_residual_ml=visit.actual_residual_ml,
        catheter_revised=visit.catheter_revised,
    )


def pump_fills(pump: Pump, *, before: datetime) -> list[dl.FillRecord]:
    """The pump's fills before ``before``, newest first, as many as the estimate may read (a fill
    without a usable reading is skipped, so twice the window)."""
    rows = pump.visits.refills().filter(visit_at__lt=before).order_by("-visit_at", "-pk")
    return [fill_record(v) for v in rows[: 2 * (dl.WINDOW + 1)]]


def _refill_due(clinic, *, alarm_at_worst: datetime, last_refill_at: datetime, calendar=None):
    """The one call that stores a refill-due date: the clinic's lead days, cap and calendar."""
    return fc.refill_due(
        alarm_at=alarm_at_worst,
        last_refill_at=last_refill_at,
        tz=clinic.tzinfo,
        lead_days=clinic.refill_lead_days,
        max_interval_days=clinic.max_refill_interval_days,
        calendar=calendar or clinic_calendar(clinic),
    )


@transaction.atomic
def refill_due_refresh(*, clinic, now: datetime | None = None) -> int:
    """The clinic's calendar or refill settings changed: recompute the refill-due date of each
    active pump's latest visit, and re-plan the texts of every child whose date moved; every
    other child of the clinic is assessed again at the next check (the rules it reads changed).
    Returns how many children's dates moved."""
    events.clinic_rules_changed_send(clinic_id=clinic.pk, now=now)
    calendar = clinic_calendar(clinic)
    newest = RefillVisit.objects.filter(pump=OuterRef("pk")).order_by("-visit_at", "-pk").values("pk")[:1]
    pumps = Pump.objects.filter(patient__clinic=clinic, explant_date__isnull=True)
    latest = RefillVisit.objects.filter(
        pk__in=pumps.annotate(latest=Subquery(newest)).values("latest")
    ).select_related("pump__patient")
    moved = 0
    for visit in latest:
        filled = visit.visit_at if visit.kind != RefillVisit.Kind.PROGRAMMING else last_fill_at(visit.pump)
        due = _refill_due(
            clinic,
            alarm_at_worst=visit.alarm_at_worst,
            last_refill_at=filled or visit.visit_at,
            calendar=calendar,
        )
        if due != visit.refill_due:
            RefillVisit.objects.filter(pk=visit.pk).update(refill_due=due)
            events.child_changed_send(patient=visit.pump.patient, now=now)
            moved += 1
    return moved


# --- Refill and programming visits -------------------------------------------------------------

PROGRAM_FIELDS = (
    "concentration_mcg_ml",
    "concentration_reason",
    "mode",
    "daily_dose_mcg",
    "flex_steps",
    "bolus_mcg",
    "bolus_max_per_day",
    "alarm_volume_ml",
)
# What makes two programs deliver differently (a reason alone does not).
PROGRAMMED_FIELDS = tuple(f for f in PROGRAM_FIELDS if f != "concentration_reason")
VISIT_DETAIL_FIELDS = frozenset(
    {
        "pre_concentration_mcg_ml",
        "pre_mode",
        "pre_daily_dose_mcg",
        "expected_residual_ml",
        "actual_residual_ml",
        "volume_instilled_ml",
        "dose_change_reason",
        "dose_change_confirmed",
        "bolus_note",
        "printed_alarm_date",
        "tone_assessment",
        "notes",
        "private_notes",
        "eri_reported_date",
        "catheter_revised",
    }
)


class RefillError(ValueError):
    """A visit that cannot be saved: `field` names the form field, `message` is for the nurse."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def program_draft(*, pump: Pump, program: dict, visit_at: datetime, by=None) -> Program:
    """An unsaved Program from what the nurse typed (flex: the daily dose is the schedule's total)."""
    fields = {name: program.get(name) for name in PROGRAM_FIELDS}
    fields["concentration_reason"] = fields["concentration_reason"] or ""
    fields["flex_steps"] = list(fields["flex_steps"] or [])
    fields["bolus_mcg"] = fields["bolus_mcg"] or Decimal(0)
    fields["bolus_max_per_day"] = fields["bolus_max_per_day"] or 0
    if fields["alarm_volume_ml"] is None:
        fields["alarm_volume_ml"] = Decimal("2.0")
    draft = Program(pump=pump, effective_from=visit_at, created_by=by, **fields)
    if draft.mode == Program.Mode.FLEX:
        draft.flex_steps = [
            {"start": s["start"], "mcg_per_hour": str(s["mcg_per_hour"])} for s in draft.flex_steps
        ]
        draft.daily_dose_mcg = draft.as_forecast_program().daily_dose().quantize(Decimal("0.01"))
    else:
        draft.flex_steps = []
    return draft


def program_differs(current: Program | None, draft: Program) -> bool:
    if current is None:
        return True
    return any(getattr(current, f) != getattr(draft, f) for f in PROGRAMMED_FIELDS)


def last_fill_at(pump: Pump) -> datetime | None:
    """When the reservoir was last filled (a programming visit does not fill it)."""
    visit = pump.visits.refills().order_by("-visit_at", "-pk").first()
    return visit.visit_at if visit else None


def refill_forecast(
    *,
    pump: Pump,
    kind: str,
    program: Program,
    visit_at: datetime,
    volume_after_ml,
    bridge_bolus_ml,
    expected_residual_ml=None,
    actual_residual_ml=None,
    catheter_revised: bool = False,
) -> dict:
    """The forecast fields for a visit; ForecastError is re-raised as RefillError."""
    filled = None if kind != "programming" else last_fill_at(pump)
    reading = None
    if kind != "programming":
        reading = dl.FillRecord(
            at=visit_at,
            volume_after_ml=Decimal(volume_after_ml),
            one_off_bolus_ml=Decimal(bridge_bolus_ml or 0),
            expected_residual_ml=expected_residual_ml,
            actual_residual_ml=actual_residual_ml,
            catheter_revised=catheter_revised,
        )
    try:
        return visit_forecast(
            pump=pump,
            program=program,
            visit_at=visit_at,
            volume_after_ml=volume_after_ml,
            bridge_bolus_ml=bridge_bolus_ml,
            last_refill_at=filled,
            reading=reading,
        )
    except fc.ForecastError as error:
        raise RefillError(FORECAST_FIELD_TO_FORM.get(error.field, error.field), error.message) from error


FORECAST_FIELD_TO_FORM = {
    "volume_ml": "volume_after_ml",
    "capacity_ml": "volume_after_ml",
    "one_off_bolus_ml": "bridge_bolus_ml",
    "refill_at": "visit_at",
    "pump_utc_offset": "visit_at",
}


def visit_problems(
    *,
    kind: str,
    current: Program | None,
    draft: Program,
    bridge_bolus_ml: Decimal | None,
    dose_change_confirmed: bool,
    alarm_at_worst: datetime | None,
    next_appointment_at: datetime | None,
    after_alarm_reason: str,
    clinic=None,
    next_appointment_hours_confirmed: bool = False,
) -> list[tuple[str, str]]:
    """The clinic's rules for a visit (docs/rules.md#what-a-refill-visit-records), as (form field,
    plain message) pairs."""
    problems = _next_appointment_hours(clinic, next_appointment_at, next_appointment_hours_confirmed)
    conc = draft.concentration_mcg_ml
    if conc not in USUAL_CONCENTRATIONS and not draft.concentration_reason.strip():
        usual = ", ".join(f"{c:.0f}" for c in USUAL_CONCENTRATIONS)
        problems.append(
            (
                "concentration_reason",
                f"{conc} mcg/mL is not a usual concentration ({usual}): give the reason.",
            )
        )
    if current is not None and current.concentration_mcg_ml != conc and not (bridge_bolus_ml or 0) > 0:
        problems.append(
            (
                "bridge_bolus_ml",
                "The concentration changed: enter the bridge bolus volume given at this visit.",
            )
        )
    percent = dose_change_percent(current, draft)
    if percent is not None and abs(percent) > DOSE_CHANGE_CONFIRM_PERCENT and not dose_change_confirmed:
        problems.append(
            (
                "dose_change_confirmed",
                f"The daily dose changes by {percent:+.1f}%, more than 20%. Tick the box to confirm it.",
            )
        )
    if (
        next_appointment_at
        and alarm_at_worst
        and not safety.booked_in_time(next_appointment_at, alarm_at_worst)
    ):
        if not after_alarm_reason.strip():
            problems.append(
                (
                    "after_alarm_reason",
                    "The next appointment is after the pump's alarm date. Choose an earlier date, "
                    "or give the reason it cannot be earlier.",
                )
            )
    return problems


NEXT_HOURS_CONFIRM_FIELD = "next_appointment_hours_confirmed"


def _next_appointment_hours(clinic, start: datetime | None, confirmed: bool) -> list[tuple[str, str]]:
    """The next appointment on a closed day or outside hours needs the nurse's tick."""
    if clinic is None or start is None or confirmed:
        return []
    from appointments.services import clinic_hours_problem

    problem = clinic_hours_problem(clinic=clinic, start=start)
    return [(NEXT_HOURS_CONFIRM_FIELD, problem)] if problem else []


def dose_change_percent(current: Program | None, draft: Program) -> Decimal | None:
    if current is None or not current.daily_dose_mcg or current.daily_dose_mcg == draft.daily_dose_mcg:
        return None
    change = (draft.daily_dose_mcg - current.daily_dose_mcg) / current.daily_dose_mcg * 100
    return change.quantize(Decimal("0.1"))


def dose_warning(draft: Program) -> str:
    """Outside the plausible 25-1200 mcg/day: warn, do not refuse
    (docs/rules.md#what-a-refill-visit-records)."""
    low, high = PLAUSIBLE_DOSE_MCG
    if draft.daily_dose_mcg is not None and not (low <= draft.daily_dose_mcg <= high):
        return f"{draft.daily_dose_mcg} mcg/day is outside the usual {low}-{high} mcg/day. Check it."
    return ""


def _save_program(pump: Pump, current: Program | None, draft: Program, reason: str) -> Program:
    if not program_differs(current, draft):
        return current
    draft.change_reason = reason
    draft.save()
    return draft


def _fulfil_appointment(*, visit: RefillVisit, by, next_at: datetime | None) -> None:
    """A refill completes the refill appointment it was booked for (its texts are cancelled by
    the re-plan that follows, in this transaction)."""
    if visit.kind == RefillVisit.Kind.PROGRAMMING:
        return
    from appointments.services import appointment_fulfil, refill_fulfilled_by

    halfway = visit.visit_at + (visit.alarm_at_worst - visit.visit_at) / 2
    until = min(next_at, halfway) if next_at else halfway
    appointment = refill_fulfilled_by(patient=visit.pump.patient, visit_at=visit.visit_at, until=until)
    if appointment is not None:
        appointment_fulfil(appointment=appointment, by=by)


def _book_next(*, visit: RefillVisit, by, start: datetime | None, reason: str, hours_confirmed: bool) -> None:
    if start is None:
        return
    from appointments.services import appointment_book

    appointment = appointment_book(
        patient=visit.pump.patient,
        by=by,
        kind="refill",
        start=start,
        after_alarm_reason=reason,
        outside_hours_confirmed=hours_confirmed,
    )
    visit.next_appointment = appointment
    visit.save(update_fields=["next_appointment"])


@transaction.atomic
def refill_record(
    *,
    pump: Pump,
    by,
    kind: str = "refill",
    visit_at: datetime,
    volume_after_ml: Decimal,
    program: dict,
    bridge_bolus_ml: Decimal = Decimal(0),
    next_appointment_at: datetime | None = None,
    after_alarm_reason: str = "",
    next_appointment_hours_confirmed: bool = False,
    **details,
) -> RefillVisit:
    """Record a refill, first fill or programming visit, all or nothing.

    Saves the visit with its forecast, a new Program row if anything programmed changed, books
    the next appointment, stores the reported ERI, re-plans reminders and queues the summary PDF.
    Raises RefillError (field, message) and writes nothing when a rule is broken.
    """
    unknown = set(details) - VISIT_DETAIL_FIELDS
    if unknown:
        raise TypeError(f"Unknown visit fields: {sorted(unknown)}")
    pump = Pump.objects.select_for_update().select_related("patient__clinic").get(pk=pump.pk)
    current = pump.current_program
    draft = program_draft(pump=pump, program=program, visit_at=visit_at, by=by)
    forecast = refill_forecast(
        pump=pump,
        kind=kind,
        program=draft,
        visit_at=visit_at,
        volume_after_ml=volume_after_ml,
        bridge_bolus_ml=bridge_bolus_ml,
        expected_residual_ml=details.get("expected_residual_ml"),
        actual_residual_ml=details.get("actual_residual_ml"),
        catheter_revised=details.get("catheter_revised", False),
    )
    problems = visit_problems(
        kind=kind,
        current=current,
        draft=draft,
        bridge_bolus_ml=bridge_bolus_ml,
        dose_change_confirmed=details.get("dose_change_confirmed", False),
        alarm_at_worst=safety.governing_alarm(
            computed_at=forecast["alarm_at_worst"],
            printed=details.get("printed_alarm_date"),
            tz=pump.patient.clinic.tzinfo,
            observed_at=forecast["observed_alarm_at"],
        ),
        next_appointment_at=next_appointment_at,
        after_alarm_reason=after_alarm_reason,
        clinic=pump.patient.clinic,
        next_appointment_hours_confirmed=next_appointment_hours_confirmed,
    )
    if problems:
        raise RefillError(*problems[0])
    saved_program = _save_program(pump, current, draft, details.get("dose_change_reason", ""))
    visit = _visit_create(
        pump=pump,
        by=by,
        kind=kind,
        visit_at=visit_at,
        volume_after_ml=volume_after_ml,
        current=current,
        program=saved_program,
        bridge_bolus_ml=bridge_bolus_ml,
        details=details,
        forecast=forecast,
    )
    _fulfil_appointment(visit=visit, by=by, next_at=next_appointment_at)
    _book_next(
        visit=visit,
        by=by,
        start=next_appointment_at,
        reason=after_alarm_reason,
        hours_confirmed=next_appointment_hours_confirmed,
    )
    _eri_record(pump, details.get("eri_reported_date"))
    events.child_changed_send(patient=pump.patient)
    visit_summary_queue(visit=visit)
    if saved_program is not current:  # the card shows the concentration and dose: keep it true
        emergency_card_queue(patient=pump.patient)
    _audit_visit(visit=visit, by=by)
    return visit


def _audit_visit(*, visit: RefillVisit, by) -> None:
    audit.audit_record(actor=by, action=audit.VISIT_RECORDED, obj=visit, patient_id=visit.pump.patient_id)
    if visit.dose_changed:
        audit.audit_record(actor=by, action=audit.DOSE_CHANGED, obj=visit, patient_id=visit.pump.patient_id)


def _visit_create(
    *, pump, by, kind, visit_at, volume_after_ml, current, program, bridge_bolus_ml, details, forecast
):
    if current is not None:  # the pump's reading before the visit, unless the nurse typed it
        details.setdefault("pre_concentration_mcg_ml", current.concentration_mcg_ml)
        details.setdefault("pre_mode", current.mode)
        details.setdefault("pre_daily_dose_mcg", current.daily_dose_mcg)
    return RefillVisit.objects.create(
        pump=pump,
        kind=kind,
        visit_at=visit_at,
        nurse=by,
        volume_after_ml=volume_after_ml,
        program=program,
        dose_changed=current is not None and current.daily_dose_mcg != program.daily_dose_mcg,
        bridge_bolus_ml=bridge_bolus_ml or Decimal(0),
        **details,
        **forecast,
    )


def _eri_record(pump: Pump, eri_date) -> None:
    if eri_date and pump.eri_date != eri_date:
        pump.eri_date = eri_date
        pump.save(update_fields=["eri_date"])


@transaction.atomic
def printed_alarm_resolve(*, visit: RefillVisit, by, now: datetime | None = None) -> RefillVisit:
    """A nurse has re-interrogated the pump or checked the entry: the computed alarm date
    governs again. Refreshes the child's concerns and texts in this transaction."""
    visit = RefillVisit.objects.select_for_update().select_related("pump__patient").get(pk=visit.pk)
    if visit.printed_alarm_resolved_at is None:
        visit.printed_alarm_resolved_at = now or timezone.now()
        visit.printed_alarm_resolved_by = by
        visit.save(update_fields=["printed_alarm_resolved_at", "printed_alarm_resolved_by"])
        events.child_changed_send(patient=visit.pump.patient, now=now)
        audit.audit_record(actor=by, action=audit.VISIT_RECORDED, obj=visit, patient_id=visit.pump.patient_id)
    return visit

"""The nurses' console: worklist, patient chart, battery list and the clinic's day view."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.safestring import mark_safe

from alerts.models import ChildSafety, Concern, LadderStep, Reminder
from appointments.models import Appointment
from patients import audit
from patients.accounts.permissions import clinic_of, staff_required
from patients.models import Patient
from patients.signs import nurse_summary
from patients.staff.charts import dose_chart_svg, residual_chart_svg
from patients.staff.worklist import TIERS, page_rows, worklist, worklist_filter
from patients.staff.worklist_rows import worklist_rows_html
from pumps import delivery, safety
from pumps.models import Pump

PAGE_SIZE = 50
APPOINTMENT_ACTIONS = [("complete", "Completed"), ("no_show", "No-show"), ("cancel", "Cancel")]


def _today(clinic) -> date:
    return timezone.localtime(timezone.now(), clinic.tzinfo).date()


@staff_required
def worklist_view(request):
    clinic = clinic_of(request.user)
    tier = request.GET.get("tier", "")
    kind = request.GET.get("kind", "")
    search = request.GET.get("q", "")
    qs = worklist_filter(worklist(user=request.user), tier=tier, kind=kind, search=search)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    today = _today(clinic)
    rows = page_rows(list(page.object_list))
    for row in rows:
        alarm_day = row["state"].alarm_day
        row["days_left"] = (alarm_day - today).days if alarm_day else None
    return render(
        request,
        "staff/worklist.html",
        {
            "rows": rows,
            "rows_html": worklist_rows_html(rows, today=today, next_path=request.get_full_path()),
            "page": page,
            "tiers": TIERS,
            "tier": tier,
            "kinds": Concern.Kind.choices,
            "kind": kind,
            "q": search,
            "today": today,
        },
    )


def _chart_pump_data(pump: Pump) -> dict:
    visits = list(
        pump.visits.select_related("program", "nurse", "next_appointment").order_by("-visit_at", "-pk")
    )
    programs = list(pump.programs.order_by("effective_from", "pk"))
    residual_points = [
        (v.visit_at, v.residual_difference_ml)
        for v in reversed(visits)
        if v.residual_difference_ml is not None
    ]
    # Each refill's residual judged as the assessment judges it: on the delivery since the fill
    # before (pumps/safety.residual_judgement).
    fills = [v for v in visits if v.kind in ("refill", "implant")]
    for v, before in zip(fills, [*fills[1:], None], strict=True):
        start = before.volume_after_ml - before.bridge_bolus_ml if before is not None else None
        judged = safety.residual_judgement(
            start_ml=start, expected=v.expected_residual_ml, actual=v.actual_residual_ml
        )
        v.residual_tier = judged[1].value if judged else ""
        v.delivered_percent = int((judged[2] * 100).to_integral_value()) if judged and judged[2] else None
    flagged = [v for v in fills if v.residual_tier]
    # The trend reads the last refills, as the assessment does (pumps/safety.py).
    refills = [v for v in visits if v.kind in ("refill", "implant")][: safety.TREND_REFILLS]
    trend = [v.residual_difference_ml for v in reversed(refills) if v.residual_difference_ml is not None]
    return {
        "visits": visits,
        "latest": visits[0] if visits else None,
        "program": programs[-1] if programs else None,
        "dose_svg": mark_safe(dose_chart_svg([(p.effective_from, p.daily_dose_mcg) for p in programs])),  # noqa: S308 - escaped in patients.staff.charts
        "residual_svg": mark_safe(residual_chart_svg(residual_points)),  # noqa: S308
        "residual_trend": residual_trend(trend),
        "residual_flagged": len(flagged),
        **_delivery(visits[0] if visits else None, pump.patient.clinic.tzinfo),
    }


def _delivery(latest, tz) -> dict:
    """The observed delivery stored with the latest visit (pumps/delivery.py), in words, and the
    dates at the observed rate."""
    if latest is None:
        return {}

    def day(instant):
        return timezone.localtime(instant, tz).date() if instant else None

    return {
        "delivery_words": delivery.nurse_words(
            ratio=latest.delivery_ratio,
            spread=latest.delivery_spread,
            fills=latest.delivery_fills,
            observed_day=day(latest.observed_alarm_at),
            programmed_day=day(latest.alarm_at_worst),
            observed_empty_day=day(latest.observed_empty_at),
        ),
    }


def residual_trend(diffs) -> str:
    """Plain words for the differences (actual − expected) of the last refills, oldest first.
    "Growing" is the assessment's one rule (pumps/safety.residual_growing), as on the worklist."""
    if len(diffs) < 2:
        return ""
    limit = safety.RESIDUAL_ABS_LIMIT_ML
    if safety.residual_growing(diffs):
        return "The residual difference is growing."
    if all(v > 0 for v in diffs) and diffs[-1] > limit:
        return "Actual residual above expected at recent visits: possible under-delivery (withdrawal risk)."
    if all(v < 0 for v in diffs) and diffs[-1] < -limit:
        return "Actual residual below expected at recent visits: possible over-delivery or mis-fill."
    return "Stable."


def _judged(appointments, state: ChildSafety | None) -> list[Appointment]:
    """Each open refill appointment judged by the one "booked in time" rule against the
    governing alarm the assessment stored (pumps/safety.booked_in_time)."""
    rows = list(appointments)
    for a in rows:
        a.after_alarm = bool(
            state is not None
            and state.alarm_at is not None
            and a.kind == Appointment.Kind.REFILL
            and not safety.booked_in_time(a.start, state.alarm_at)
        )
    return rows


def _chart_safety(patient) -> dict:
    """The stored assessment (alerts.models.ChildSafety and the open concerns): the chart shows
    its governing dates, its badges and its nurse's words, as the worklist does."""
    state = ChildSafety.objects.filter(patient=patient).first()
    concerns = list(Concern.objects.open().filter(patient=patient).order_by("tier_rank", "act_by", "pk"))
    kinds = {c.kind for c in concerns}
    return {
        "safety": state,
        "concerns": concerns,
        "alarm_passed": safety.Kind.ALARM_PASSED in kinds,
        "printed_governs": bool(state and state.alarm_source == safety.Source.PRINTED),
        "observed_governs": bool(state and state.alarm_source == safety.Source.OBSERVED),
    }


def _sign_reports(patient) -> dict:
    """The child's reports of warning signs, newest first: the open ones (at the top of the
    chart) and the last closed ones (the chart keeps them)."""
    reports = list(patient.sign_reports.select_related("outcome_by")[:10])
    for report in reports:
        report.summary = nurse_summary(report.signs)
    return {
        "open_sign_reports": [r for r in reports if r.is_open],
        "sign_reports": [r for r in reports if not r.is_open],
    }


@staff_required
def chart(request, pk: int):
    patient = get_object_or_404(Patient.objects.visible_to(request.user).select_related("clinic"), pk=pk)
    audit.audit_record(request=request, action=audit.CHART_VIEWED, obj=patient, patient_id=patient.pk)
    now = timezone.now()
    pumps = list(patient.pumps.order_by("-implant_date"))
    active = next((p for p in pumps if p.is_active), None)
    assessed = _chart_safety(patient)
    state = assessed["safety"]
    context = {
        **assessed,
        "patient": patient,
        "pumps": pumps,
        "pump": active,
        "links": patient.caregiver_links.select_related("caregiver__user").order_by(
            "-active", "-primary_contact"
        ),
        "appointments": _judged(Appointment.objects.filter(patient=patient).upcoming(now=now), state),
        "past_appointments": Appointment.objects.filter(patient=patient, start__lt=now).order_by("-start")[
            :10
        ],
        "reminders": Reminder.objects.filter(patient=patient)
        .select_related("caregiver__user")
        .order_by("-send_after")[:30],
        "documents": patient.documents.order_by("-created_at")[:20],
        **_sign_reports(patient),
        "ladder_steps": LadderStep.objects.filter(concern__patient=patient)
        .select_related("concern", "caregiver__user", "outcome_by", "sms_message")
        .order_by("-at", "-pk")[:40],
        "today": _today(patient.clinic),
        "now": now,
        "appointment_actions": APPOINTMENT_ACTIONS,
    }
    if active:
        context.update(_chart_pump_data(active))
    return render(request, "staff/chart.html", context)


@staff_required
def battery(request):
    clinic = clinic_of(request.user)
    today = _today(clinic)
    # The pumps whose battery window is open (the assessment's ERI and battery concerns), and
    # those already booked for replacement (the concern closed when it was booked).
    window = Pump.objects.active().filter(patient__clinic=clinic).select_related("patient")
    pumps = [p for p in window.order_by("implant_date") if p.battery_window_open(today)]
    rows = []
    booked = {
        a.patient_id: a
        for a in Appointment.objects.open().filter(patient__clinic=clinic, kind=Appointment.Kind.BATTERY)
    }
    for pump in pumps:
        rows.append(
            {
                "pump": pump,
                "patient": pump.patient,
                "replace_by": pump.replace_by(),
                "booked": booked.get(pump.patient_id),
            }
        )
    return render(request, "staff/battery.html", {"rows": rows, "today": today})


@staff_required
def day(request):
    clinic = clinic_of(request.user)
    tz = clinic.tzinfo
    try:
        the_day = date.fromisoformat(request.GET.get("date", "")[:10])
    except ValueError:
        the_day = _today(clinic)
    if not date(1900, 1, 1) <= the_day <= date(2999, 12, 31):
        the_day = _today(clinic)  # year 1 or 9999 would overflow the day's bounds
    start = timezone.make_aware(datetime.combine(the_day, time(0)), tz)
    end = timezone.make_aware(datetime.combine(the_day + timedelta(days=1), time(0)), tz)
    appointments = (
        Appointment.objects.visible_to(request.user)
        .filter(start__gte=start, start__lt=end)
        .select_related("patient")
        .order_by("start")
    )
    hours = [
        {"hour": h, "appointments": [a for a in appointments if timezone.localtime(a.start, tz).hour == h]}
        for h in range(7, 19)
    ]
    early_late = [a for a in appointments if not 7 <= timezone.localtime(a.start, tz).hour < 19]
    return render(
        request,
        "staff/day.html",
        {
            "day": the_day,
            "hours": hours,
            "other": early_late,
            "previous": the_day - timedelta(days=1),
            "next": the_day + timedelta(days=1),
            "count": len(appointments),
            "appointment_actions": APPOINTMENT_ACTIONS,
        },
    )

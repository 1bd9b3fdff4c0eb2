"""The clinic's safety figures page (month by month, server-rendered charts) and its CSV."""

from __future__ import annotations

import csv
from datetime import datetime
from decimal import Decimal

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.safestring import mark_safe

from patients.accounts.permissions import clinic_of, staff_required
from patients.staff.charts import line_chart_svg
from patients.staff.figures.compute import HOW, Month
from patients.staff.figures.data import clinic_figures

COLUMNS = [
    ("month", "Month", lambda m: f"{m.start:%Y-%m}"),
    ("refills", "Refills recorded", lambda m: m.refills),
    ("margin_median_days", "Margin to alarm, median (days)", lambda m: m.margin_median),
    ("margin_p10_days", "Margin to alarm, 10th percentile (days)", lambda m: m.margin_p10),
    ("margin_min_days", "Margin to alarm, smallest (days)", lambda m: m.margin_min),
    ("refills_after_due", "Refills after the refill-due date", lambda m: m.after_due),
    ("alarms_passed", "Alarm dates passed before a refill", lambda m: m.alarms_passed),
    ("pump_months", "Pump-months", lambda m: m.pump_months.quantize(Decimal("0.01"))),
    ("alarms_per_100_pump_months", "Alarm dates passed per 100 pump-months", lambda m: m.alarms_per_100),
    ("texts_sent", "Texts sent", lambda m: m.texts_sent),
    ("texts_undelivered", "Texts undelivered", lambda m: m.texts_undelivered),
    (
        "critical_ack_median_hours",
        "Critical concern to acknowledgement, median (hours)",
        lambda m: m.ack_median_hours,
    ),
    ("critical_not_acknowledged", "Critical concerns not acknowledged", lambda m: m.not_acknowledged),
    ("ladder_texts", "Ladder: texts asking for an answer", lambda m: m.ladder["text"]),
    ("ladder_next_texts", "Ladder: texts to the next caregiver", lambda m: m.ladder["text_next"]),
    ("ladder_calls", "Ladder: phone calls", lambda m: m.ladder["call"]),
    ("ladder_call_list", "Ladder: on the nurses' call list", lambda m: m.ladder["call_list"]),
]
CHARTS = [
    ("refills", "Refills recorded", "refills", lambda m: m.refills),
    ("margin", "Days of margin to the alarm date, median", "days", lambda m: m.margin_median),
    ("alarms_passed", "Alarm dates passed per 100 pump-months", "per 100", lambda m: m.alarms_per_100),
    ("texts", "Texts undelivered", "texts", lambda m: m.texts_undelivered),
    ("ack", "Critical concern to acknowledgement, median", "hours", lambda m: m.ack_median_hours),
    ("ladder", "Ladder steps taken (texts, calls, call list)", "steps", lambda m: sum(m.ladder.values())),
]


def _chart(months: list[Month], title: str, unit: str, value) -> str:
    points = [
        (datetime(m.start.year, m.start.month, 1, tzinfo=timezone.get_current_timezone()), Decimal(value(m)))
        for m in months
        if value(m) is not None
    ]
    return mark_safe(line_chart_svg(points, title=title, unit=unit))  # noqa: S308 - built from escaped parts


def _blank(value) -> object:
    return "" if value is None else value


@staff_required
def figures(request: HttpRequest) -> HttpResponse:
    clinic = clinic_of(request.user)
    months = clinic_figures(clinic=clinic, now=timezone.now())
    charts = {key: _chart(months, title, unit, value) for key, title, unit, value in CHARTS}
    # One row per figure, one column per month: twelve short numbers read across a screen.
    table = [(label, [_blank(get(m)) for m in months]) for _, label, get in COLUMNS[1:]]
    context = {
        "clinic": clinic,
        "charts": charts,
        "how": HOW,
        "months": [m.start for m in months],
        "table": table,
    }
    return render(request, "staff/figures.html", context)


@staff_required
def figures_csv(request: HttpRequest) -> HttpResponse:
    months = clinic_figures(clinic=clinic_of(request.user), now=timezone.now())
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="safety-figures.csv"'
    writer = csv.writer(response)
    writer.writerow([key for key, _, _ in COLUMNS])
    for month in months:
        writer.writerow([_blank(get(month)) for _, _, get in COLUMNS])
    return response

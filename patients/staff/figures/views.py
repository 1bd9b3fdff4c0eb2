"""The clinic's safety figures page (month by month, server-rendered charts) and its CSV."""

from __future__ import annotations

import csv
from decimal import Decimal

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.safestring import mark_safe

from patients.accounts.permissions import clinic_of, staff_required
from patients.staff.figures.compute import HOW, Month
from patients.staff.figures.data import clinic_figures
from patients.staff.figures.svg import month_bars_svg

COLUMNS = [
    ("month", "Month", lambda m: f"{m.start:%Y-%m}"),
    ("refills", "Refills recorded", lambda m: m.refills),
    (
        "margin_median_days",
        "Days to spare before the alarm, half of refills had less",
        lambda m: m.margin_median,
    ),
    ("margin_p10_days", "Days to spare before the alarm, 1 in 10 refills had less", lambda m: m.margin_p10),
    ("margin_min_days", "Days to spare before the alarm, the fewest", lambda m: m.margin_min),
    ("refills_after_due", "Refills after the refill-due date", lambda m: m.after_due),
    ("alarms_passed", "Alarm dates passed before a refill", lambda m: m.alarms_passed),
    ("pump_months", "Pump-months", lambda m: m.pump_months.quantize(Decimal("0.01"))),
    ("alarms_per_100_pump_months", "Alarm dates passed per 100 pump-months", lambda m: m.alarms_per_100),
    ("texts_sent", "Texts sent", lambda m: m.texts_sent),
    ("texts_undelivered", "Texts undelivered", lambda m: m.texts_undelivered),
    (
        "critical_ack_median_hours",
        "Hours from a critical concern to its acknowledgement, half were sooner",
        lambda m: m.ack_median_hours,
    ),
    ("critical_not_acknowledged", "Critical concerns not acknowledged", lambda m: m.not_acknowledged),
    ("ladder_texts", "Ladder: texts asking for an answer", lambda m: m.ladder["text"]),
    ("ladder_next_texts", "Ladder: texts to the next caregiver", lambda m: m.ladder["text_next"]),
    ("ladder_calls", "Ladder: phone calls", lambda m: m.ladder["call"]),
    ("ladder_call_list", "Ladder: on the nurses' call list", lambda m: m.ladder["call_list"]),
]
CHARTS = [
    ("refills", "Refills recorded", "Refills", lambda m: m.refills),
    (
        "margin",
        "Days to spare before the alarm date: half of the refills had less",
        "Days",
        lambda m: m.margin_median,
    ),
    (
        "alarms_passed",
        "Alarm dates passed per 100 pump-months",
        "Per 100 pump-months",
        lambda m: m.alarms_per_100,
    ),
    ("texts", "Texts undelivered", "Texts", lambda m: m.texts_undelivered),
    (
        "ack",
        "Critical concern to acknowledgement: half were acknowledged sooner",
        "Hours",
        lambda m: m.ack_median_hours,
    ),
    ("ladder", "Ladder steps taken (texts, calls, call list)", "Steps", lambda m: sum(m.ladder.values())),
]


def _chart(months: list[Month], title: str, y_label: str, value) -> str:
    """Complete months only: the current month, still running, is in the table marked "so far"."""
    points = [(m.start, value(m)) for m in months[:-1]]
    return mark_safe(month_bars_svg(points, title=title, y_label=y_label))  # noqa: S308 - escaped parts


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
        "today": timezone.localdate(timezone.now(), clinic.tzinfo),
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

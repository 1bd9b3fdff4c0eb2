"""The worklist's table rows, rendered in Python (issue 16: the worklist at 5,000 children).

The template language cost about 2 ms per row here (two includes, four {% url %}, a dozen
filters, a translation lookup per month name); 50 rows were most of the page's time. This writes
the same markup with f-strings, every value escaped, each URL from one reversed pattern per page.
The markup and its classes are what the worklist's tests and journeys read; change them here.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from html import escape

from django.template.defaultfilters import urlencode
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from pumps import safety

_ID = 987654321  # reversed once per page, then replaced by each row's id

# The staff console is in English (its templates are not translated): its dates are written here
# as the `date` filter writes them in English ("j M Y", "D j M", "H:i"), without a translation
# lookup per name (most of the rows' time, profiled).
_MONTHS = ("", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_BADGE = {safety.Tier.CRITICAL: "text-bg-danger", safety.Tier.URGENT: "text-bg-warning"}
_ROW_TONE = {
    safety.TIER_RANK[safety.Tier.CRITICAL]: "row-danger",
    safety.TIER_RANK[safety.Tier.URGENT]: "row-warning",
}


def _day(value: date) -> str:  # "j M Y"
    return f"{value.day} {_MONTHS[value.month]} {value.year}"


def _days(n: int) -> str:
    """A real plural: "1 day", "9 days"."""
    return f"{n} day" if n == 1 else f"{n} days"


def _weekday(value: datetime) -> str:  # "D j M"
    return f"{_DAYS[value.weekday()]} {value.day} {_MONTHS[value.month]}"


def _number(value, places: int) -> str:
    """As |floatformat:"-places": no decimals for a whole number, else exactly `places`."""
    value = Decimal(value)
    if value == value.to_integral_value():
        return str(value.quantize(Decimal(1)))
    return str(value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


class _Page:
    """What every row shares: one reverse() per link pattern, the display names."""

    def __init__(self, next_path: str, today: date):
        from alerts.models import Concern
        from pumps.models import Pump

        self.today = today
        self.next = escape(urlencode(next_path))
        self.patterns = {
            "chart": reverse("staff:chart", args=[_ID]),
            "refill": reverse("staff:visit", args=[_ID, "refill"]),
            "move": reverse("staff:appointment_reschedule", args=[_ID]),
            "book": reverse("staff:appointment_book", args=[_ID]),
        }
        choices = Pump._meta.get_field("model").flatchoices
        self.models = {value: escape(str(label)) for value, label in choices}
        self.tiers = {value: escape(str(label)) for value, label in Concern.Tier.choices}

    def url(self, name: str, pk: int) -> str:
        return escape(self.patterns[name].replace(str(_ID), str(pk)))


def _actions(row: dict, page: _Page) -> str:
    state, patient = row["state"], row["patient"]
    if state.next_refill_id:
        second = (
            f'<a class="btn btn-sm btn-outline-primary" href="{page.url("move", state.next_refill_id)}'
            f'?next={page.next}">Move</a>'
        )
    else:
        second = (
            f'<a class="btn btn-sm btn-outline-primary" href="{page.url("book", patient.pk)}'
            f'?kind=refill&amp;next={page.next}">Book</a>'
        )
    refill = page.url("refill", patient.pk)
    return (
        f'<div class="worklist-actions"><a class="btn btn-sm btn-outline-primary" href="{refill}">Refill</a> '
        f"{second}</div>"
    )


def _program(row: dict) -> str:
    program = row["program"]
    if program is None:
        return "No program"
    extra = (" · flex" if program.mode == "flex" else "") + (" · bolus" if program.has_patient_bolus else "")
    return (
        f'<span class="text-nowrap">{_number(program.daily_dose_mcg, 2)} mcg/day</span> · '
        f'<span class="text-nowrap">{_number(program.concentration_mcg_ml, 1)} mcg/mL</span>{extra}'
    )


def _alarm(row: dict) -> str:
    state, days = row["state"], row["days_left"]
    if not state.alarm_day:
        return '<span class="badge text-bg-danger">No fill recorded</span>'
    if days < 0:
        when = '<span class="badge text-bg-danger">passed</span>'
    elif days == 0:
        when = '<span class="badge text-bg-danger">today</span>'
    else:
        when = f"<small>in {_days(days)}</small>"
    printed = ""
    if state.alarm_source == "printed":
        printed = '<br><small class="text-danger">printed date governs</small>'
    elif state.alarm_source == "observed":
        printed = '<br><small class="text-danger">observed delivery governs</small>'
    return f"{_day(state.alarm_day)} {when}{printed}"


def _refill_due(state, today: date) -> str:
    if not state.refill_due:
        return "—"
    overdue = ' <span class="badge text-bg-danger">overdue</span>' if state.refill_due < today else ""
    return f"{_day(state.refill_due)}{overdue}"


def _next_refill(state) -> str:
    if not state.next_refill_at:
        return '<span class="text-danger fw-semibold">None booked</span>'
    at = timezone.localtime(state.next_refill_at)
    return f"{_weekday(at)} <small>{at:%H:%M}</small>"


def _concerns(row: dict, page: _Page) -> str:
    return "".join(
        f'<li class="flag flag-{escape(c.kind)} tier-{escape(c.tier)}">'
        f'<span class="badge {_BADGE.get(c.tier, "text-bg-secondary")}">{page.tiers.get(c.tier, "")}</span> '
        f"{escape(c.nurse_words)}</li>"
        for c in row["concerns"]
    )


def worklist_rows_html(rows: list[dict], *, today: date, next_path: str) -> SafeString:
    """The <tr> of every row, most dangerous first (as `rows` are). Every value that comes from
    the database or the request is escaped (html.escape, quotes included)."""
    page = _Page(next_path, today)
    out = []
    for row in rows:
        state, patient = row["state"], row["patient"]
        actions = _actions(row, page)
        tone = _ROW_TONE.get(state.tier_rank, "")
        model = page.models.get(row["pump"].model, escape(str(row["pump"].model)))
        out.append(
            f'<tr class="{tone}"><td><a href="{page.url("chart", patient.pk)}" class="fw-semibold">'
            f"{escape(patient.last_name)}, {escape(patient.first_name)}</a> "
            f'<small class="text-body-secondary text-nowrap"><span class="visually-hidden">MRN </span>'
            f"{escape(patient.mrn)}</small>"
            f'<div class="d-xl-none mt-1">{actions}</div></td>'
            f'<td class="program"><small><span class="d-none d-xxl-inline">{model} · </span>{_program(row)}'
            f"</small></td>"
            f'<td class="text-nowrap">{_alarm(row)}</td>'
            f'<td class="text-nowrap">{_refill_due(state, page.today)}</td>'
            f'<td class="text-nowrap">{_next_refill(state)}</td>'
            f'<td class="concerns"><ul class="list-unstyled mb-0 flags">{_concerns(row, page)}</ul></td>'
            f'<td class="d-none d-xl-table-cell">{actions}</td></tr>\n'
        )
    return mark_safe("".join(out))  # noqa: S308 - every value above is escaped

"""The chart page and its server-rendered SVG charts."""

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from patients.staff.charts import dose_chart_svg, residual_chart_svg
from tests.factories import ProgramFactory, refill


def test_dose_chart_is_an_accessible_svg_with_a_point_per_change():
    points = [
        (datetime(2026, 1, 5, tzinfo=UTC), Decimal(250)),
        (datetime(2026, 5, 1, tzinfo=UTC), Decimal(300)),
    ]
    svg = dose_chart_svg(points)
    assert svg.startswith("<svg") and 'role="img"' in svg
    assert "<title>Daily dose over time</title>" in svg
    assert "05 Jan 2026: 250 mcg/day" in svg and svg.count("<circle") == 2


def test_chart_text_is_escaped():
    svg = dose_chart_svg([(datetime(2026, 1, 5, tzinfo=UTC), Decimal(1))], title="<script>x</script>")
    assert "<script>" not in svg and "&lt;script&gt;" in svg


def test_an_empty_chart_says_so():
    assert "No data yet." in residual_chart_svg([])


@pytest.mark.django_db
def test_chart_shows_forecast_printed_date_warning_and_residual_trend(nurse_client, child, parent):
    pump = child.pumps.get()
    program = ProgramFactory(pump=pump, daily_dose_mcg=Decimal(330))
    visit = refill(
        pump,
        visit_at=timezone.now() - timedelta(days=2),
        program=program,
        expected_residual_ml=Decimal(4),
        actual_residual_ml=Decimal("6.5"),
        printed_alarm_date=timezone.localdate() - timedelta(days=30),
    )
    response = nurse_client.get(reverse("staff:chart", args=[child.pk]))
    html = response.content.decode()
    assert visit.printed_alarm_differs
    assert "differ by more than a day" in html
    # Judged on the delivery since the fill before (docs/rules.md#residual-volume-check).
    assert re.search(r"urgent: \+2\.50 mL, delivered 8\d %", html)
    assert "Observed delivery" in html and "% of programmed" in html
    assert html.count("<svg") == 2 and "mcg/day" in html
    assert parent.email in html and "texts on" in html

"""Writes with consequences for pumps. The forecast of a visit is computed here, once, from
the same inputs the clinician programmer uses (DOMAIN.md)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.utils import timezone

from . import forecast as fc
from .models import Program, Pump


def visit_forecast(
    *,
    pump: Pump,
    program: Program,
    visit_at: datetime,
    volume_after_ml: Decimal,
    bridge_bolus_ml: Decimal = Decimal(0),
    last_refill_at: datetime | None = None,
) -> dict:
    """The forecast fields of a visit: alarm, empty and refill-due, nominal and worst case.

    `last_refill_at` is the last time the reservoir was filled (the visit itself for a refill);
    the 180-day drug-stability cap counts from it. Raises forecast.ForecastError on bad input.
    """
    clinic = pump.patient.clinic
    tz = clinic.tzinfo
    local_visit = timezone.localtime(visit_at, tz)
    result = fc.forecast(
        program.as_forecast_program(),
        fc.Fill(
            refill_at=local_visit,
            volume_ml=Decimal(volume_after_ml),
            capacity_ml=pump.capacity_ml,
            one_off_bolus_ml=Decimal(bridge_bolus_ml or 0),
            pump_utc_offset=local_visit.utcoffset(),
        ),
    )
    due = fc.refill_due(
        alarm_at=result.alarm_at_worst,
        last_refill_at=last_refill_at or visit_at,
        tz=tz,
        lead_days=clinic.refill_lead_days,
        max_interval_days=clinic.max_refill_interval_days,
    )
    return {
        "alarm_at": result.alarm_at,
        "alarm_at_worst": result.alarm_at_worst,
        "empty_at": result.empty_at,
        "empty_at_worst": result.empty_at_worst,
        "refill_due": due,
    }

"""The rows the safety figures are computed from, for one clinic (tenancy follows the child)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from patients.staff.figures import compute


def clinic_figures(*, clinic, now: datetime, count: int = 12) -> list[compute.Month]:
    from alerts.models import Concern, LadderStep, SmsMessage
    from pumps.models import Pump, RefillVisit

    tz = ZoneInfo(clinic.time_zone)
    months = compute.month_starts(today=now.astimezone(tz).date(), count=count)
    visits = [
        compute.Visit(
            pump_id=row[0],
            at=row[1],
            kind=row[2],
            alarm_at=row[3],
            refill_due=row[4],
            pump_in_service=row[5] is None,
        )
        for row in RefillVisit.objects.filter(pump__patient__clinic=clinic)
        .order_by("pump_id", "visit_at", "pk")
        .values_list("pump_id", "visit_at", "kind", "alarm_at_worst", "refill_due", "pump__explant_date")
    ]
    pumps = [
        compute.PumpSpan(implant=implant, explant=explant)
        for implant, explant in Pump.objects.filter(patient__clinic=clinic).values_list(
            "implant_date", "explant_date"
        )
    ]
    texts = list(
        SmsMessage.objects.filter(
            patient__clinic=clinic,
            direction=SmsMessage.Direction.OUTBOUND,
            created_at__gte=_start(months[0], tz),
        )
        .exclude(backend="twiml")
        .values_list("created_at", "status")
    )
    criticals = [
        compute.CriticalConcern(began_at=began, acknowledged_at=acknowledged)
        for began, acknowledged in Concern.objects.filter(
            clinic=clinic, tier=Concern.Tier.CRITICAL, began_at__gte=_start(months[0], tz)
        ).values_list("began_at", "acknowledged_at")
    ]
    steps = list(
        LadderStep.objects.for_clinic(clinic).filter(at__gte=_start(months[0], tz)).values_list("at", "rung")
    )
    return compute.compute(
        months=months,
        tz=tz,
        now=now,
        visits=visits,
        pumps=pumps,
        texts=texts,
        criticals=criticals,
        ladder_steps=steps,
    )


def _start(day, tz: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=tz)

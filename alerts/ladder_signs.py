"""The ladder of a report of warning signs (issue 25): the nurses, not the family, are chased.

The report's concern e-mails the nurse inbox when it opens (alerts/concerns.py). While the clinic
is open, if no nurse acknowledges it within the clinic's `signs_ack_minutes` of open-clinic time
(alerts/ladder_rules.py: signs_ack_due; a report in closed hours starts its clock at the
opening), the ladder's call step reaches the nurse inbox again and the child goes on today's
call list. Each is a LadderStep on the concern, taken once under the concern's row lock.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from alerts import ladder_rules as rules
from alerts.concerns import concern_email
from alerts.models import Concern, LadderStep

Rung = LadderStep.Rung


def signs_waiting():
    """Open reports of signs no nurse has acknowledged, whose call step is not taken yet."""
    return (
        Concern.objects.open()
        .filter(kind=Concern.Kind.SIGNS_REPORTED, acknowledged_at__isnull=True)
        .exclude(ladder_steps__rung=Rung.CALL)
    )


def signs_ladders_advance(*, now: datetime) -> int:
    """The beat's part: each waiting report past its acknowledgement time takes its call step.
    Returns how many did."""
    from patients.clinic_hours import clinic_calendar

    calendars: dict[int, object] = {}
    taken = 0
    for concern in signs_waiting().select_related("clinic").order_by("began_at", "pk"):
        clinic = concern.clinic
        if clinic.pk not in calendars:
            calendars[clinic.pk] = clinic_calendar(clinic)
        due = rules.signs_ack_due(
            reported_at=concern.began_at, minutes=clinic.signs_ack_minutes, calendar=calendars[clinic.pk]
        )
        if now >= due and _call_step(concern.pk, now=now, minutes=clinic.signs_ack_minutes):
            taken += 1
    return taken


@transaction.atomic
def _call_step(concern_id: int, *, now: datetime, minutes: int) -> bool:
    concern = signs_waiting().select_for_update(skip_locked=True, of=("self",)).filter(pk=concern_id).first()
    if concern is None:  # acknowledged, resolved, taken by another beat, or held by one
        return False
    why = f"Not acknowledged within {minutes} min of clinic time"
    LadderStep.objects.create(
        concern=concern, rung=Rung.CALL, at=now, note=f"{why}: nurse inbox e-mailed again"
    )
    today = now.astimezone(concern.clinic.tzinfo).date()
    LadderStep.objects.get_or_create(
        concern=concern, rung=Rung.CALL_LIST, list_day=today, defaults={"at": now, "note": why}
    )
    transaction.on_commit(lambda: concern_email(concern_id=concern_id, again=why))
    return True

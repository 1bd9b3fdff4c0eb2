"""Where a child is in the weeks after an implant (the handout's after-surgery care).

Pure: plain dates in, a small value out, no Django. How urgent a refill is lives in the safety
assessment (pumps/safety.py), read by the card through its stored concerns.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

# The handout's after-surgery care applies for the first six weeks after an implant.
RECOVERY_DAYS = 42
# Keep the incision dry, and return to school and light activities, after one week.
INCISION_DRY_DAYS = 7
SCHOOL_AFTER_DAYS = 7
# The abdominal binder is worn for six weeks.
BINDER_DAYS = 42


@dataclass(frozen=True)
class Recovery:
    """Where a child is in the first weeks after an implant (None outside them)."""

    implant_date: date
    day: int  # days since the implant
    dry_until: date
    school_from: date
    binder_until: date

    @property
    def incision_must_stay_dry(self) -> bool:
        return self.day < INCISION_DRY_DAYS

    @property
    def may_be_at_school(self) -> bool:
        return self.day >= SCHOOL_AFTER_DAYS


def recovery(*, implant_date: date, today: date) -> Recovery | None:
    day = (today - implant_date).days
    if day < 0 or day >= RECOVERY_DAYS:
        return None
    return Recovery(
        implant_date=implant_date,
        day=day,
        dry_until=implant_date + timedelta(days=INCISION_DRY_DAYS),
        school_from=implant_date + timedelta(days=SCHOOL_AFTER_DAYS),
        binder_until=implant_date + timedelta(days=BINDER_DAYS),
    )

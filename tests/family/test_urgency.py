"""The weeks after an implant (pure). The card's urgency: tests/pumps/test_safety.py."""

from datetime import date, timedelta

from patients import urgency as urg

TODAY = date(2026, 11, 23)


def day(n):
    return TODAY + timedelta(days=n)


def test_recovery_lasts_six_weeks_from_the_implant():
    assert urg.recovery(implant_date=day(-urg.RECOVERY_DAYS), today=TODAY) is None
    assert urg.recovery(implant_date=day(1), today=TODAY) is None
    r = urg.recovery(implant_date=day(-3), today=TODAY)
    assert r.day == 3
    assert r.incision_must_stay_dry
    assert r.dry_until == day(4)
    assert r.school_from == day(4)
    assert r.binder_until == day(39)
    assert not urg.recovery(implant_date=day(-10), today=TODAY).incision_must_stay_dry

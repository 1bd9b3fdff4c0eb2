"""The urgency rules behind the home card's colour and words (pure, table-driven)."""

from datetime import date, timedelta

import pytest

from patients import urgency as urg

TODAY = date(2026, 11, 23)


def day(n):
    return TODAY + timedelta(days=n)


@pytest.mark.parametrize(
    ("alarm", "due", "appointment", "level", "reason"),
    [
        (40, 33, None, urg.Level.PLENTY, urg.Reason.NOT_DUE_YET),
        (40, 33, 30, urg.Level.PLENTY, urg.Reason.BOOKED),
        (20, 13, None, urg.Level.BOOK_NOW, urg.Reason.DUE_SOON),
        (20, 13, 25, urg.Level.BOOK_NOW, urg.Reason.BOOKED_AFTER_ALARM),
        (3, -4, None, urg.Level.CALL_TODAY, urg.Reason.ALARM_NEAR),
        (0, -7, None, urg.Level.CALL_TODAY, urg.Reason.ALARM_NEAR),
        (3, -4, 5, urg.Level.CALL_TODAY, urg.Reason.ALARM_NEAR),
        (2, -5, 1, urg.Level.PLENTY, urg.Reason.BOOKED),
        (2, -5, 2, urg.Level.PLENTY, urg.Reason.BOOKED),
        (-1, -8, None, urg.Level.CALL_TODAY, urg.Reason.ALARM_PASSED),
        (-1, -8, 1, urg.Level.CALL_TODAY, urg.Reason.ALARM_PASSED),
    ],
)
def test_urgency_follows_the_named_thresholds(alarm, due, appointment, level, reason):
    result = urg.refill_urgency(
        today=TODAY,
        alarm_day=day(alarm),
        refill_due=day(due),
        appointment_day=day(appointment) if appointment is not None else None,
    )
    assert (result.level, result.reason, result.days_to_alarm, result.days_to_due) == (
        level,
        reason,
        alarm,
        due,
    )


def test_book_now_starts_exactly_at_the_threshold_before_the_due_date():
    limit = urg.BOOK_NOW_BEFORE_DUE_DAYS
    kw = {"today": TODAY, "alarm_day": day(limit + 20), "appointment_day": None}
    assert urg.refill_urgency(refill_due=day(limit), **kw).level == urg.Level.BOOK_NOW
    assert urg.refill_urgency(refill_due=day(limit + 1), **kw).level == urg.Level.PLENTY


def test_call_today_starts_exactly_at_the_threshold_before_the_alarm():
    limit = urg.CALL_TODAY_WITHIN_DAYS
    kw = {"today": TODAY, "refill_due": day(-5), "appointment_day": None}
    assert urg.refill_urgency(alarm_day=day(limit), **kw).level == urg.Level.CALL_TODAY
    assert urg.refill_urgency(alarm_day=day(limit + 1), **kw).level == urg.Level.BOOK_NOW


def test_a_child_without_a_refill_asks_for_booking_unless_one_is_booked():
    none = urg.refill_urgency(today=TODAY, alarm_day=None, refill_due=None, appointment_day=None)
    assert (none.level, none.reason) == (urg.Level.BOOK_NOW, urg.Reason.NO_REFILL)
    booked = urg.refill_urgency(today=TODAY, alarm_day=None, refill_due=None, appointment_day=day(3))
    assert booked.level == urg.Level.PLENTY


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

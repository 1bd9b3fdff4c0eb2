"""Tests for pumps.delivery: worked examples, then the properties the rules promise (bounded,
monotone in the evidence, one stray reading never moves a date later)."""

from datetime import UTC, datetime, timedelta
from decimal import ROUND_FLOOR
from decimal import Decimal as D
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from pumps import delivery as dl
from pumps import forecast as fc

T0 = datetime(2026, 1, 5, 16, 0, tzinfo=UTC)


def fills(*rows, catheter_at=None):
    """Fills newest first from (expected, actual) readings, oldest first, each 20 mL filled 90
    days apart; the oldest fill has no reading."""
    out = [dl.FillRecord(at=T0, volume_after_ml=D(20))]
    for i, (expected, actual) in enumerate(rows, start=1):
        out.append(
            dl.FillRecord(
                at=T0 + timedelta(days=90 * i),
                volume_after_ml=D(20),
                expected_residual_ml=D(expected),
                actual_residual_ml=D(actual),
                catheter_revised=(i == catheter_at),
            )
        )
    return list(reversed(out))


def reading(programmed, delivered, days=0):
    return dl.Reading(at=T0 + timedelta(days=days), programmed_ml=D(programmed), delivered_ml=D(delivered))


def test_a_pump_delivering_12_percent_more_over_three_fills():
    # 16 mL programmed each time (20 -> 4 expected), 17.92 mL delivered (2.08 left).
    found = dl.delivery(fills(("4", "2.08"), ("4", "2.08"), ("4", "2.08")))
    assert found.ratio == D("1.120")
    assert found.fills == 3
    assert found.forecast_ratio == D("1.120")
    assert found.percent == 112
    assert found.since == T0 + timedelta(days=90)


def test_recent_fills_weigh_more():
    # The newest reading (ratio 1.2) weighs 8, the one before (ratio 1.0) 4: (8x1.2 + 4x1.0)/12.
    found = dl.estimate([reading(10, 12), reading(10, 10)])
    assert found.ratio == D("1.133")
    # Leaving the 1.0 reading out gives 1.2: the dates use it.
    assert found.forecast_ratio == D("1.200")


def test_the_window_is_four_readings():
    found = dl.delivery(fills(*[("4", "4")] * 6))
    assert found.fills == dl.WINDOW


def test_a_catheter_revision_starts_a_new_series():
    rows = [("4", "0.8"), ("4", "0.8"), ("4", "4"), ("4", "4")]
    found = dl.delivery(fills(*rows, catheter_at=3))
    # The revised interval and those before it do not count: only the last reading.
    assert found.fills == 1
    assert found.ratio == D("1.000")


def test_a_programming_change_does_not_reset():
    # Readings only come from fills: a programming visit is not a fill, and its effect is in the
    # programmer's expected residual. Three fills with a different expected residual still count.
    found = dl.delivery(fills(("4", "2.4"), ("8", "6.8"), ("6", "4.6")))
    assert found.fills == 3
    assert found.ratio > 1


def test_unreadable_intervals_are_skipped():
    rows = [
        dl.FillRecord(at=T0 + timedelta(days=90), volume_after_ml=D(20)),
        dl.FillRecord(at=T0, volume_after_ml=D(20)),
    ]
    assert dl.delivery(rows) is None  # no residual recorded
    # Less than 1 mL programmed: nothing to read.
    assert dl.reading(at=T0, start_ml=D("3"), expected_ml=D("2.5"), actual_ml=D("0")) is None


def test_bounds_of_a_single_reading():
    stalled = dl.reading(at=T0, start_ml=D(20), expected_ml=D(4), actual_ml=D(25))
    assert stalled.delivered_ml == 0
    assert dl.estimate([stalled]).ratio == 0
    assert dl.estimate([stalled]).forecast_ratio == dl.FORECAST_MIN
    emptied = dl.reading(at=T0, start_ml=D(20), expected_ml=D(19), actual_ml=D(0))
    assert emptied.delivered_ml == 2  # held at twice the 1 mL programmed
    assert dl.estimate([emptied]).forecast_ratio == dl.FORECAST_MAX


def test_the_observed_alarm_date_at_112_percent():
    program = fc.Program(concentration_mcg_ml=D(500), daily_dose_mcg=D(100))  # 0.2 mL/day
    fill = fc.Fill(refill_at=T0, volume_ml=D(20), capacity_ml=D(20))
    found = dl.estimate([reading(16, "17.92")])
    dates = dl.observed_forecast(program, fill, found)
    # 18 mL to the alarm at 0.224 mL/day: 80.357... days, against 90 days programmed.
    us = timedelta(microseconds=1)  # truncated to the microsecond: the earlier side
    assert T0 + timedelta(days=18 / 0.224) - us <= dates.alarm_at <= T0 + timedelta(days=18 / 0.224)
    assert T0 + timedelta(days=20 / 0.224) - us <= dates.empty_at <= T0 + timedelta(days=20 / 0.224)
    assert fc.forecast(program, fill).alarm_at_worst - dates.alarm_at > timedelta(days=9)
    # A pump delivering as programmed, or less, has no observed-rate date.
    assert dl.observed_forecast(program, fill, dl.estimate([reading(16, 15)])) is None


# --- Properties ----------------------------------------------------------------------------------

volumes = st.decimals(min_value=D(1), max_value=D(40), places=2)
ratios = st.decimals(min_value=D(0), max_value=D("2.5"), places=3)


@st.composite
def readings_lists(draw, min_size=1, max_size=dl.WINDOW):
    n = draw(st.integers(min_size, max_size))
    out = []
    for i in range(n):
        programmed = draw(volumes)
        ratio = draw(ratios)
        raw = dl.reading(
            at=T0 - timedelta(days=90 * i),
            start_ml=programmed + 2,
            expected_ml=D(2),
            actual_ml=programmed + 2 - programmed * ratio,
        )
        out.append(raw)
    return out


@settings(max_examples=300, deadline=None)
@given(found=readings_lists())
def test_bounded(found):
    result = dl.estimate(found)
    assert D(0) <= result.ratio <= dl.RATIO_MAX
    assert dl.FORECAST_MIN <= result.forecast_ratio <= dl.FORECAST_MAX
    assert result.spread >= 0
    # The dates use the larger of the two whenever the estimate is within the forecast bounds.
    assert result.forecast_ratio >= min(result.ratio, dl.FORECAST_MAX)


@settings(max_examples=300, deadline=None)
@given(found=readings_lists(), data=st.data())
def test_monotone_in_the_evidence(found, data):
    """More delivered in any one reading never lowers the estimate or the ratio the dates use."""
    i = data.draw(st.integers(0, len(found) - 1))
    more = data.draw(st.decimals(min_value=D(0), max_value=D(10), places=2))
    r = found[i]
    raised = dl.Reading(
        at=r.at,
        programmed_ml=r.programmed_ml,
        delivered_ml=min(r.delivered_ml + more, r.programmed_ml * dl.RATIO_MAX),
    )
    before, after = dl.estimate(found), dl.estimate(found[:i] + [raised] + found[i + 1 :])
    assert after.ratio >= before.ratio
    assert after.forecast_ratio >= before.forecast_ratio


@settings(max_examples=300, deadline=None)
@given(found=readings_lists(), data=st.data())
def test_a_single_outlier_cannot_move_a_date_later(found, data):
    """Whatever one reading says, the observed-rate alarm is never later than the one the other
    readings' estimate gives without it (with no other reading: the programmed worst case)."""
    i = data.draw(st.integers(0, len(found) - 1))
    delivered = data.draw(st.decimals(min_value=D(0), max_value=D(80), places=2))
    r = found[i]
    stray = dl.Reading(
        at=r.at, programmed_ml=r.programmed_ml, delivered_ml=min(delivered, r.programmed_ml * 2)
    )
    with_stray = found[:i] + [stray] + found[i + 1 :]
    others = found[:i] + found[i + 1 :]
    program = fc.Program(
        concentration_mcg_ml=D(500), daily_dose_mcg=D(100), bolus_mcg=D(25), bolus_max_per_day=2
    )
    fill = fc.Fill(refill_at=T0, volume_ml=D(20), capacity_ml=D(20))
    programmed = fc.forecast(program, fill).alarm_at_worst
    dated = dl.observed_forecast(program, fill, dl.estimate(with_stray))
    stray_day = dated.alarm_at if dated else programmed
    others_day = programmed
    if others:  # the other readings, each at the weight it has in the window
        weights = [2 ** (dl.WINDOW - 1 - j) for j in range(len(found)) if j != i]
        given_ml = sum(w * Fraction(o.delivered_ml) for w, o in zip(weights, others, strict=True))
        asked_ml = sum(w * Fraction(o.programmed_ml) for w, o in zip(weights, others, strict=True))
        value = given_ml / asked_ml
        ratio = (D(value.numerator) / D(value.denominator)).quantize(dl.PLACES, ROUND_FLOOR)
        ratio = min(ratio, dl.FORECAST_MAX)
        if ratio > 1:
            others_day = fc.forecast(dl.at_ratio(program, ratio), fill).alarm_at_worst
    assert stray_day <= others_day
    assert stray_day <= programmed


@settings(max_examples=200, deadline=None)
@given(
    ratio=st.decimals(min_value=D(1), max_value=D("1.5"), places=3),
    volume=st.decimals(min_value=D(3), max_value=D(20), places=1),
)
def test_observed_dates_earlier_the_faster_the_pump(ratio, volume):
    program = fc.Program(concentration_mcg_ml=D(1000), daily_dose_mcg=D(300))
    fill = fc.Fill(refill_at=T0, volume_ml=volume, capacity_ml=D(20))
    slow = fc.forecast(dl.at_ratio(program, ratio), fill)
    fast = fc.forecast(dl.at_ratio(program, ratio + D("0.01")), fill)
    assert fast.alarm_at_worst <= slow.alarm_at_worst
    assert slow.alarm_at_worst <= fc.forecast(program, fill).alarm_at_worst

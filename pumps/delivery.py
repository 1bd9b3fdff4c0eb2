"""Observed delivery: how much of what it is programmed to deliver a pump really delivers.

Pure, like ``forecast.py``: no Django import, no clock read, plain values in and out. The rules
are written up in docs/rules.md#observed-delivery. In short:

* A reading. Each refill compares the residual aspirated with the residual the programmer
  expected. Over the interval since the fill before it, the pump was programmed to deliver
  ``start - expected`` mL and delivered ``start - actual`` mL, where ``start`` is what the earlier
  fill left in the reservoir (the volume after refill, less a one-off bolus given then). Its ratio
  is delivered / programmed. A programming change inside the interval changes nothing here: the
  programmer's expected residual already follows the programs that ran.
* The series. Readings of one pump, newest first, since the last restart: a new pump is a new
  series (readings are per pump), and a refill at which the nurse recorded a catheter revision
  ends the series before it (that interval is mixed, so it does not count either).
* The estimate. The newest ``WINDOW`` usable readings, each weighing half the one after it
  (weights 8, 4, 2, 1, newest first): ratio = sum(w x delivered) / sum(w x programmed), a ratio
  of volumes, so a long interval speaks with its volume. A reading whose programmed volume is under
  ``MIN_PROGRAMMED_ML`` is not usable (a residual is read to about half a millilitre).
* Bounds. A reading's delivered volume is held within 0 and twice its programmed volume, so
  the ratio is within 0 and 2.
* The ratio the dates use (``forecast_ratio``). The largest of the estimate and of each estimate
  that leaves one reading out, never below 1 (the programmed worst case already covers a pump that
  delivers less) and never above ``FORECAST_MAX``. So whatever a single reading says, the
  observed-rate date is never later than the date the estimate of the other readings gives
  without it: one stray reading can bring a date earlier, never later.
* Uncertainty. One standard error of the estimate: the weighted scatter of the readings about it,
  plus the reading error of ``READING_ERROR_ML`` on each residual.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_HALF_EVEN, Decimal
from fractions import Fraction

from pumps import forecast as fc

WINDOW = 4  # readings the estimate reads, newest first
MIN_PROGRAMMED_ML = Decimal(1)
READING_ERROR_ML = Decimal("0.5")
RATIO_MAX = Decimal(2)
FORECAST_MIN = Decimal(1)
FORECAST_MAX = Decimal("1.5")
PLACES = Decimal("0.001")


@dataclass(frozen=True)
class FillRecord:
    """One fill of a pump, as the estimator reads it (newest first in a series)."""

    at: datetime
    volume_after_ml: Decimal
    one_off_bolus_ml: Decimal = Decimal(0)
    expected_residual_ml: Decimal | None = None
    actual_residual_ml: Decimal | None = None
    catheter_revised: bool = False  # since the fill before this one


@dataclass(frozen=True)
class Reading:
    """One interval between two fills: what was programmed to leave, and what did."""

    at: datetime | None  # the refill that read it
    programmed_ml: Decimal
    delivered_ml: Decimal

    @property
    def ratio(self) -> Decimal:
        return (self.delivered_ml / self.programmed_ml).quantize(PLACES)


@dataclass(frozen=True)
class Delivery:
    """The estimate over ``fills`` readings (oldest ``since``), and the ratio the dates use."""

    ratio: Decimal
    spread: Decimal  # one standard error
    fills: int
    since: datetime
    forecast_ratio: Decimal

    @property
    def percent(self) -> int:
        return int((self.ratio * 100).to_integral_value())

    @property
    def spread_percent(self) -> int:
        return int((self.spread * 100).to_integral_value())


def reading(*, at: datetime | None, start_ml, expected_ml, actual_ml) -> Reading | None:
    """The reading of one refill, or None when it cannot be read (a missing residual, or less
    than MIN_PROGRAMMED_ML programmed). The delivered volume is held within 0 and twice the
    programmed volume."""
    if start_ml is None or expected_ml is None or actual_ml is None:
        return None
    programmed = Decimal(start_ml) - Decimal(expected_ml)
    if programmed < MIN_PROGRAMMED_ML:
        return None
    delivered = min(max(Decimal(start_ml) - Decimal(actual_ml), Decimal(0)), programmed * RATIO_MAX)
    return Reading(at=at, programmed_ml=programmed, delivered_ml=delivered)


def readings(fills: list[FillRecord] | tuple[FillRecord, ...]) -> list[Reading]:
    """The usable readings of one pump's fills (newest first) since the last restart, newest
    first, at most WINDOW."""
    out: list[Reading] = []
    for fill, before in zip(fills, fills[1:], strict=False):
        if fill.catheter_revised:
            break
        start = before.volume_after_ml - (before.one_off_bolus_ml or Decimal(0))
        found = reading(
            at=fill.at,
            start_ml=start,
            expected_ml=fill.expected_residual_ml,
            actual_ml=fill.actual_residual_ml,
        )
        if found is not None:
            out.append(found)
            if len(out) == WINDOW:
                break
    return out


def _weights(n: int) -> list[int]:
    return [2 ** (WINDOW - 1 - i) for i in range(n)]


def _ratio(pairs: list[tuple[int, Reading]]) -> Fraction:
    delivered = sum((w * Fraction(r.delivered_ml) for w, r in pairs), Fraction(0))
    programmed = sum((w * Fraction(r.programmed_ml) for w, r in pairs), Fraction(0))
    return delivered / programmed


def _decimal(value: Fraction, rounding: str = ROUND_HALF_EVEN) -> Decimal:
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(PLACES, rounding=rounding)


def _spread(pairs: list[tuple[int, Reading]], ratio: Fraction) -> Decimal:
    total = float(sum(w * r.programmed_ml for w, r in pairs))
    n = len(pairs)
    scatter = sum(
        w * w * float(r.delivered_ml - Decimal(float(ratio)) * r.programmed_ml) ** 2 for w, r in pairs
    )
    scatter = scatter * n / (n - 1) if n > 1 else 0.0
    # The start volume was typed in; the residual aspirated carries the reading error.
    error = sum(w * w for w, _ in pairs) * float(READING_ERROR_ML) ** 2
    return Decimal(math.sqrt(scatter + error) / total).quantize(PLACES)


def estimate(found: list[Reading]) -> Delivery | None:
    """The delivery estimate from readings (newest first, as :func:`readings` gives them)."""
    found = found[:WINDOW]
    if not found:
        return None
    pairs = list(zip(_weights(len(found)), found, strict=True))
    ratio = _ratio(pairs)
    candidates = [ratio] + [_ratio(pairs[:i] + pairs[i + 1 :]) for i in range(len(pairs)) if len(pairs) > 1]
    # Rounded up: the earlier side.
    worst = min(max(_decimal(max(candidates), ROUND_CEILING), FORECAST_MIN), FORECAST_MAX)
    return Delivery(
        ratio=_decimal(ratio),
        spread=_spread(pairs, ratio),
        fills=len(found),
        since=found[-1].at,
        forecast_ratio=worst,
    )


def delivery(fills: list[FillRecord] | tuple[FillRecord, ...]) -> Delivery | None:
    """The estimate for one pump's fills, newest first (None: nothing to read yet)."""
    return estimate(readings(fills))


def at_ratio(program: fc.Program, ratio: Decimal) -> fc.Program:
    """The program as a pump delivering ``ratio`` times it runs: the same mcg a day from a drug
    ``ratio`` times weaker per mL is ``ratio`` times the volume, flex steps and boluses alike."""
    return fc.Program(
        concentration_mcg_ml=program.concentration_mcg_ml / ratio,
        daily_dose_mcg=program.daily_dose_mcg,
        flex_steps=program.flex_steps,
        bolus_mcg=program.bolus_mcg,
        bolus_max_per_day=program.bolus_max_per_day,
        alarm_volume_ml=program.alarm_volume_ml,
    )


@dataclass(frozen=True)
class ObservedDates:
    alarm_at: datetime  # worst case (every allowed bolus), at the observed ratio
    empty_at: datetime  # worst case, at the observed ratio


def observed_forecast(program: fc.Program, fill: fc.Fill, found: Delivery | None) -> ObservedDates | None:
    """The alarm and empty instants at the ratio the dates use, when the pump delivers more than
    programmed (None otherwise: the programmed worst case is the earlier)."""
    if found is None or found.forecast_ratio <= FORECAST_MIN:
        return None
    result = fc.forecast(at_ratio(program, found.forecast_ratio), fill)
    return ObservedDates(alarm_at=result.alarm_at_worst, empty_at=result.empty_at_worst)


def nurse_words(
    *,
    ratio: Decimal | None,
    spread: Decimal | None,
    fills: int,
    observed_day=None,
    programmed_day=None,
    observed_empty_day=None,
) -> str:
    """The observed delivery in a nurse's words, with both dates when the pump over-delivers
    (days are clinic-local dates)."""
    if ratio is None or not fills:
        return "No residual reading yet since the last pump or catheter change: the programmed date stands."
    percent = int((ratio * 100).to_integral_value())
    plus = f" (± {int(((spread or 0) * 100).to_integral_value())} %)"
    over = f"the last {fills} fills" if fills > 1 else "the last fill"
    said = f"Delivered {percent} % of programmed{plus} over {over}"
    if observed_day is None or programmed_day is None:
        return f"{said}: the programmed date stands."
    days = (programmed_day - observed_day).days
    if days <= 0:
        return f"{said}: reservoir at the alarm volume on the programmed date ({programmed_day:%a %d %b %Y})."
    empty = f", empty about {observed_empty_day:%a %d %b %Y}" if observed_empty_day else ""
    return (
        f"{said}: reservoir at the alarm volume about {days} day{'s' if days != 1 else ''} before the "
        f"programmed date ({observed_day:%a %d %b %Y}, not {programmed_day:%a %d %b %Y}){empty}."
    )

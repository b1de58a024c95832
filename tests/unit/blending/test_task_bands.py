"""The arrivals' bands hold: calibrated on a holdout, they cover what they say."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from blending.planning.arrivals import month_position
from blending.planning.backtest import backtest_daily
from blending.planning.calibration import widening

FIRST = date(2024, 1, 1)


def _overdispersed(types: int, days: int, seed: int = 7) -> dict[str, np.ndarray]:
    """Weekly pattern, month-end peaks, and a day level the model cannot know (what real
    arrivals have beyond Poisson noise)."""
    rng = np.random.default_rng(seed)
    calendar = [FIRST + timedelta(days=i) for i in range(days)]
    weekend = np.array([d.weekday() >= 5 for d in calendar])
    peak = month_position(calendar) >= 3
    out = {}
    for i in range(types):
        rate = (4 + 3 * i) * np.where(weekend, 0.3, 1.0) * np.where(peak, 1.8, 1.0)
        out[f"type{i}"] = rng.poisson(rate * rng.gamma(40, 1 / 40, days)).astype(float)
    return out


def test_calibrated_bands_cover_near_their_level_where_the_models_own_fall_short() -> None:
    result = backtest_daily(_overdispersed(10, 400), FIRST, horizon=14, folds=6)
    mstl = result.models["mstl"]

    assert result.uncalibrated["80"] < 0.77  # the model's own intervals are too narrow
    assert result.band_factors[0] > 1.0
    assert 0.76 <= mstl.coverage_80 <= 0.88
    assert abs(mstl.coverage_80 - 0.8) < abs(result.uncalibrated["80"] - 0.8)
    assert mstl.coverage_95 >= 0.92


def test_one_odd_day_before_a_short_plan_does_not_set_the_width_of_its_bands() -> None:
    # A plan 3 days ahead still holds 14 days out: with 3, the odd last day (say work that
    # was waiting counted as that day's arrivals) was one score in three per type and set
    # the 80% factor at its ceiling.
    history = _overdispersed(5, 90)
    odd = {name: counts.copy() for name, counts in history.items()}
    for counts in odd.values():
        counts[-1] += 30

    usual = widening(history, FIRST, 3)
    with_odd_day = widening(odd, FIRST, 3)

    assert with_odd_day[0] < 1.5
    assert with_odd_day[0] - usual[0] < 0.3

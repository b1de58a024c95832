"""Daily arrivals of back-office tasks: the weekly pattern and the month-end peaks."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from blending.errors import NotEnoughHistory
from blending.planning.arrivals import BASELINE, MODEL, forecast_daily, month_position

FIRST = date(2024, 1, 1)
WEEK = np.array([20.0, 22, 20, 18, 16, 4, 2])


def _center(days: int, month_end: float, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    calendar = [FIRST + timedelta(days=i) for i in range(days)]
    rate = WEEK[[d.weekday() for d in calendar]] * np.where(
        month_position(calendar) >= 3, month_end, 1.0
    )
    return rng.poisson(rate).astype(float)


def test_month_positions() -> None:
    days = [
        date(2026, 1, 1),
        date(2026, 1, 2),
        date(2026, 1, 15),
        date(2026, 1, 29),
        date(2026, 1, 30),
        date(2026, 1, 31),
        date(2026, 2, 28),
    ]
    assert list(month_position(days)) == [1, 2, 0, 5, 4, 3, 3]


def test_month_end_peaks_are_forecast_and_beat_the_seasonal_naive() -> None:
    history_days, horizon = 505, 14
    series = _center(history_days + horizon, month_end=2.0)
    out = forecast_daily({"billing": series[:history_days]}, FIRST, horizon)
    actual = series[history_days:]
    fc = out[MODEL]["billing"]
    ahead = month_position(list(fc.days))
    assert (ahead >= 3).any()  # the horizon holds a month end
    # Thursday 29 May, the third last day, against the Thursday before: twice as busy.
    thursdays = [fc.days.index(date(2025, 5, 22)), fc.days.index(date(2025, 5, 29))]
    assert fc.mean[thursdays[1]] / fc.mean[thursdays[0]] > 1.5
    wape = np.abs(fc.mean - actual).sum() / actual.sum()
    naive = np.abs(out[BASELINE]["billing"].mean - actual).sum() / actual.sum()
    assert wape < naive
    assert np.all(fc.lo_95 <= fc.lo_80)
    assert np.all(fc.lo_80 <= fc.mean)
    assert np.all(fc.mean <= fc.hi_80)
    assert np.all(fc.hi_80 <= fc.hi_95)


def test_too_short_a_history_is_refused() -> None:
    with pytest.raises(NotEnoughHistory):
        forecast_daily({"billing": np.ones(20)}, FIRST, 7)

"""Daily arrivals of back-office tasks per type, forecast with statsforecast.

Counts are modelled on the square-root scale, as the call forecast does
(:mod:`blending.forecast_model`), so Gaussian bands fit counts and are squared back. The
weekly season is MSTL's (an ETS model of what remains); the monthly one, which a season of
30.4 days cannot express, is a factor per position in the month (the first two
days, the last three: month-end peaks), learnt from what the weekly decomposition leaves and
shrunk toward none when few months were seen. The baseline is the weekly seasonal naive.

Pure and blocking: run it under ``asyncio.to_thread``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd  # type: ignore[import-untyped]
from statsforecast import StatsForecast
from statsforecast.models import MSTL, AutoETS, SeasonalNaive

from blending.errors import NotEnoughHistory
from blending.intervals import FloatArray

WEEK = 7
MIN_DAYS = 4 * WEEK
MODEL = "mstl"
BASELINE = "seasonal_naive"
Z80 = 1.2815515655446004
Z95 = 1.959963984540054
MONTH_PRIOR = 3.0
"""How many months a month-position effect needs to count half."""


@dataclass(frozen=True)
class DailyBands:
    """A forecast per day: mean and the 80% and 95% bounds, on the count scale."""

    days: tuple[date, ...]
    mean: FloatArray
    lo_80: FloatArray
    hi_80: FloatArray
    lo_95: FloatArray
    hi_95: FloatArray

    def scaled(self, factor: float) -> DailyBands:
        return DailyBands(
            self.days,
            self.mean * factor,
            self.lo_80 * factor,
            self.hi_80 * factor,
            self.lo_95 * factor,
            self.hi_95 * factor,
        )


def month_position(days: Sequence[date]) -> np.ndarray:
    """0 for an ordinary day; 1, 2 for the first and second day of a month; 3, 4, 5 for the
    last, second last and third last."""
    out = np.zeros(len(days), dtype=int)
    for i, d in enumerate(days):
        to_end = ((d.replace(day=28) + timedelta(days=4)).replace(day=1) - d).days - 1
        if to_end < 3:
            out[i] = 3 + to_end
        elif d.day <= 2:
            out[i] = d.day
    return out


def _month_effects(z: FloatArray, days: Sequence[date]) -> FloatArray:
    """A factor (square-root scale) per month position: how far its days run above what
    their weekday and the level around them (a median, which a few peak days do not move)
    make expected."""
    n = len(z)
    effects = np.ones(6)
    if n < 2 * WEEK + 28:
        return effects
    weekday = np.array([d.weekday() for d in days])
    rough = pd.Series(z).rolling(WEEK, center=True, min_periods=1).median().to_numpy()
    shape = np.zeros(n)
    for w in range(WEEK):
        shape[weekday == w] = np.median((z - rough)[weekday == w])
    level = pd.Series(z - shape).rolling(3 * WEEK, center=True, min_periods=1).median()
    expected = np.maximum(level.to_numpy() + shape, 0.5)
    ratio = z / expected
    position = month_position(days)
    for p in range(1, 6):
        rows = position == p
        seen = int(rows.sum())
        if seen:
            effects[p] = 1 + (float(ratio[rows].mean()) - 1) * seen / (seen + MONTH_PRIOR)
    return effects


def forecast_daily(
    history: Mapping[str, FloatArray],
    first_day: date,
    horizon: int,
    *,
    models: Sequence[str] = (MODEL, BASELINE),
    widen: tuple[float, float] = (1.0, 1.0),
) -> dict[str, dict[str, DailyBands]]:
    """Per model and series: the next ``horizon`` days after ``history`` (counts per day
    from ``first_day``, every series as long). Series too short for a weekly season are
    refused by name. ``widen``: factors on the model's 80% and 95% bands
    (:mod:`blending.planning.calibration`)."""
    if not history:
        return {m: {} for m in models}
    length = len(next(iter(history.values())))
    if length < MIN_DAYS:
        raise NotEnoughHistory("task history", length, MIN_DAYS, "a workload forecast")
    days = [first_day + timedelta(days=i) for i in range(length)]
    future = [days[-1] + timedelta(days=i + 1) for i in range(horizon)]
    effects: dict[str, FloatArray] = {}
    frames = []
    ds = pd.to_datetime(pd.Series(days))
    for name, counts in history.items():
        z = np.sqrt(np.nan_to_num(np.asarray(counts, dtype=float)) + 0.25)
        effects[name] = _month_effects(z, days)
        adjusted = z / effects[name][month_position(days)]
        frames.append(pd.DataFrame({"unique_id": name, "ds": ds, "y": adjusted}))
    frame = pd.concat(frames, ignore_index=True)
    chosen: list[Any] = []
    if MODEL in models:
        chosen.append(MSTL(season_length=WEEK, trend_forecaster=AutoETS(model="ZNN"), alias=MODEL))
    if BASELINE in models:
        chosen.append(SeasonalNaive(season_length=WEEK, alias=BASELINE))
    fc = StatsForecast(models=chosen, freq="D", n_jobs=1).forecast(
        df=frame, h=horizon, level=[80, 95]
    )
    fc = fc.set_index("unique_id") if "unique_id" in fc.columns else fc
    ahead = month_position(future)
    out: dict[str, dict[str, DailyBands]] = {m: {} for m in models}
    for name in history:
        rows = fc.loc[[name]]
        factor = effects[name][ahead]
        for model in models:
            if model == BASELINE:
                # The naive copies last week as seen, month-end and all: no effect to add back.
                seen = effects[name][month_position(days[-WEEK:] * (horizon // WEEK + 1))]
                bump = seen[:horizon]
            else:
                bump = factor
            z = rows[model].to_numpy(dtype=float) * bump
            sd = (rows[f"{model}-hi-80"].to_numpy(dtype=float) * bump - z) / Z80
            # The mean of the squared normal, not the square of its mean.
            mean = np.maximum(np.square(np.maximum(z, 0.0)) + np.square(sd) - 0.25, 0.0)
            k80, k95 = widen if model == MODEL else (1.0, 1.0)
            bounds = (
                _back(z + sign * k * z_q * sd)
                for k, z_q in ((k80, Z80), (k95, Z95))
                for sign in (-1, 1)
            )
            out[model][name] = DailyBands(tuple(future), mean, *bounds)
    return out


def _back(z: FloatArray) -> FloatArray:
    values: FloatArray = np.maximum(np.square(np.maximum(z, 0.0)) - 0.25, 0.0)
    return values

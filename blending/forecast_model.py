"""Interval forecasts of call arrivals with prediction intervals, on statsforecast.

Counts are modelled on the square-root scale, ``sqrt(calls + 1/4)``, where Poisson noise has a
constant variance (Brown et al., JASA 2005, on this very kind of data), so the models' Gaussian
intervals fit; bounds are squared back. Only open slots of open weekdays are modelled (see
``blending.intervals``), so a centre closed at night and at weekends has a day of its open
slots and a week of its open days.

Candidates (``MODELS``):

* ``seasonal_naive`` - last week's value for the same slot (the baseline);
* ``mstl_ets`` - MSTL decomposition (daily and weekly seasons), simple exponential smoothing
  (ETS(A,N,N) chosen by AutoETS) of the rest;
* ``mstl_theta`` - the same decomposition; the daily level of the rest forecast with the
  dynamic optimised Theta model, plus the intraday noise;
* ``ensemble`` - the mean of the two on the square-root scale.

The decomposition is shared by the MSTL models; its loess passes are evaluated every few
points (statsmodels' ``*_jump``, a quarter of a day apart), which makes it many times
faster with no measurable loss of accuracy in the backtests.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd  # type: ignore[import-untyped]
from pydantic import BaseModel, ConfigDict
from statsforecast.models import AutoETS, DynamicOptimizedTheta, SeasonalNaive
from statsforecast.mstl import mstl

from blending.errors import InvalidInput, NotEnoughHistory
from blending.intervals import Arrivals, FloatArray

if TYPE_CHECKING:
    from blending.forecast_cluster import DaskCluster

MODELS = ("seasonal_naive", "mstl_ets", "mstl_theta", "ensemble")
BASELINE = "seasonal_naive"
DEFAULT_MODEL = "mstl_theta"
DEFAULT_WEEKS = 8
MIN_WEEKS = 2
Z80 = 1.2815515655446004
Z95 = 1.959963984540054


@dataclass(frozen=True)
class Bands:
    """A forecast on the count scale: mean and the 80% and 95% bounds, one value per slot."""

    mean: FloatArray
    lo_80: FloatArray
    hi_80: FloatArray
    lo_95: FloatArray
    hi_95: FloatArray

    def scaled(self, factor: float) -> Bands:
        return Bands(*(np.asarray(v) * factor for v in self.as_tuple()))

    def as_tuple(self) -> tuple[FloatArray, ...]:
        return (self.mean, self.lo_80, self.hi_80, self.lo_95, self.hi_95)


@dataclass(frozen=True)
class _Sqrt:
    mean: FloatArray
    sd: FloatArray

    def counts(self) -> Bands:
        def back(v: FloatArray) -> FloatArray:
            return np.maximum(np.square(np.maximum(v, 0.0)) - 0.25, 0.0)

        mean = np.maximum(np.square(self.mean) + np.square(self.sd) - 0.25, 0.0)
        return Bands(
            mean=mean,
            lo_80=back(self.mean - Z80 * self.sd),
            hi_80=back(self.mean + Z80 * self.sd),
            lo_95=back(self.mean - Z95 * self.sd),
            hi_95=back(self.mean + Z95 * self.sd),
        )


class ForecastPoint(BaseModel):
    model_config = ConfigDict(frozen=True)

    interval_start: datetime
    mean: float
    lo_80: float
    hi_80: float
    lo_95: float
    hi_95: float
    aht_seconds: float | None = None


class QueueForecast(BaseModel):
    """A queue's forecast from ``origin`` (the end of its data) to the end of the horizon."""

    queue: str
    interval_minutes: int
    model: str
    origin: datetime
    level_factor: float
    points: list[ForecastPoint]


def fit_predict(
    history: FloatArray,
    days_per_week: int,
    horizon_days: int,
    models: Sequence[str] = MODELS,
) -> dict[str, Bands]:
    """Forecast the next ``horizon_days`` open days from ``history[day, open slot]``.

    Rows of NaN (holidays) are filled from the same weekday a week earlier (or later).
    Returns one ``Bands`` per model, each ``horizon_days * slots`` long.
    """
    unknown = [m for m in models if m not in MODELS]
    if unknown:
        raise InvalidInput("model", unknown[0], f"must be one of {', '.join(MODELS)}")
    days, slots = history.shape
    if days < MIN_WEEKS * days_per_week:
        raise NotEnoughHistory("history", days, MIN_WEEKS * days_per_week, "a forecast")
    y = _fill_holidays(history, days_per_week).ravel()
    h = horizon_days * slots
    week = slots * days_per_week
    out: dict[str, Bands] = {}
    if BASELINE in models:
        out[BASELINE] = _seasonal_naive(y, week, h)
    wanted = [m for m in models if m != BASELINE]
    if not wanted:
        return out
    z = np.sqrt(y + 0.25)
    periods = sorted({slots, week} - {1})
    jump = max(1, slots // 4)
    if periods:
        parts = mstl(z, periods, stl_kwargs={"trend_jump": jump, "low_pass_jump": jump})
        seasonal = np.zeros_like(z)
        future = np.zeros(h)
        phase = np.arange(h)
        for p in periods:
            column = parts["seasonal" if len(periods) == 1 else f"seasonal{p}"].to_numpy()
            seasonal += column
            future += column[len(z) - p :][phase % p]
    else:
        seasonal = np.zeros_like(z)
        future = np.zeros(h)
    rest = z - seasonal
    sqrt_fc: dict[str, _Sqrt] = {}
    if "mstl_ets" in wanted or "ensemble" in wanted:
        fc = AutoETS(model="ZNN").forecast(y=rest, h=h, level=[80])
        sd = (fc["hi-80"] - fc["mean"]) / Z80
        sqrt_fc["mstl_ets"] = _Sqrt(future + fc["mean"], np.asarray(sd))
    if "mstl_theta" in wanted or "ensemble" in wanted:
        sqrt_fc["mstl_theta"] = _daily_theta(rest, z, slots, days_per_week, horizon_days, future)
    if "ensemble" in wanted:
        a, b = sqrt_fc["mstl_ets"], sqrt_fc["mstl_theta"]
        sqrt_fc["ensemble"] = _Sqrt((a.mean + b.mean) / 2, (a.sd + b.sd) / 2)
    for name in wanted:
        out[name] = sqrt_fc[name].counts()
    return out


def level_factor(actual: FloatArray, forecast: FloatArray, prior_calls: float) -> float:
    """How much busier today is than forecast, shrunk toward 1 by a prior of ``prior_calls``.

    Early in the day few calls are in and the factor stays near 1; it trusts the day's own
    level more as calls accumulate.
    """
    seen = float(np.nansum(actual))
    expected = float(np.nansum(forecast))
    return (seen + prior_calls) / (expected + prior_calls)


def intraday_prior(day_forecast: FloatArray) -> float:
    """The shrinkage prior for ``level_factor``: a quarter of the day's forecast calls."""
    return max(float(np.nansum(day_forecast)) * 0.25, 5.0)


def forecast_arrivals(
    arrivals: Arrivals,
    model: str = DEFAULT_MODEL,
    horizon_days: int = 1,
    weeks: int = DEFAULT_WEEKS,
) -> QueueForecast:
    """Forecast the rest of the data's last day and the next ``horizon_days`` days.

    The model is fitted on the complete days before the last one; today's arrivals so far
    correct the level of the rest of today and of the following days (``level_factor``).
    """
    if model not in MODELS:
        raise InvalidInput("model", model, f"must be one of {', '.join(MODELS)}")
    if horizon_days < 0:
        raise InvalidInput("horizon_days", horizon_days, "must be zero or more")
    today = int((pd.Timestamp(arrivals.end) - pd.Timestamp(arrivals.first_day)).days)
    if today >= arrivals.days:  # the data ends exactly at midnight
        today = arrivals.days
    open_days = [d for d in range(today) if arrivals.is_open_day(d)]
    per_week = len(arrivals.open_weekdays)
    train = open_days[-weeks * per_week :]
    if len(train) < MIN_WEEKS * per_week:
        raise NotEnoughHistory(
            arrivals.queue or "history", today, MIN_WEEKS * 7, "a weekly seasonal forecast"
        )
    slots = np.flatnonzero(arrivals.open_slots)
    calendar = [today + i for i in range(horizon_days + 1)]
    target_open = [d for d in calendar if _open(arrivals, d)]
    history = arrivals.calls[train][:, slots]
    bands = fit_predict(history, per_week, len(target_open), [model])[model]
    width = len(slots)
    first = pd.Timestamp(arrivals.first_day)
    origin = pd.Timestamp(arrivals.end)
    factor = 1.0
    if today < arrivals.days and _open(arrivals, today):
        elapsed = (origin - first) // pd.Timedelta(minutes=arrivals.interval_minutes)
        seen_slots = int(elapsed) - today * arrivals.slots_per_day
        seen = slots < seen_slots
        if seen.any():
            day_fc = bands.mean[:width]
            actual = arrivals.calls[today][slots][seen]
            factor = level_factor(actual, day_fc[seen], intraday_prior(day_fc))
    bands = bands.scaled(factor)
    aht = _aht_profile(arrivals, train)
    points: list[ForecastPoint] = []
    step = timedelta(minutes=arrivals.interval_minutes)
    for day in calendar:
        day_start = first + pd.Timedelta(days=day)
        is_open = day in target_open
        row = target_open.index(day) if is_open else -1
        for s in range(arrivals.slots_per_day):
            start = day_start + s * step
            if start < origin:
                continue
            j = int(np.searchsorted(slots, s))
            if is_open and j < width and slots[j] == s:
                i = row * width + j
                values = [float(v[i]) for v in bands.as_tuple()]
            else:
                values = [0.0] * 5
            weekday = (day_start.weekday() - pd.Timestamp(arrivals.first_day).weekday()) % 7
            handle = None if aht is None else _finite(aht[weekday, s])
            points.append(
                ForecastPoint(
                    interval_start=start.to_pydatetime(),
                    mean=values[0],
                    lo_80=values[1],
                    hi_80=values[2],
                    lo_95=values[3],
                    hi_95=values[4],
                    aht_seconds=handle,
                )
            )
    return QueueForecast(
        queue=arrivals.queue,
        interval_minutes=arrivals.interval_minutes,
        model=model,
        origin=origin.to_pydatetime(),
        level_factor=factor,
        points=points,
    )


def forecast_many(
    queues: Sequence[Arrivals],
    model: str = DEFAULT_MODEL,
    horizon_days: int = 1,
    weeks: int = DEFAULT_WEEKS,
    workers: int | None = None,
    cluster: DaskCluster | None = None,
) -> list[QueueForecast]:
    """``forecast_arrivals`` for many queues, over ``workers`` processes (default: all CPUs),
    or on a Dask ``cluster`` (one task per queue)."""
    if cluster is not None:
        fit = partial(forecast_arrivals, model=model, horizon_days=horizon_days, weeks=weeks)
        return cluster.map(fit, queues)
    workers = workers or os.cpu_count() or 1
    if workers <= 1 or len(queues) <= 1:
        return [forecast_arrivals(q, model, horizon_days, weeks) for q in queues]
    chunk = max(1, math.ceil(len(queues) / (workers * 4)))
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(
            pool.map(
                forecast_arrivals,
                queues,
                [model] * len(queues),
                [horizon_days] * len(queues),
                [weeks] * len(queues),
                chunksize=chunk,
            )
        )


def _open(arrivals: Arrivals, day: int) -> bool:
    weekday = (pd.Timestamp(arrivals.first_day) + pd.Timedelta(days=day)).weekday()
    return weekday in arrivals.open_weekdays


def _fill_holidays(history: FloatArray, days_per_week: int) -> FloatArray:
    y = np.array(history, dtype=float)
    days = y.shape[0]
    for d in range(days):
        if not np.isnan(y[d]).any():
            continue
        for shift in (-days_per_week, days_per_week, -2 * days_per_week, 2 * days_per_week):
            other = d + shift
            if 0 <= other < days and not np.isnan(history[other]).any():
                y[d] = np.where(np.isnan(y[d]), history[other], y[d])
                break
        else:
            y[d] = np.where(np.isnan(y[d]), np.nanmean(history, axis=0), y[d])
    filled: FloatArray = np.nan_to_num(y)
    return filled


def _seasonal_naive(y: FloatArray, week: int, h: int) -> Bands:
    fc = SeasonalNaive(season_length=week).forecast(y=y, h=h, level=[80, 95])

    def clip(key: str) -> FloatArray:
        values: FloatArray = np.maximum(np.asarray(fc[key], dtype=float), 0.0)
        return values

    return Bands(clip("mean"), clip("lo-80"), clip("hi-80"), clip("lo-95"), clip("hi-95"))


def _daily_theta(
    rest: FloatArray,
    z: FloatArray,
    slots: int,
    days_per_week: int,
    horizon_days: int,
    future: FloatArray,
) -> _Sqrt:
    table = rest.reshape(-1, slots)
    level = table.mean(axis=1)
    season = days_per_week if len(level) >= 3 * days_per_week and days_per_week > 1 else 1
    fc = DynamicOptimizedTheta(season_length=season).forecast(y=level, h=horizon_days, level=[80])
    day_sd = (np.asarray(fc["hi-80"]) - np.asarray(fc["mean"])) / Z80
    # Week-over-week differences of the intraday shape measure the noise out of sample (the
    # decomposition's own residuals are too small: its seasonal part absorbs some noise).
    observed = z.reshape(-1, slots)
    shape = observed - observed.mean(axis=1, keepdims=True)
    recent = shape[-days_per_week * 5 :]
    change = recent[days_per_week:] - recent[:-days_per_week]
    noise_sd = float(np.std(change) / math.sqrt(2))
    mean = future + np.repeat(np.asarray(fc["mean"]), slots)
    sd = np.sqrt(np.repeat(np.square(day_sd), slots) + noise_sd**2)
    return _Sqrt(mean, sd)


def _aht_profile(arrivals: Arrivals, days: Sequence[int]) -> FloatArray | None:
    """Call-weighted mean handle time per weekday (relative to the first day) and slot."""
    if arrivals.aht_seconds is None:
        return None
    recent = list(days)[-28:]
    calls = np.nan_to_num(arrivals.calls[recent])
    handle = arrivals.aht_seconds[recent]
    known = ~np.isnan(handle)
    work = np.where(known, handle * calls, 0.0)
    weight = np.where(known, calls, 0.0)
    weekday = np.asarray(recent) % 7
    out = np.full((7, arrivals.slots_per_day), np.nan)
    overall = work.sum() / weight.sum() if weight.sum() > 0 else np.nan
    for w in range(7):
        rows = weekday == w
        if rows.any():
            total = weight[rows].sum(axis=0)
            with np.errstate(invalid="ignore", divide="ignore"):
                out[w] = np.where(total > 0, work[rows].sum(axis=0) / total, overall)
        else:
            out[w] = overall
    return out


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None

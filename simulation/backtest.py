"""Rolling-origin backtest of day-ahead arrival forecasts, and of the intraday correction.

Each fold stands at midnight before a target day, fits every model on the weeks before it and
forecasts ``horizon_days`` open days. Scores, over all folds:

* ``mase`` - each fold's mean absolute error divided by the in-sample mean absolute error of
  the weekly seasonal naive on that fold's training data, averaged over folds;
* ``rmse`` - over all scored intervals, in calls;
* ``coverage_80`` / ``coverage_95`` - the share of actuals inside the intervals.

The intraday section replays the day: at a quarter, half and three quarters of the first
target day's open slots, today's actuals so far rescale the rest of the day
(``forecast.level_factor``); it reports the MASE of the remaining intervals before and after.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd  # type: ignore[import-untyped]
from pydantic import BaseModel, Field

from blending.errors import EmptySeries, InvalidInput, NotEnoughHistory
from blending.forecast_model import (
    BASELINE,
    DEFAULT_WEEKS,
    MIN_WEEKS,
    MODELS,
    Bands,
    fit_predict,
    intraday_prior,
    level_factor,
)
from blending.intervals import Arrivals, FloatArray, regularise

Progress = Callable[[int, int], None]
CHECKPOINTS = (0.25, 0.5, 0.75)


class ModelScore(BaseModel):
    mase: float
    rmse: float
    coverage_80: float
    coverage_95: float


class IntradayScore(BaseModel):
    model: str
    checkpoints: list[float] = Field(description="Fractions of the day's open intervals seen.")
    mase_before: float = Field(description="MASE of the rest of the day, day-ahead forecast.")
    mase_after: float = Field(description="MASE of the rest of the day, level-corrected.")
    improvement: float = Field(description="1 - mase_after / mase_before.")


class LastFold(BaseModel):
    interval_start: list[datetime]
    actual: list[float]
    forecasts: dict[str, dict[str, list[float]]]


class BacktestResult(BaseModel):
    interval_minutes: int
    folds: int
    baseline: Literal["seasonal_naive"] = "seasonal_naive"
    models: dict[str, ModelScore]
    best: str
    best_vs_baseline: float
    queue: str = ""
    horizon_days: int = 1
    training_weeks: int = DEFAULT_WEEKS
    intraday: IntradayScore | None = None
    notices: list[str] = Field(default_factory=list)
    last_fold: LastFold | None = Field(default=None, exclude=True)


@dataclass(frozen=True)
class _Fold:
    history: FloatArray
    actual: FloatArray
    target_days: list[int]
    scale: float


def backtest_csv(
    path: str | Path,
    interval_minutes: int | None = None,
    horizon_days: int = 1,
    folds: int = 10,
    queue: str | None = None,
    weeks: int = DEFAULT_WEEKS,
    progress: Progress | None = None,
    workers: int = 1,
) -> BacktestResult:
    """Backtest the arrivals in a CSV (``interval_start,calls[,queue][,aht_seconds]``).

    With several queues in the file and no ``queue`` named, their calls are summed.
    """
    source = str(path)
    try:
        frame = pd.read_csv(path, dtype={"queue": "string"})
    except pd.errors.EmptyDataError:
        frame = pd.DataFrame()
    if frame.empty:
        raise EmptySeries(source)
    if "queue" in frame.columns:
        names = sorted(frame["queue"].dropna().unique())
        if queue is not None:
            if queue not in names:
                raise InvalidInput("queue", queue, f"not in the file (it has {', '.join(names)})")
            frame = frame[frame["queue"] == queue]
        elif len(names) > 1:
            frame = regularise_total(frame)
    series = regularise(frame, source, interval_minutes)[0]
    return run_backtest(series, folds, horizon_days, weeks, MODELS, progress, workers)


def regularise_total(frame: pd.DataFrame) -> pd.DataFrame:
    """Sum the calls of all queues per interval (handle times weighted by calls)."""
    frame = frame.copy()
    frame["interval_start"] = pd.to_datetime(frame["interval_start"])
    grouped = frame.groupby("interval_start", sort=True)
    total = grouped["calls"].sum().to_frame()
    if "aht_seconds" in frame.columns:
        frame["_work"] = frame["aht_seconds"] * frame["calls"]
        work = frame.groupby("interval_start")["_work"].sum()
        total["aht_seconds"] = (work / total["calls"]).where(total["calls"] > 0)
    return total.reset_index()


def run_backtest(
    arrivals: Arrivals,
    folds: int = 10,
    horizon_days: int = 1,
    weeks: int = DEFAULT_WEEKS,
    models: Sequence[str] = MODELS,
    progress: Progress | None = None,
    workers: int = 1,
) -> BacktestResult:
    """Rolling-origin day-ahead backtest of ``models`` on one queue (see the module doc)."""
    if folds < 1:
        raise InvalidInput("folds", folds, "must be 1 or more")
    if horizon_days < 1:
        raise InvalidInput("horizon_days", horizon_days, "must be 1 or more")
    if weeks < MIN_WEEKS:
        raise InvalidInput("weeks", weeks, f"must be {MIN_WEEKS} or more")
    models = list(dict.fromkeys([BASELINE, *models]))
    plan = _plan(arrivals, folds, horizon_days, weeks)
    per_week = len(arrivals.open_weekdays)
    total = len(plan)
    done = 0
    if progress is not None:
        progress(0, total)
    results: list[dict[str, Bands]] = []
    if workers > 1 and total > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = [
                pool.submit(fit_predict, f.history, per_week, horizon_days, models) for f in plan
            ]
            for future in futures:
                results.append(future.result())
                done += 1
                if progress is not None:
                    progress(done, total)
    else:
        for f in plan:
            results.append(fit_predict(f.history, per_week, horizon_days, models))
            done += 1
            if progress is not None:
                progress(done, total)
    scores = {m: _score(plan, [r[m] for r in results]) for m in models}
    candidates = [m for m in models if m != BASELINE] or [BASELINE]
    best = min(candidates, key=lambda m: scores[m].mase)
    base = scores[BASELINE].mase
    return BacktestResult(
        interval_minutes=arrivals.interval_minutes,
        folds=total,
        models=scores,
        best=best,
        best_vs_baseline=scores[best].mase / base if base > 0 else float("nan"),
        queue=arrivals.queue,
        horizon_days=horizon_days,
        training_weeks=weeks,
        intraday=_intraday(plan, [r[best] for r in results], best, arrivals),
        notices=list(arrivals.notices),
        last_fold=_last_fold(arrivals, plan[-1], results[-1]),
    )


def _plan(arrivals: Arrivals, folds: int, horizon_days: int, weeks: int) -> list[_Fold]:
    complete = arrivals.complete_days()
    open_days = [d for d in range(complete) if arrivals.is_open_day(d)]
    per_week = len(arrivals.open_weekdays)
    need = MIN_WEEKS * per_week
    slots = np.flatnonzero(arrivals.open_slots)
    starts = [
        i
        for i in range(need, len(open_days) - horizon_days + 1)
        if not arrivals.holidays[open_days[i]]
    ]
    if not starts:
        raise NotEnoughHistory(
            arrivals.queue or "history",
            complete,
            MIN_WEEKS * 7 + horizon_days,
            "a backtest (two weeks to fit, then days to forecast)",
        )
    plan = []
    for i in starts[-folds:]:
        train = open_days[max(0, i - weeks * per_week) : i]
        target = open_days[i : i + horizon_days]
        history = arrivals.calls[train][:, slots]
        plan.append(
            _Fold(
                history=history,
                actual=arrivals.calls[target][:, slots].ravel(),
                target_days=target,
                scale=_naive_scale(history, per_week),
            )
        )
    return plan


def _naive_scale(history: FloatArray, per_week: int) -> float:
    y = history.ravel()
    lag = history.shape[1] * per_week
    diff = np.abs(y[lag:] - y[:-lag])
    scale = float(np.nanmean(diff)) if np.isfinite(diff).any() else 0.0
    return scale if scale > 0 else 1.0


def _score(plan: Sequence[_Fold], bands: Sequence[Bands]) -> ModelScore:
    mase, sq, in80, in95, n = [], 0.0, 0, 0, 0
    for fold, b in zip(plan, bands, strict=True):
        y = fold.actual
        ok = ~np.isnan(y)
        err = y[ok] - b.mean[ok]
        mase.append(float(np.mean(np.abs(err))) / fold.scale)
        sq += float(np.sum(err**2))
        in80 += int(np.sum((y[ok] >= b.lo_80[ok]) & (y[ok] <= b.hi_80[ok])))
        in95 += int(np.sum((y[ok] >= b.lo_95[ok]) & (y[ok] <= b.hi_95[ok])))
        n += int(ok.sum())
    return ModelScore(
        mase=float(np.mean(mase)),
        rmse=float(np.sqrt(sq / n)),
        coverage_80=in80 / n,
        coverage_95=in95 / n,
    )


def _intraday(
    plan: Sequence[_Fold], bands: Sequence[Bands], model: str, arrivals: Arrivals
) -> IntradayScore:
    width = int(arrivals.open_slots.sum())
    before, after = [], []
    for fold, b in zip(plan, bands, strict=True):
        actual = fold.actual[:width]
        day = b.mean[:width]
        prior = intraday_prior(day)
        for c in CHECKPOINTS:
            cut = round(width * c)
            rest = actual[cut:]
            factor = level_factor(actual[:cut], day[:cut], prior)
            before.append(float(np.mean(np.abs(rest - day[cut:]))) / fold.scale)
            after.append(float(np.mean(np.abs(rest - factor * day[cut:]))) / fold.scale)
    mb, ma = float(np.mean(before)), float(np.mean(after))
    return IntradayScore(
        model=model,
        checkpoints=list(CHECKPOINTS),
        mase_before=mb,
        mase_after=ma,
        improvement=1.0 - ma / mb if mb > 0 else 0.0,
    )


def _last_fold(arrivals: Arrivals, fold: _Fold, bands: dict[str, Bands]) -> LastFold:
    slots = np.flatnonzero(arrivals.open_slots)
    step = pd.Timedelta(minutes=arrivals.interval_minutes)
    starts = [
        (pd.Timestamp(arrivals.day(d)) + int(s) * step).to_pydatetime()
        for d in fold.target_days
        for s in slots
    ]
    forecasts = {
        name: {
            key: [float(v) for v in values]
            for key, values in zip(
                ("mean", "lo_80", "hi_80", "lo_95", "hi_95"), b.as_tuple(), strict=True
            )
        }
        for name, b in bands.items()
    }
    return LastFold(
        interval_start=starts,
        actual=[float(v) for v in fold.actual],
        forecasts=forecasts,
    )

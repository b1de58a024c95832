"""Rolling-origin backtest of the daily arrivals forecast per task type, against the weekly
seasonal naive. Pure and blocking."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date

import numpy as np
from pydantic import BaseModel, Field

from blending.errors import NotEnoughHistory
from blending.intervals import FloatArray
from blending.planning.arrivals import (
    BASELINE,
    MIN_DAYS,
    MODEL,
    WEEK,
    Z80,
    Z95,
    forecast_daily,
)
from blending.planning.calibration import standard_scores, widening


class Score(BaseModel):
    wape: float = Field(description="Sum of absolute errors over the sum of arrivals.")
    mase: float = Field(description="Mean absolute error over the in-sample weekly naive's.")
    coverage_80: float
    coverage_95: float


class TaskBacktest(BaseModel):
    types: int
    history_days: int
    horizon_days: int
    folds: int
    models: dict[str, Score]
    baseline: str = BASELINE
    best: str
    wape_vs_baseline: float = Field(description="The model's WAPE over the baseline's.")
    uncalibrated: dict[str, float] = Field(
        default_factory=dict,
        description="The model's coverage of its own 80% and 95% bands, before calibration.",
    )
    band_factors: list[float] = Field(
        default_factory=list,
        description="The calibration's mean widening of the 80% and 95% bands.",
    )


def backtest_daily(
    history: Mapping[str, FloatArray],
    first: date,
    horizon: int = 14,
    folds: int = 8,
    progress: Callable[[int, int], None] | None = None,
) -> TaskBacktest:
    """Forecast ``horizon`` days from ``folds`` origins a week apart, the last ending with the
    data; score every type and day of every fold."""
    length = len(next(iter(history.values()))) if history else 0
    origins = [length - horizon - WEEK * i for i in range(folds)]
    origins = sorted(o for o in origins if o >= MIN_DAYS)
    if not origins:
        raise NotEnoughHistory("task history", length, MIN_DAYS + horizon, "a backtest")
    errors: dict[str, list[float]] = {m: [] for m in (MODEL, BASELINE)}
    totals = 0.0
    scaled: dict[str, list[float]] = {m: [] for m in (MODEL, BASELINE)}
    inside: dict[str, list[float]] = {f"{m}/{b}": [] for m in (MODEL, BASELINE) for b in (80, 95)}
    raw: dict[str, list[bool]] = {"80": [], "95": []}
    factors: list[tuple[float, float]] = []
    for done, origin in enumerate(origins):
        train = {t: np.asarray(y[:origin], dtype=float) for t, y in history.items()}
        widen = widening(train, first, horizon)
        factors.append(widen)
        out = forecast_daily(train, first, horizon, widen=widen)
        for name, y in history.items():
            actual = np.asarray(y[origin : origin + horizon], dtype=float)
            totals += float(actual.sum())
            past = train[name]
            scale = float(np.mean(np.abs(past[WEEK:] - past[:-WEEK])))
            for model in (MODEL, BASELINE):
                fc = out[model][name]
                error = np.abs(fc.mean - actual)
                errors[model].append(float(error.sum()))
                if scale > 0:
                    scaled[model].append(float(error.mean()) / scale)
                if model == MODEL:
                    score = standard_scores(fc, actual, widen)
                    raw["80"].extend((score <= Z80).tolist())
                    raw["95"].extend((score <= Z95).tolist())
                inside[f"{model}/80"].extend(((actual >= fc.lo_80) & (actual <= fc.hi_80)).tolist())
                inside[f"{model}/95"].extend(((actual >= fc.lo_95) & (actual <= fc.hi_95)).tolist())
        if progress is not None:
            progress(done + 1, len(origins))
    models = {
        m: Score(
            wape=round(sum(errors[m]) / totals, 4) if totals else 0.0,
            mase=round(float(np.mean(scaled[m])), 4) if scaled[m] else 0.0,
            coverage_80=round(float(np.mean(inside[f"{m}/80"])), 4),
            coverage_95=round(float(np.mean(inside[f"{m}/95"])), 4),
        )
        for m in (MODEL, BASELINE)
    }
    best = min(models, key=lambda m: models[m].wape)
    base = models[BASELINE].wape
    return TaskBacktest(
        types=len(history),
        history_days=length,
        horizon_days=horizon,
        folds=len(origins),
        models=models,
        best=best,
        wape_vs_baseline=round(models[MODEL].wape / base, 4) if base else 1.0,
        uncalibrated={k: round(float(np.mean(v)), 4) for k, v in raw.items() if v},
        band_factors=[round(float(np.mean([f[i] for f in factors])), 3) for i in (0, 1)],
    )

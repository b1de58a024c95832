"""Forecasts, the backtest and its plot, on synthetic queues (the accuracy targets on real data
are in ``tests/integration/blending/test_backtest_accuracy.py``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd  # type: ignore[import-untyped]
import pytest

from blending.errors import NotEnoughHistory
from blending.forecast_model import MODELS, forecast_arrivals, level_factor
from blending.intervals import Arrivals, regularise
from simulation.backtest import backtest_csv, run_backtest


def synthetic(weeks: int = 4, busier_today: float = 1.0, seed: int = 3) -> Arrivals:
    """Weekdays 08:00-18:00 in 15-minute intervals; the last day stops at 12:00."""
    rng = np.random.default_rng(seed)
    rows = []
    days = pd.date_range("2024-01-01", periods=weeks * 7 + 1, freq="D")
    for i, day in enumerate(days):
        if day.weekday() >= 5:
            continue
        last = i == len(days) - 1
        for t in pd.date_range(day + pd.Timedelta(hours=8), periods=40, freq="15min"):
            if last and t.hour >= 12:
                break
            hour = t.hour + t.minute / 60
            rate = 20 * np.exp(-0.5 * ((hour - 11) / 2.5) ** 2) * (1.2 if day.weekday() == 0 else 1)
            rows.append(
                {"interval_start": t, "calls": rng.poisson(rate * (busier_today if last else 1))}
            )
    [a] = regularise(pd.DataFrame(rows))
    return a


def test_forecast_covers_the_rest_of_today_and_tomorrow() -> None:
    a = synthetic()
    fc = forecast_arrivals(a, horizon_days=1)
    assert fc.origin == pd.Timestamp("2024-01-29 12:00")
    starts = [p.interval_start for p in fc.points]
    assert starts[0] == pd.Timestamp("2024-01-29 12:00")
    assert starts[-1] == pd.Timestamp("2024-01-30 23:45")
    night = [p for p in fc.points if p.interval_start.hour < 8]
    assert night
    assert all(p.mean == 0 and p.hi_95 == 0 for p in night)
    peak = next(p for p in fc.points if p.interval_start == pd.Timestamp("2024-01-30 11:00"))
    assert 12 < peak.mean < 30
    assert peak.lo_95 <= peak.lo_80 <= peak.mean <= peak.hi_80 <= peak.hi_95


@pytest.mark.parametrize("model", MODELS)
def test_every_model_forecasts(model: str) -> None:
    fc = forecast_arrivals(synthetic(), model=model)
    assert all(np.isfinite(p.mean) and p.mean >= 0 for p in fc.points)


def test_a_busy_morning_raises_the_rest_of_the_day() -> None:
    calm = forecast_arrivals(synthetic(busier_today=1.0))
    busy = forecast_arrivals(synthetic(busier_today=1.6))
    assert busy.level_factor > 1.2
    assert calm.level_factor == pytest.approx(1, abs=0.15)
    assert level_factor(np.array([0.0]), np.array([0.0]), 10) == 1


def test_one_day_of_history_is_refused() -> None:
    frame = pd.DataFrame(
        {"interval_start": pd.date_range("2024-01-01 08:00", periods=40, freq="15min"), "calls": 5}
    )
    [a] = regularise(frame)
    with pytest.raises(NotEnoughHistory, match="at least"):
        forecast_arrivals(a)
    with pytest.raises(NotEnoughHistory, match="backtest"):
        run_backtest(a)


def test_backtest_json_shape_progress_and_plot(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from simulation.backtest_plot import plot_last_fold

    a = synthetic(weeks=4)
    seen: list[tuple[int, int]] = []
    result = run_backtest(a, folds=3, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(0, 3), (1, 3), (2, 3), (3, 3)]
    data = json.loads(result.model_dump_json())
    assert {"interval_minutes", "folds", "baseline", "models", "best", "best_vs_baseline"} <= set(
        data
    )
    assert data["baseline"] == "seasonal_naive"
    assert data["folds"] == 3
    assert set(data["models"]) == set(MODELS)
    for score in data["models"].values():
        assert set(score) == {"mase", "rmse", "coverage_80", "coverage_95"}
    assert data["best"] != "seasonal_naive"
    assert "last_fold" not in data
    png = plot_last_fold(result, tmp_path / "fold.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_backtest_of_a_multi_queue_file_sums_the_queues(tmp_path: Path) -> None:
    a = synthetic(weeks=3)
    rows = []
    for d in range(a.complete_days()):
        for s in np.flatnonzero(a.open_slots):
            t = pd.Timestamp(a.day(d)) + pd.Timedelta(minutes=15 * int(s))
            if a.is_open_day(d):
                rows.append((t, a.calls[d, s] // 2, "cards"))
                rows.append((t, a.calls[d, s] - a.calls[d, s] // 2, "loans"))
    csv = tmp_path / "calls.csv"
    pd.DataFrame(rows, columns=["interval_start", "calls", "queue"]).to_csv(csv, index=False)
    total = backtest_csv(csv, folds=2)
    cards = backtest_csv(csv, folds=2, queue="cards")
    assert total.models["seasonal_naive"].rmse > cards.models["seasonal_naive"].rmse

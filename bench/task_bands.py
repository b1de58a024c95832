"""How well the arrivals' bands cover: the task backtest on two synthetic centers of 50 types
over 2 years (weekly pattern, month-end peaks), one with Poisson noise alone and one with a
day level the model cannot know on top (gamma, 16% spread), as real arrivals have.

    .venv/bin/python -m bench.task_bands

Prints the model's WAPE, the coverage of its calibrated 80% and 95% bands, and the coverage of
its own (uncalibrated) bands, per center.
"""

from __future__ import annotations

import time
from datetime import date, timedelta

import numpy as np

from blending.planning.arrivals import month_position
from blending.planning.backtest import backtest_daily

FIRST = date(2024, 1, 1)
DAYS = 730
TYPES = 50


def center(spread: bool, seed: int = 7) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    calendar = [FIRST + timedelta(days=i) for i in range(DAYS)]
    weekend = np.array([d.weekday() >= 5 for d in calendar])
    peak = month_position(calendar) >= 3
    out = {}
    for i in range(TYPES):
        rate = (3 + i % 7 * 3) * np.where(weekend, 0.3, 1.0) * np.where(peak, 1.8, 1.0)
        if spread:
            rate = rate * rng.gamma(40, 1 / 40, DAYS)
        out[f"type{i:02d}"] = rng.poisson(rate).astype(float)
    return out


def main() -> None:
    for spread in (False, True):
        started = time.perf_counter()
        r = backtest_daily(center(spread), FIRST, 14, 8)
        m = r.models["mstl"]
        print(
            f"{'day level + Poisson' if spread else 'Poisson alone':20} "
            f"WAPE {m.wape:.3f} (naive {r.models['seasonal_naive'].wape:.3f}), "
            f"80%: {m.coverage_80:.1%} (own {r.uncalibrated['80']:.1%}), "
            f"95%: {m.coverage_95:.1%} (own {r.uncalibrated['95']:.1%}), "
            f"factors {r.band_factors}, {time.perf_counter() - started:.0f} s"
        )


if __name__ == "__main__":
    main()

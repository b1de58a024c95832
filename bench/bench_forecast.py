"""Fit and forecast 200 queues of 8 weeks of 15-minute history; print a markdown section.

With ``--cluster``, the same fits for many queues here (worker processes) and on a local Dask
cluster (as many worker processes, reached through its scheduler's address), with the ratio.

The queues are synthetic: Poisson counts around the weekday-by-hour profile of the
"Anonymous Bank" arrivals (../shared/data, when present; a smooth built-in shape otherwise),
each queue with its own size and day-to-day level noise.

    .venv/bin/python -m bench.bench_forecast [--queues 200] [--weeks 8] [--repeat 3]
    .venv/bin/python -m bench.bench_forecast --cluster [--queues 2000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd  # type: ignore[import-untyped]

from blending.forecast_cluster import DaskCluster
from blending.forecast_model import DEFAULT_MODEL, MODELS, forecast_arrivals, forecast_many
from blending.intervals import Arrivals, regularise

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
REAL = DATA / "anonymous_bank_1999_6min_arrivals.csv"
TARGET_QUEUES = 2000
"""The size the cluster benchmark speaks of: a large center's queues."""


def weekly_profile() -> tuple[np.ndarray, str]:
    """Mean calls per 15 minutes by weekday (Monday first) and slot, summing to 1 per week."""
    if REAL.exists():
        frame = pd.read_csv(REAL, parse_dates=["interval_start"])
        t = frame["interval_start"]
        hourly = frame.groupby([t.dt.weekday, t.dt.hour])["calls"].mean().unstack()
        profile = np.repeat(hourly.to_numpy(), 4, axis=1) / 4
        source = REAL.name
    else:
        hours = np.arange(96) / 4
        day = np.exp(-0.5 * ((hours - 11) / 3.5) ** 2) + 0.4 * np.exp(
            -0.5 * ((hours - 19) / 2) ** 2
        )
        profile = np.vstack([day * w for w in (1, 1, 0.95, 0.95, 0.9, 0.35, 0.15)])
        source = "built-in shape"
    return profile / profile.sum(), source


def synthetic_queues(count: int, weeks: int, seed: int = 7) -> list[Arrivals]:
    profile, _ = weekly_profile()
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2024-01-01")  # a Monday
    days = weeks * 7 + 1
    index = pd.date_range(start, periods=days * 96, freq="15min")
    queues = []
    for q in range(count):
        weekly_calls = rng.lognormal(np.log(3000), 0.8)
        level = rng.gamma(40, 1 / 40, size=days)
        mean = np.concatenate(
            [
                profile[(start + pd.Timedelta(days=d)).weekday()] * weekly_calls * level[d]
                for d in range(days)
            ]
        )
        calls = rng.poisson(mean)
        cut = len(calls) - 96 + 40  # the last day stops at 10:00
        frame = pd.DataFrame({"interval_start": index[:cut], "calls": calls[:cut]})
        [arrivals] = regularise(frame, f"queue-{q}")
        queues.append(arrivals)
    return queues


def run(queues: int, weeks: int, repeat: int, workers: int, model: str) -> str:
    """Fit and forecast ``queues`` queues; the weekly seasonal naive, timed alike, is the
    baseline of what the machine does right now."""
    _, source = weekly_profile()
    series = synthetic_queues(queues, weeks)
    forecast_arrivals(series[0], model)  # warm-up: imports and first-call costs
    per_queue = []
    for q in series[:20]:
        started = time.perf_counter()
        forecast_arrivals(q, model)
        per_queue.append(time.perf_counter() - started)
    walls, baseline = [], []
    for _ in range(repeat):
        started = time.perf_counter()
        out = forecast_many(series, "seasonal_naive", workers=workers)
        baseline.append(time.perf_counter() - started)
        started = time.perf_counter()
        out = forecast_many(series, model, workers=workers)
        walls.append(time.perf_counter() - started)
        assert len(out) == len(series)
    median = statistics.median(walls)
    verdict = "meets" if median <= 30 else "misses"
    return "\n".join(
        [
            "## Forecasting many queues",
            "",
            f"`.venv/bin/python -m bench.bench_forecast --queues {queues} --weeks {weeks} "
            f"--repeat {repeat}`: {queues} synthetic queues, {weeks} weeks of 15-minute "
            f"history each (shape from {source}); model `{model}`; horizon: rest of today and "
            f"tomorrow with 80% and 95% intervals; {workers} worker process(es) on "
            f"{os.cpu_count()} CPU(s), Python {platform.python_version()}, "
            f"{datetime.now():%Y-%m-%d}.",
            "",
            "| measure | median | runs |",
            "| --- | --- | --- |",
            f"| one queue, fit + forecast, one process | "
            f"{statistics.median(per_queue) * 1000:.0f} ms | {len(per_queue)} |",
            f"| all {queues} queues, wall clock | {median:.1f} s | {len(walls)} |",
            f"| baseline: all {queues} queues with the weekly seasonal naive | "
            f"{statistics.median(baseline):.1f} s | {len(baseline)} |",
            "",
            f"Target: 200 queues in 30 s or less: {verdict} it ({median:.1f} s).",
            "",
        ]
    )


def section(quick: bool = False) -> str:
    return run(200, 8, 1 if quick else 3, os.cpu_count() or 1, DEFAULT_MODEL)


def run_cluster(queues: int, weeks: int, repeat: int, workers: int, model: str) -> str:
    """The same queues fitted here over ``workers`` processes (the baseline) and on a local
    Dask cluster of ``workers`` single-threaded worker processes, alternately."""
    from distributed import LocalCluster

    series = synthetic_queues(queues, weeks)
    forecast_arrivals(series[0], model)
    local, remote = [], []
    with (
        LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        ) as engine,
        DaskCluster(engine.scheduler_address) as cluster,
    ):
        forecast_many(series[:workers], model, cluster=cluster)  # the workers' imports
        for _ in range(repeat):
            started = time.perf_counter()
            here = forecast_many(series, model, workers=workers)
            local.append(time.perf_counter() - started)
            started = time.perf_counter()
            there = forecast_many(series, model, cluster=cluster)
            remote.append(time.perf_counter() - started)
    worst = max(
        float(np.max(np.abs(np.asarray([p.mean for p in a.points]) - [p.mean for p in b.points])))
        for a, b in zip(here, there, strict=True)
    )
    mine, theirs = statistics.median(local), statistics.median(remote)
    return "\n".join(
        [
            "## Forecasting on a Dask cluster",
            "",
            f"`.venv/bin/python -m bench.bench_forecast --cluster --queues {queues} --weeks "
            f"{weeks} --repeat {repeat}`: {queues} synthetic queues (as above), {weeks} weeks of "
            f"15-minute history each, model `{model}`; here: {workers} worker processes; on the "
            f"cluster: a local Dask cluster of {workers} single-threaded worker processes, "
            f"reached through its scheduler's address, one task per queue; {os.cpu_count()} "
            f"CPU(s), Python {platform.python_version()}, {datetime.now():%Y-%m-%d}.",
            "",
            "| measure | median | per queue | runs |",
            "| --- | --- | --- | --- |",
            f"| baseline: all {queues} queues here, wall clock | {mine:.1f} s | "
            f"{mine / queues * 1000:.0f} ms | {len(local)} |",
            f"| all {queues} queues on the Dask cluster, wall clock | {theirs:.1f} s | "
            f"{theirs / queues * 1000:.0f} ms | {len(remote)} |",
            "",
            f"Cluster / here: {theirs / mine:.2f}. The largest difference between the two "
            f"forecasts' means: {worst:.2g} calls."
            + (
                ""
                if queues >= TARGET_QUEUES
                else f" Scaled to {TARGET_QUEUES:,} queues (the fits are independent, so time "
                f"grows in proportion): {mine / queues * TARGET_QUEUES:.0f} s here, "
                f"{theirs / queues * TARGET_QUEUES:.0f} s on the cluster; {queues} were "
                "measured to keep the run short on this shared machine."
            ),
            "",
        ]
    )


def cluster_section(quick: bool = False) -> str:
    return run_cluster(40 if quick else 200, 8, 1 if quick else 2, 2, DEFAULT_MODEL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--queues", type=int, default=200)
    parser.add_argument("--weeks", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--model", default=DEFAULT_MODEL, choices=MODELS)
    parser.add_argument("--cluster", action="store_true", help="here against a Dask cluster")
    args = parser.parse_args()
    measure = run_cluster if args.cluster else run
    print(measure(args.queues, args.weeks, args.repeat, args.workers, args.model))


if __name__ == "__main__":
    main()

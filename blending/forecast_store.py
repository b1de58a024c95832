"""Forecasts in the service: refreshed in the background, read by the API and the blending.

The refresh runs on the elected instance, off the event loop (statsforecast is CPU work), for
each queue whose forecast is missing, older than ``every_seconds``, or behind by
``new_intervals`` intervals. The figures and the agents each interval needs are stored, so a
request never fits a model. With a Dask cluster set (``ForecastSettings.cluster``), the fits
run on its workers instead (see ``blending.forecast_cluster``).
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from blending.errors import BlendingError
from blending.forecast_model import Z80, Z95, ForecastPoint, QueueForecast
from blending.sites import SiteStore
from queues.db import Executor, load_queries, transaction

log = logging.getLogger(__name__)
_SQL = load_queries("blending", "forecasts.sql")


@dataclass(frozen=True)
class ForecastSettings:
    model: str = "mstl_theta"
    weeks: int = 8
    every_seconds: float = 900
    new_intervals: int = 4
    target_sl: float = 0.8
    target_seconds: float = 20
    max_occupancy: float = 0.9
    timezone: str = "UTC"
    """The default site's clock: the days and weekly patterns of a queue in no site follow
    it; a queue in a site follows the site's (:mod:`blending.sites`)."""
    cluster: str | None = None
    """A Dask scheduler's address (``tcp://host:port``) the fits are sent to; None: fitted
    here, in a thread."""


class IntervalForecast(BaseModel):
    interval_start: datetime
    minutes: int
    mean: float
    lo_80: float
    hi_80: float
    lo_95: float
    hi_95: float
    aht_seconds: float | None
    agents: int | None
    """Agents that meet the target at the upper 80% bound of the arrival rate."""
    agents_high: int | None = None
    """... and at its upper 95% bound."""


class QueueForecastOut(BaseModel):
    queue: str
    model: str
    computed_at: datetime
    origin: datetime | None
    level_factor: float | None
    intervals: list[IntervalForecast]


@dataclass(frozen=True)
class ForecastSummary:
    """A queue's latest forecast run: when, or why it failed, and how far ahead it reaches."""

    queue: str
    computed_at: datetime
    error: str | None
    intervals: int
    """Intervals forecast from the time asked about on."""


class NoForecast(BlendingError):
    """There is no forecast for this queue yet."""


def forecast_queue(
    rows: list[tuple[datetime, float, float | None]],
    queue: str,
    minutes: int,
    policy: ForecastSettings,
    horizon_days: int = 1,
) -> tuple[QueueForecast, list[tuple[int | None, int | None]]]:
    """Fit, forecast and staff one queue (CPU work, run in a thread). The history is turned
    to the center's local clock, so that days and weeks are the center's; the forecast's
    intervals are turned back to UTC. Each interval is staffed at its upper 80% and 95%
    bounds."""
    import pandas as pd  # type: ignore[import-untyped]

    from blending.forecast_model import forecast_arrivals
    from blending.intervals import regularise
    from blending.staffing import agents_needed

    zone = ZoneInfo(policy.timezone)
    frame = pd.DataFrame(rows, columns=["interval_start", "calls", "aht_seconds"])
    stamps = pd.to_datetime(frame["interval_start"], utc=True)
    frame["interval_start"] = stamps.dt.tz_convert(zone).dt.tz_localize(None)
    if frame["interval_start"].duplicated().any():
        # The hour a DST change repeats gives two intervals per local slot: one slot, their mean.
        frame["aht_seconds"] = frame["aht_seconds"].astype(float)
        frame = frame.groupby("interval_start", as_index=False).mean()
    arrivals = regularise(frame, queue, minutes)[0]
    forecast = forecast_arrivals(
        arrivals, policy.model, horizon_days=horizon_days, weeks=policy.weeks
    )
    known = [p.aht_seconds for p in forecast.points if p.aht_seconds]
    fallback = known[0] if known else None

    def staff(calls: float, aht: float | None) -> int | None:
        if aht is None:
            return None
        try:
            return agents_needed(
                max(calls, 0.0),
                minutes,
                aht,
                policy.target_sl,
                policy.target_seconds,
                policy.max_occupancy,
            ).agents
        except BlendingError:
            return None

    agents = [
        (
            staff(rate_bound(p.mean, p.hi_80, Z80), p.aht_seconds or fallback),
            staff(rate_bound(p.mean, p.hi_95, Z95), p.aht_seconds or fallback),
        )
        for p in forecast.points
    ]
    utc_points, utc_agents = on_the_clock(forecast.points, agents, zone, minutes)
    return forecast.model_copy(
        update={"origin": _to_utc(forecast.origin, zone), "points": utc_points}
    ), utc_agents


P = TypeVar("P", bound=ForecastPoint)
A = TypeVar("A")


def on_the_clock(
    points: Sequence[P], agents: Sequence[A], zone: ZoneInfo, minutes: int
) -> tuple[list[P], list[A]]:
    """Local-time points laid on the real intervals, in UTC: each interval gets the point of
    its local time of day, so the day a DST change shortens loses the skipped hour's points
    and the day it lengthens has the repeated hour's points twice."""
    if not points:
        return [], []
    by_local = {p.interval_start: (p, a) for p, a in zip(points, agents, strict=True)}
    step = timedelta(minutes=minutes)
    at = _to_utc(points[0].interval_start, zone)
    last = _to_utc(points[-1].interval_start, zone)
    laid: list[P] = []
    staffed: list[A] = []
    while at <= last:
        found = by_local.get(at.astimezone(zone).replace(tzinfo=None))
        if found is not None:
            laid.append(found[0].model_copy(update={"interval_start": at}))
            staffed.append(found[1])
        at += step
    return laid, staffed


def rate_bound(mean: float, high: float, z: float) -> float:
    """The upper bound of the arrival *rate* from a count's prediction bound.

    A count's prediction interval holds two spreads: the forecast's doubt about the rate, and
    the Poisson spread of the count given the rate. Erlang's formulas take a rate and account
    for the Poisson spread themselves, so staffing for the count's bound would count it twice
    (for 36 calls in 15 minutes, about two agents too many). The Poisson variance (the mean)
    is taken out of the interval's variance, and what is left bounds the rate.
    """
    sd = (high - mean) / z
    return mean + z * math.sqrt(max(0.0, sd * sd - max(mean, 0.0)))


def _to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    return local.replace(tzinfo=zone).astimezone(UTC)


Job = tuple[list[tuple[datetime, float, float | None]], str, int, ForecastSettings]
"""One queue's fit: its history rows, name, interval minutes and the settings."""
Outcome = tuple[QueueForecast, list[tuple[int | None, int | None]]] | str
"""A fitted and staffed forecast, or why the queue has none."""

CLUSTER_BATCH = 64
"""Queues whose histories are read, sent to the cluster and saved at a time."""


def fit_job(job: Job) -> Outcome:
    """``forecast_queue`` for one queue, with a forecasting error as its message (what a cluster's
    worker returns: plain values travel back more safely than exceptions)."""
    try:
        return forecast_queue(*job)
    except BlendingError as exc:
        return str(exc)


async def refresh(db: Executor, now: datetime, policy: ForecastSettings) -> dict[str, str | None]:
    """Refresh every queue that is due; give each queue's error (None when it worked).

    Locally each queue is fitted in a thread and saved before the next one; with
    ``policy.cluster`` the queues go to the Dask cluster ``CLUSTER_BATCH`` at a time.
    """
    outcome: dict[str, str | None] = {}
    due = await db.fetch(_SQL["queues_due"], policy.every_seconds, policy.new_intervals)
    if not due:
        return outcome
    clocks = await SiteStore(db, policy.timezone).clocks()

    def on_site_clock(queue: str) -> ForecastSettings:
        return replace(policy, timezone=clocks.of_queue(queue).key)

    if policy.cluster is None:
        for row in due:
            job = await _job(db, row["queue"], now, on_site_clock(row["queue"]))
            result = await asyncio.to_thread(fit_job, job)
            outcome[job[1]] = await _save(db, job, row["intervals"], result, policy)
        return outcome
    from blending.forecast_cluster import DaskCluster

    cluster = DaskCluster(policy.cluster)
    await asyncio.to_thread(cluster.__enter__)
    try:
        for first in range(0, len(due), CLUSTER_BATCH):
            rows = due[first : first + CLUSTER_BATCH]
            jobs = [await _job(db, r["queue"], now, on_site_clock(r["queue"])) for r in rows]
            results = await asyncio.to_thread(cluster.map, fit_job, jobs)
            for row, job, result in zip(rows, jobs, results, strict=True):
                outcome[job[1]] = await _save(db, job, row["intervals"], result, policy)
    finally:
        await asyncio.to_thread(cluster.__exit__, None, None, None)
    return outcome


async def _job(db: Executor, queue: str, now: datetime, policy: ForecastSettings) -> Job:
    since = now - timedelta(weeks=policy.weeks + 1)
    history = await db.fetch(_SQL["history"], queue, since)
    minutes = history[-1]["minutes"] if history else 15
    rows = [(h["interval_start"], float(h["calls"]), h["aht_seconds"]) for h in history]
    return rows, queue, minutes, policy


async def _save(
    db: Executor, job: Job, seen: int, result: Outcome, policy: ForecastSettings
) -> str | None:
    """Store one queue's forecast (or its failed run); its error, None when it worked."""
    _, queue, minutes, _ = job
    if isinstance(result, str):
        await db.execute(_SQL["save_run"], queue, None, policy.model, None, seen, result)
        return result
    forecast, agents = result
    points = forecast.points
    async with transaction(db) as conn:
        await conn.execute(_SQL["clear"], queue)
        await conn.execute(
            _SQL["save_points"],
            queue,
            [p.interval_start for p in points],
            [minutes] * len(points),
            [p.mean for p in points],
            [p.lo_80 for p in points],
            [p.hi_80 for p in points],
            [p.lo_95 for p in points],
            [p.hi_95 for p in points],
            [p.aht_seconds for p in points],
            [a[0] for a in agents],
            [a[1] for a in agents],
        )
        await conn.execute(
            _SQL["save_run"],
            queue,
            forecast.origin,
            forecast.model,
            forecast.level_factor,
            seen,
            None,
        )
    return None


async def read(db: Executor, queue: str, since: datetime) -> QueueForecastOut:
    """The stored forecast of a queue, from ``since``; :class:`NoForecast` says why not."""
    run = await db.fetchrow(_SQL["run_of"], queue)
    if run is None:
        if await db.fetchval(_SQL["queue_known"], queue):
            raise NoForecast(f"no forecast for queue {queue!r} yet: it is being computed")
        raise NoForecast(f"queue {queue!r} has no interval statistics")
    if run["error"]:
        raise NoForecast(f"no forecast for queue {queue!r}: {run['error']}")
    points = await db.fetch(_SQL["points"], queue, since)
    return QueueForecastOut(
        queue=queue,
        model=run["model"],
        computed_at=run["computed_at"],
        origin=run["origin"],
        level_factor=run["level_factor"],
        intervals=[IntervalForecast.model_validate(dict(p)) for p in points],
    )


async def summaries(db: Executor, since: datetime) -> list[ForecastSummary]:
    """Every queue's latest run (at most 100), the failed ones last, with its intervals from
    ``since``."""
    rows = await db.fetch(_SQL["summaries"], since)
    return [ForecastSummary(r["queue"], r["computed_at"], r["error"], r["intervals"]) for r in rows]


def warm_up() -> None:
    """Import and compile the forecasting code once, before any request needs it."""
    import numpy as np

    from blending.forecast_model import fit_predict

    week = np.abs(np.sin(np.linspace(0, 20, 14 * 24))).reshape(14, 24) * 10 + 1
    fit_predict(week, 7, 1)

"""A contact center's figures for ETA tests: stored forecasts and shifts, as the background
refresh and the schedule API leave them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import asyncpg


def quarter(now: datetime) -> datetime:
    """The start of ``now``'s quarter hour."""
    return now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0)


async def store_forecast(
    pool: asyncpg.Pool, agents: Callable[[int], int], queue: str = "calls", hours: int = 24
) -> None:
    """A stored forecast from this quarter hour on: ``agents(i)`` needed in interval ``i``."""
    start = quarter(datetime.now(UTC))
    starts = [start + timedelta(minutes=15 * i) for i in range(hours * 4)]
    await pool.execute(
        "INSERT INTO queue_forecasts (queue, interval_start, minutes, mean, lo_80, hi_80, "
        "lo_95, hi_95, aht_seconds, agents, agents_high) "
        "SELECT $1, s, 15, 10, 8, 12, 7, 13, 240, n, n FROM unnest($2::timestamptz[], "
        "$3::int[]) AS u(s, n)",
        queue,
        starts,
        [agents(i) for i in range(len(starts))],
    )


async def on_shift(pool: asyncpg.Pool, agent: str, hours: float = 20) -> None:
    """A shift from an hour ago for ``hours`` more (a schedule entry lasts at most a day)."""
    await pool.execute(
        "INSERT INTO agent_schedules (agent_id, kind, starts_at, ends_at) "
        "VALUES ($1, 'shift', now() - interval '1 hour', now() + make_interval(hours => $2))",
        agent,
        hours,
    )

"""When will an open task likely be done? What an agent tells a customer who asks.

In progress: its holder's expected time on the current step, less the active time they have
already put in (pauses are not work). Queued: its place among the tasks of the same step ahead
of it, divided by how many of those the team completed per hour lately. Either way, the later
steps add the team's expected time for each.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from queues.db import Executor, load_queries
from queues.estimates import load_estimates

_SQL = load_queries("queues", "tasks.sql")
THROUGHPUT_HOURS = 7 * 24


@dataclass(frozen=True)
class Eta:
    at: datetime | None
    basis: str


def _steps(row: Any) -> list[tuple[int, float]]:
    steps = row["type_steps"]
    if not steps:
        return [(1, row["type_handle_minutes"])]
    return [(n + 1, float(s["handle_minutes"])) for n, s in enumerate(steps)]


async def estimate_eta(
    db: Executor, row: Any, priority: float, top_share: float, now: datetime
) -> Eta:
    """The ETA of the task in ``row`` (a task row joined with its type's steps)."""
    status = row["status"]
    if status in ("done", "cancelled"):
        return Eta(None, status)
    estimates = await load_estimates(db)
    later = sum(
        estimates.team_minutes(row["type"], step, minutes)
        for step, minutes in _steps(row)
        if step > row["step"]
    )
    current = dict(_steps(row))[row["step"]]
    if status == "in_progress" and row["holder"] and row["active_since"]:
        mine = estimates.minutes(row["holder"], row["type"], row["step"], current)
        left = timedelta(minutes=mine, seconds=-row["active_seconds"])
        end = max(row["active_since"] + left, now)
        return Eta(end + timedelta(minutes=later), f"{row['holder']}'s usual time on this step")
    if status in ("paused", "escalated"):
        return Eta(None, f"{status}: no estimate until work resumes")
    ahead = await db.fetchval(
        _SQL["queue_position"], row["id"], row["type"], row["step"], top_share, priority
    )
    per_hour = await db.fetchval(
        _SQL["recent_throughput"], row["type"], row["step"], THROUGHPUT_HOURS
    )
    if not per_hour:
        return Eta(None, "no completions of this step in the last 7 days to go by")
    wait = timedelta(hours=(ahead + 1) / per_hour)
    work = timedelta(minutes=estimates.team_minutes(row["type"], row["step"], current) + later)
    return Eta(now + wait + work, f"{ahead} ahead in the queue, {per_hour:.1f} done per hour")

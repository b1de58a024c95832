"""A back office with a history: closed tasks imported, a roster on shift, calls to forecast."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, time, timedelta

import asyncpg

from queues.catalog import Catalog
from queues.importer import import_tasks
from queues.models import TaskTypeIn

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
"""A Monday morning."""
WEEKDAY = (10, 10, 10, 10, 10, 2, 0)
"""Billing tasks arriving per weekday, Monday first."""


async def history(pool: asyncpg.Pool, weeks: int = 8, now: datetime = NOW) -> int:
    """Closed billing tasks, ``WEEKDAY`` a day for ``weeks`` weeks, 30 worked minutes each."""
    await Catalog(pool).put(
        "billing", TaskTypeIn(skills=["billing"], sla_minutes=1440, handle_minutes=20)
    )
    rows = ["source,external_id,type,title,created_at,completed_at,worked_minutes\n"]
    first = now.date() - timedelta(weeks=weeks)
    n = 0
    for d in range(weeks * 7):
        day = first + timedelta(days=d)
        for i in range(WEEKDAY[day.weekday()]):
            created = datetime.combine(day, time(9), UTC) + timedelta(minutes=20 * i)
            done = created + timedelta(hours=2)
            rows.append(f"crm,H-{n},billing,Old {n},{created.isoformat()},{done.isoformat()},30\n")
            n += 1
    report = await import_tasks(pool, io.StringIO("".join(rows)), actor="import:test", now=now)
    assert not report.errors, report.errors[:3]
    return n


async def shifts(pool: asyncpg.Pool, agent: str, first: date, days: int) -> None:
    """09:00-17:00 UTC every day from ``first``, with a 12:00-12:30 break."""
    for d in range(days):
        day = first + timedelta(days=d)
        start = datetime.combine(day, time(9), UTC)
        await pool.execute(
            "INSERT INTO agent_schedules (agent_id, kind, starts_at, ends_at) VALUES"
            " ($1, 'shift', $2, $3), ($1, 'break', $4, $5)",
            agent,
            start,
            start + timedelta(hours=8),
            start + timedelta(hours=3),
            start + timedelta(hours=3, minutes=30),
        )


async def agent(pool: asyncpg.Pool, agent_id: str, team: str | None, skills: list[str]) -> None:
    await pool.execute(
        "INSERT INTO agents (agent_id, name, team) VALUES ($1, $1, $2)", agent_id, team
    )
    for skill in skills:
        await pool.execute(
            "INSERT INTO agent_skills (agent_id, skill, proficiency) VALUES ($1, $2, 3)",
            agent_id,
            skill,
        )


async def calls(pool: asyncpg.Pool, weeks: int = 4, now: datetime = NOW) -> None:
    """A quiet queue: 4 calls a quarter hour of 4 minutes each, 09:00-17:00 every day."""
    starts = []
    first = datetime.combine(now.date() - timedelta(weeks=weeks), time(), UTC)
    t = first
    while t < now:
        starts.append(t)
        t += timedelta(minutes=15)
    offered = [4 if 9 <= s.hour < 17 else 0 for s in starts]
    await pool.execute(
        "INSERT INTO interval_stats (queue, interval_start, minutes, offered, answered, handled,"
        " handle_seconds) SELECT 'calls', s, 15, n, n, n, n * 240.0"
        " FROM unnest($1::timestamptz[], $2::int[]) AS u(s, n)",
        starts,
        offered,
    )

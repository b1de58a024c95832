"""The reports on a large center: 1,000 agents, 100,000 tasks, 90 days of history.

    .venv/bin/python -m bench.bench_reports [--tasks 100000] [--days 90] [--runs 3]

The queue of ``bench_queues``, then for each of the last ``days`` days: every agent's state
reports (eight a day, one per hour of an 8-hour shift, cycling through the states), about
1,100 completed steps with their segments (100,000 over 90 days) and the calls' interval
statistics of 4 queues. The days that are over are rolled up first (as the tick does, once
each), then each report is timed as the API reads it (``blending.reports``); the baseline is a
``count(*)`` of the state reports.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg

from bench.bench_queues import fill
from bench.common import drop_database, fresh_database, median, server_url
from blending import recognition, reports
from bot.database import open_pool
from bot.migrate import migrate_url

AGENTS = 1000
STATES = (
    "available",
    "on_call",
    "after_call_work",
    "available",
    "break",
    "on_call",
    "after_call_work",
    "offline",
)


async def history(pool: asyncpg.Pool, days: int, tasks: int) -> None:
    await pool.execute(
        "INSERT INTO agent_telephony_ids (source, external_id, agent_id) "
        "SELECT 'generic', agent_id, agent_id FROM agents"
    )
    await pool.execute(
        "INSERT INTO telephony_events (source, event_id, type, at, external_agent, body) "
        "SELECT 'generic', a.agent_id || '-' || d || '-' || h, 'agent_state', "
        " date_trunc('day', now()) - d * interval '1 day' + (8 + h) * interval '1 hour', "
        " a.agent_id, jsonb_build_object('state', ($1::text[])[h + 1]) "
        "FROM agents a, generate_series(0, $2 - 1) d, generate_series(0, 7) h",
        list(STATES),
        days,
    )
    done = min(tasks, 100_000)
    await pool.execute(
        "INSERT INTO task_segments (task_id, agent_id, step, started_at, started_by, ended_at,"
        " ended_by) "
        "SELECT t.id, 'agent' || lpad((t.id % $1)::text, 4, '0'), 1, s.at, 'claimed',"
        " s.at + interval '12 minutes', 'completed' "
        "FROM tasks t, LATERAL (SELECT date_trunc('day', now()) - (t.id % $2) * interval '1 day'"
        " + interval '9 hours' + (t.id % 400) * interval '1 minute' AS at) s "
        "WHERE t.id <= $3",
        AGENTS,
        days,
        done,
    )
    await pool.execute(
        "INSERT INTO task_events (task_id, at, event, from_status, to_status, actor, data) "
        "SELECT s.task_id, s.ended_at, 'completed', 'in_progress', 'done', s.agent_id, "
        " jsonb_build_object('step', 1, 'steps', 1, 'worked_seconds', 720, 'outcome', 'ok') "
        "FROM task_segments s"
    )
    await pool.execute("UPDATE tasks SET status = 'done' WHERE id <= $1", done)
    await pool.execute("UPDATE agents SET cost_per_hour = 30, team = 'team' || right(agent_id, 1)")
    await pool.execute(
        "INSERT INTO interval_stats (queue, interval_start, minutes, offered, answered,"
        " abandoned, answered_in_sl) "
        "SELECT 'q' || q, date_trunc('day', now()) - d * interval '1 day' + i * interval '15 min',"
        " 15, 40, 37, 3, 30 "
        "FROM generate_series(1, 4) q, generate_series(0, $1 - 1) d, generate_series(0, 95) i",
        days,
    )
    await pool.execute(
        "INSERT INTO agent_schedules (agent_id, kind, starts_at, ends_at) "
        "SELECT agent_id, 'shift', now() - interval '1 hour', now() + interval '7 hours' "
        "FROM agents"
    )
    await pool.execute("VACUUM ANALYZE")


async def timed(work: Callable[[], Awaitable[object]], runs: int) -> list[float]:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        await work()
        timings.append(time.perf_counter() - started)
    return timings


def span(first: date, last: date, zone: str = "UTC") -> reports.Span:
    clock = ZoneInfo(zone)
    after = last + timedelta(days=1)
    return reports.Span(
        first,
        last,
        datetime(first.year, first.month, first.day, tzinfo=clock),
        datetime(after.year, after.month, after.day, tzinfo=clock),
        zone,
    )


SITE_AGENTS = 200
"""The agents of the site the site's reports are read for (in Auckland)."""


async def measure(pool: asyncpg.Pool, runs: int) -> dict[str, list[float]]:
    now = datetime.now(UTC)
    today = now.date()
    day = span(today - timedelta(days=1), today - timedelta(days=1))
    month = span(today - timedelta(days=29), today)
    week_end = span(today, today + timedelta(days=7 - today.weekday() - 1)).end
    out = {
        "baseline": await timed(
            lambda: pool.fetchval(
                "SELECT count(*) FROM telephony_events WHERE type = 'agent_state'"
            ),
            runs,
        ),
        "roll-up of the days that are over, once": await timed(
            lambda: reports.roll_up(
                pool, "UTC", today - timedelta(days=89), today - timedelta(days=2), now
            ),
            1,
        ),
        "agents, one day": await timed(lambda: reports.agents(pool, day, now), runs),
        "agents, 30 days": await timed(lambda: reports.agents(pool, month, now), runs),
        "teams, 30 days": await timed(lambda: reports.teams(pool, month, now), runs),
        "costs, 30 days": await timed(lambda: reports.costs(pool, month, now), runs),
        "skills gaps and coaching, 30 days": await timed(
            lambda: reports.skills(pool, month, now, week_end), runs
        ),
        "decisions, 30 days": await timed(lambda: reports.decisions(pool, month), runs),
        "recognition, one day": await timed(lambda: recognition.recognition(pool, day, now), runs),
        "recognition, 30 days": await timed(
            lambda: recognition.recognition(pool, month, now), runs
        ),
    }
    for days in (30, 90):
        trend = span(today - timedelta(days=days - 1), today)

        async def trends(trend: reports.Span = trend) -> object:
            return await reports.trends(pool, trend, now, "UTC")

        out[f"trends, {days} days"] = await timed(trends, runs)
    out |= await measure_site(pool, runs, now)
    return out


async def measure_site(pool: asyncpg.Pool, runs: int, now: datetime) -> dict[str, list[float]]:
    """The reports of one site: its agents in Auckland, its days on Auckland's clock (the
    first read rolls its closed days up in that zone, as the API's first ask does)."""
    await pool.execute(
        "INSERT INTO sites (site_id, name, time_zone) VALUES ('akl', 'Auckland', $1)",
        "Pacific/Auckland",
    )
    await pool.execute(
        "UPDATE agents SET site_id = 'akl' WHERE agent_id < $1", f"agent{SITE_AGENTS:04d}"
    )
    today = now.astimezone(ZoneInfo("Pacific/Auckland")).date()
    month = span(today - timedelta(days=29), today, "Pacific/Auckland")
    week_end = month.end + timedelta(days=7 - today.weekday() - 1)
    name = f"a site of {SITE_AGENTS} agents"
    return {
        f"skills gaps and coaching, 30 days, {name}": await timed(
            lambda: reports.skills(pool, month, now, week_end, "akl"), runs
        ),
        f"recognition, 30 days, {name}": await timed(
            lambda: recognition.recognition(pool, month, now, "akl"), runs
        ),
    }


async def main_async(tasks: int, days: int, runs: int) -> str:
    with server_url() as url:
        db_url = await fresh_database(url)
        try:
            await migrate_url(db_url)
            async with open_pool(db_url, min_size=2, max_size=8) as pool:
                await fill(pool, tasks, AGENTS)
                await history(pool, days, tasks)
                figures = await measure(pool, runs)
        finally:
            await drop_database(url, db_url)
    return report(tasks, days, runs, figures)


def report(tasks: int, days: int, runs: int, figures: dict[str, list[float]]) -> str:
    lines = [
        "## Reports",
        "",
        f"`.venv/bin/python -m bench.bench_reports --tasks {tasks} --days {days} --runs {runs}`:"
        f" {AGENTS:,} agents with eight state reports a day for {days} days "
        f"({AGENTS * 8 * days:,} reports), {tasks:,} tasks of which up to 100,000 completed "
        f"over the {days} days with their segments, interval statistics of 4 queues; each "
        f"report read as the API and the console read it ({runs} runs, median).",
        "",
        "| measure | median | target |",
        "| --- | --- | --- |",
    ]
    for name, values in figures.items():
        target = "" if name == "baseline" or name.startswith("roll-up") else "< 1 s"
        label = "baseline: `count(*)` of the state reports" if name == "baseline" else name
        lines.append(f"| {label} | {median(values) * 1000:.0f} ms | {target} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(asyncio.run(main_async(args.tasks, args.days, args.runs)))


if __name__ == "__main__":
    main()

"""ETAs and lookups on a large queue: the SLA watch's run, a task's detail, the lookups.

    .venv/bin/python -m bench.bench_eta [--tasks 100000] [--runs 3]

The queue of ``bench_queues`` (open tasks of a dozen types, due within 15 hours, a thousand
agents with three skills each), with every agent on shift and a stored forecast that needs all
but 20 of them: far more work than the lull can take, so most tasks will miss their due time
(the watch's worst case: every task is due within its 24-hour window). The watch run is timed
with its default batch and with every queued task examined, and nothing is remembered between
runs, so each run does the same work. The baseline is a ``count(*)`` of the queued tasks.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import asyncpg

from bench.bench_queues import fill
from bench.common import drop_database, fresh_database, median, percentile, server_url
from blending.outlook import ForecastOutlook, read_lending
from blending.policy import policy_for
from bot.database import open_pool
from bot.migrate import migrate_url
from queues.eta_store import EtaStore, WatchSettings
from queues.models import TaskFilter
from queues.tasks import Tasks

AGENTS = 1000
SPARE = 20
POLICY = policy_for("forecast_guard")


async def center(pool: asyncpg.Pool) -> None:
    """Every agent on shift from an hour ago for 20 hours; the calls need all but SPARE."""
    await pool.execute(
        "INSERT INTO agent_schedules (agent_id, kind, starts_at, ends_at) "
        "SELECT agent_id, 'shift', now() - interval '1 hour', now() + interval '20 hours' "
        "FROM agents"
    )
    await pool.execute(
        "INSERT INTO queue_forecasts (queue, interval_start, minutes, mean, lo_80, hi_80, "
        "lo_95, hi_95, aht_seconds, agents, agents_high) "
        "SELECT 'calls', date_trunc('hour', now()) + make_interval(mins => 15 * i), 15, "
        "100, 90, 110, 85, 115, 240, $1, $1 FROM generate_series(0, 99) AS i",
        AGENTS - SPARE,
    )
    await pool.execute(
        "UPDATE tasks SET holder = 'agent' || lpad((id % $1)::text, 4, '0'), "
        "status = 'in_progress', claimed_at = now() - interval '5 minutes' "
        "WHERE id % 97 = 0",
        AGENTS,
    )
    await pool.execute("VACUUM ANALYZE")


async def timed(work: Callable[[], Awaitable[object]], runs: int) -> list[float]:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        await work()
        timings.append(time.perf_counter() - started)
    return timings


async def main_async(tasks: int, runs: int) -> str:
    with server_url() as url:
        db_url = await fresh_database(url)
        try:
            await migrate_url(db_url)
            async with open_pool(db_url, min_size=4, max_size=20) as pool:
                await fill(pool, tasks, AGENTS)
                await center(pool)
                figures = await measure(pool, runs)
        finally:
            await drop_database(url, db_url)
    return report(tasks, runs, figures)


async def measure(pool: asyncpg.Pool, runs: int) -> dict[str, list[float] | float]:
    out: dict[str, list[float] | float] = {}
    now = datetime.now(UTC)
    out["baseline"] = await timed(
        lambda: pool.fetchval("SELECT count(*) FROM tasks WHERE status = 'queued'"), 20
    )
    out["outlook"] = await timed(lambda: read_lending(pool, now, POLICY), 3 * runs)
    store = EtaStore(pool)
    found: list[int] = []

    async def watch(settings: WatchSettings) -> None:
        lending = await read_lending(pool, now, POLICY)
        result = await store.at_risk(now, lending, settings)
        found[:] = [result.examined, len(result.at_risk)]

    default = WatchSettings()
    out["watch"] = await timed(lambda: watch(default), 3 * runs)
    out["watch_examined"], out["watch_at_risk"] = float(found[0]), float(found[1])
    waiting = await queued(pool)
    every = WatchSettings(batch=waiting, max_warnings=waiting)
    out["watch_all"] = await timed(lambda: watch(every), runs)
    out["watch_all_examined"], out["watch_all_at_risk"] = float(found[0]), float(found[1])

    detail = Tasks(pool, outlook=ForecastOutlook(pool, POLICY, ttl=timedelta(hours=1)))
    ids = [r["id"] for r in await pool.fetch("SELECT id FROM tasks ORDER BY random() LIMIT 50")]
    await detail.get(ids[0], now)  # the outlook read once, as a burst of lookups would share it
    details: list[float] = []
    for task_id in ids:
        started = time.perf_counter()
        await detail.get(task_id, now)
        details.append(time.perf_counter() - started)
    out["detail"] = details
    refs = [
        r["external_id"]
        for r in await pool.fetch("SELECT external_id FROM tasks ORDER BY random() LIMIT 50")
    ]
    finder = Tasks(pool)
    by_q: list[float] = []
    for ref in refs:
        started = time.perf_counter()
        await finder.find(TaskFilter(q=ref))
        by_q.append(time.perf_counter() - started)
    out["by_q"] = by_q
    out["by_holder"] = await timed(lambda: finder.find(TaskFilter(holder="agent0042")), 50)
    soon = TaskFilter(due_after=now + timedelta(hours=2), due_before=now + timedelta(hours=3))
    out["by_due"] = await timed(lambda: finder.find(soon), 50)
    return out


async def queued(pool: asyncpg.Pool) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM tasks WHERE status = 'queued'"))


def _ms(values: list[float] | float) -> list[float]:
    assert isinstance(values, list)
    return [v * 1000 for v in values]


def report(tasks: int, runs: int, f: dict[str, list[float] | float]) -> str:
    def p(name: str, q: float) -> str:
        return f"{percentile(_ms(f[name]), q):.0f} ms"

    def m(name: str) -> str:
        return f"{median(_ms(f[name])):.0f} ms"

    lines = [
        "## ETAs, the SLA watch and lookups",
        "",
        f"`.venv/bin/python -m bench.bench_eta --tasks {tasks} --runs {runs}`: {tasks:,} open "
        f"tasks of 12 types due within 15 hours (about 1% in progress), {AGENTS:,} agents "
        f"with 3 skills each on shift, a forecast needing all but {SPARE}: most tasks will "
        "miss their due time, and every one is inside the watch's 24-hour window.",
        "",
        "| measure | result | target |",
        "|---|---|---|",
        f"| SLA watch run, default batch (200 a type and step; median of {3 * runs}): "
        f"{f['watch_examined']:,.0f} ETAs worked out, {f['watch_at_risk']:,.0f} at risk "
        f"| {m('watch')} | < 1 s, every 12 ticks |",
        f"| ... every queued task examined (median of {runs}): "
        f"{f['watch_all_examined']:,.0f} ETAs, {f['watch_all_at_risk']:,.0f} at risk "
        f"| {m('watch_all')} | (what the batch avoids) |",
        f"| lending outlook read (roster, shifts, presence, forecast, guards; median) "
        f"| {m('outlook')} | |",
        f"| task detail with its ETA, outlook cached (p50 / p95 of 50) "
        f"| {p('detail', 50)} / {p('detail', 95)} | p95 < 50 ms |",
        f"| lookup `q=<external_id>` (p50 / p95 of 50) | {p('by_q', 50)} / {p('by_q', 95)} "
        "| p95 < 20 ms |",
        f"| lookup `holder=` (p50 / p95 of 50) | {p('by_holder', 50)} / {p('by_holder', 95)} "
        "| p95 < 20 ms |",
        f"| lookup `due_after` + `due_before`, one hour (p50 / p95 of 50) "
        f"| {p('by_due', 50)} / {p('by_due', 95)} | p95 < 20 ms |",
        f"| baseline: `count(*)` of the queued tasks | {m('baseline')} | |",
        "",
        "The watch runs once a minute by default (every 12 ticks of 5 s), so its cost is a "
        "small share of one core; examining every queued task would cost about ten times as "
        "much, most of it working out every estimate in Python. The lending outlook is read "
        "once a run, and at most once a minute for lookups.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(asyncio.run(main_async(args.tasks, args.runs)))


if __name__ == "__main__":
    main()

"""The back-office plan: 50 task types with 2 years of daily history, and the import of
closed tasks it learns from.

    .venv/bin/python -m bench.bench_plan [--runs 3]

The plan is made end to end by :func:`blending.planning.service.make_plan` on a fresh database
holding 50 types x 730 days of arrivals (about 220,000 tasks), 2,000 open tasks, 40 agents
(10 of them dedicated back-office staff) with 14 days of shifts, and 8 weeks of 15-minute call
statistics for two queues (the lulls). The baseline, in the same run, is the weekly seasonal
naive forecast of the same 50 series alone. The import measures closed tasks with their
history against open tasks, in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time

from bench.common import drop_database, fresh_database, median, server_url
from blending.planning.arrivals import BASELINE, forecast_daily
from blending.planning.service import PlanSettings, history, make_plan
from bot.database import open_pool
from bot.migrate import migrate_url
from queues.catalog import Catalog
from queues.importer import import_tasks
from queues.models import TaskTypeIn

TYPES = 50
DAYS = 730
NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
IMPORT_ROWS = 20_000


async def _center(pool: object) -> None:
    from asyncpg import Pool

    assert isinstance(pool, Pool)
    for i in range(TYPES):
        body = TaskTypeIn(skills=[f"s{i % 5}"], sla_minutes=1440 * (1 + i % 3), handle_minutes=15)
        await Catalog(pool).put(f"type{i:02d}", body)
    first = NOW - timedelta(days=DAYS)
    # Arrivals: a weekly pattern, month-end peaks, a level per type; done an hour later.
    await pool.execute(
        """
        INSERT INTO tasks (source, external_id, type, title, status, due_at, request_hash,
                           created_at, updated_at, created_epoch, sla_seconds)
        SELECT 'bench', t.name || '-' || d || '-' || k, t.name, 'history', 'done',
               day + interval '1 day', 'x', day + interval '9 hours' + k * interval '7 minutes',
               day + interval '10 hours', 0, 86400
        FROM (SELECT name, row_number() OVER (ORDER BY name) AS n FROM task_types) t
        CROSS JOIN generate_series(0, $2 - 1) AS d
        CROSS JOIN LATERAL (SELECT $1::timestamptz + d * interval '1 day' AS day) x
        CROSS JOIN LATERAL generate_series(1, greatest(0, (
            (3 + t.n % 7) * (CASE WHEN extract(isodow FROM day) >= 6 THEN 0.3 ELSE 1 END)
            * (CASE WHEN extract(day FROM day + interval '3 days') <= 3 THEN 1.8 ELSE 1 END)
            + (d * 7919 + t.n * 104729) % 5 - 2)::int)) AS k
        """,
        first,
        DAYS,
    )
    await pool.execute(
        """
        INSERT INTO tasks (source, external_id, type, title, due_at, request_hash,
                           created_epoch, sla_seconds)
        SELECT 'bench', 'open-' || g, 'type' || lpad((g % 50)::text, 2, '0'), 'open',
               $1::timestamptz + (g % 72) * interval '1 hour', 'x', 0, 86400
        FROM generate_series(1, 2000) AS g
        """,
        NOW,
    )
    for a in range(40):
        team = "Back Office" if a < 10 else "Phones"
        queue = None if a < 10 else ("sales" if a % 2 else "care")
        await pool.execute(
            "INSERT INTO agents (agent_id, name, team, queue) VALUES ($1, $1, $2, $3)",
            f"agent{a}",
            team,
            queue,
        )
        await pool.execute(
            "INSERT INTO agent_skills (agent_id, skill, proficiency)"
            " SELECT $1, 's' || s, 3 FROM generate_series(0, 4) AS s WHERE (s + $2) % 2 = 0",
            f"agent{a}",
            a,
        )
        await pool.execute(
            "INSERT INTO agent_schedules (agent_id, kind, starts_at, ends_at)"
            " SELECT $1, 'shift', d + interval '9 hours', d + interval '17 hours'"
            " FROM generate_series($2::timestamptz, $2::timestamptz + interval '13 days',"
            " interval '1 day') AS d",
            f"agent{a}",
            datetime.combine(NOW.date(), clock_time(), UTC),
        )
    await pool.execute(
        """
        INSERT INTO interval_stats (queue, interval_start, minutes, offered, answered, handled,
                                    handle_seconds)
        SELECT q, s, 15, n, n, n, n * 240.0
        FROM unnest(ARRAY['sales', 'care']) AS q
        CROSS JOIN generate_series($1::timestamptz - interval '8 weeks',
                                   $1::timestamptz - interval '15 minutes',
                                   interval '15 minutes') AS s
        CROSS JOIN LATERAL (SELECT CASE WHEN extract(hour FROM s) BETWEEN 9 AND 16
                                        THEN 20 + (extract(epoch FROM s)::bigint / 900) % 7
                                        ELSE 0 END AS n) x
        """,
        NOW,
    )


def _closed_rows(rows: int) -> str:
    out = ["source,external_id,type,title,created_at,completed_at,worked_minutes\n"]
    start = NOW - timedelta(days=365)
    for n in range(rows):
        created = start + timedelta(minutes=26 * n)
        done = created + timedelta(hours=3)
        out.append(
            f"crm,C-{n},type{n % 50:02d},Closed {n},{created.isoformat()},"
            f"{done.isoformat()},{5 + n % 40}\n"
        )
    return "".join(out)


def _open_rows(rows: int) -> str:
    out = ["source,external_id,type,title\n"]
    out.extend(f"crm,O-{n},type{n % 50:02d},Open {n}\n" for n in range(rows))
    return "".join(out)


async def main_async(runs: int) -> str:
    plans: list[float] = []
    forecasts: list[float] = []
    naive: list[float] = []
    closed: list[float] = []
    opened: list[float] = []
    tasks = 0
    with server_url() as url:
        db_url = await fresh_database(url)
        try:
            await migrate_url(db_url)
            async with open_pool(db_url) as pool:
                await _center(pool)
                tasks = int(await pool.fetchval("SELECT count(*) FROM tasks"))
                settings = PlanSettings(days=14)
                first, series = await history(pool, NOW, settings)
                started = time.perf_counter()
                await make_plan(pool, NOW, settings)
                cold = time.perf_counter() - started
                for _ in range(runs):
                    started = time.perf_counter()
                    plan = await make_plan(pool, NOW, settings)
                    plans.append(time.perf_counter() - started)
                    started = time.perf_counter()
                    await asyncio.to_thread(forecast_daily, series, first, 14)
                    forecasts.append(time.perf_counter() - started)
                    started = time.perf_counter()
                    await asyncio.to_thread(forecast_daily, series, first, 14, models=(BASELINE,))
                    naive.append(time.perf_counter() - started)
        finally:
            await drop_database(url, db_url)
        for _ in range(runs):
            db_url = await fresh_database(url)
            try:
                await migrate_url(db_url)
                async with open_pool(db_url) as pool:
                    for i in range(TYPES):
                        body = TaskTypeIn(sla_minutes=1440, handle_minutes=15)
                        await Catalog(pool).put(f"type{i:02d}", body)
                    report = await import_tasks(
                        pool, io.StringIO(_closed_rows(IMPORT_ROWS)), actor="bench", now=NOW
                    )
                    assert not report.errors, report.errors[:3]
                    closed.append(report.rate)
                    report = await import_tasks(
                        pool, io.StringIO(_open_rows(IMPORT_ROWS)), actor="bench"
                    )
                    opened.append(report.rate)
            finally:
                await drop_database(url, db_url)
    lines = [
        "## Back-office plan",
        "",
        f"`.venv/bin/python -m bench.bench_plan --runs {runs}`: {TYPES} task types x {DAYS} "
        f"days of daily history ({tasks:,} tasks), 2,000 open, 40 agents (10 dedicated) with "
        "14 days of shifts, 8 weeks of 15-minute statistics for 2 call queues; a 14-day plan, "
        f"{runs} runs after a first one, medians.",
        "",
        "| measure | seconds |",
        "|---|---|",
        f"| `make_plan`, end to end (read, forecast tasks and calls, lulls, plan) | "
        f"{median(plans):.2f} |",
        f"| first plan in a fresh process (compiling the models) | {cold:.2f} |",
        f"| of which the task arrivals forecast (MSTL + month-end, 50 series) | "
        f"{median(forecasts):.2f} |",
        f"| baseline: the weekly seasonal naive of the same 50 series | {median(naive):.2f} |",
        "",
        f"Target: under 30 s. The plan found {len(plan.misses)} open tasks that will miss "
        "their SLA. Interval (intraday) task forecasts are not part of the plan yet.",
        "",
        f"Import of {IMPORT_ROWS:,} rows into a fresh database, medians of {runs}:",
        "",
        "| `blendbot import tasks` | rows per second |",
        "|---|---|",
        f"| closed tasks with their history (events, segments, handle times) | "
        f"{median(closed):,.0f} |",
        f"| baseline: open tasks | {median(opened):,.0f} |",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(asyncio.run(main_async(args.runs)))


if __name__ == "__main__":
    main()

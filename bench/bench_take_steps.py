"""Where the take+complete cycle's time goes, against the raw loop: what changing one thing buys.

    .venv/bin/python -m bench.bench_take_steps [--tasks 100000] [--runs 3] [--seconds 4]

On the queue of ``bench.bench_queues`` (the embedded server, and ``BLENDBOT_BENCH_SERVER_URL``
too), take+complete cycles and the raw two-statement loop take turns, 32 workers, for each of:

- **as shipped**;
- **the pick as before migration 0041** (``pick_next()`` of migration 0036, which tests every
  entry of a group's index against the SLA, without the bound on ``top_epoch``);
- **six indexes of ``tasks`` dropped** that neither loop reads (due, external id, type and
  status, type and creation, unranked, customer): what the indexes' upkeep costs the cycle;
- **a pick that reads nothing** (``pick_next()`` replaced by the first queued task of the
  agent's first fitting group, ``FOR UPDATE SKIP LOCKED``): the ceiling of any cheaper pick.

Each variant changes the bench's own database only; it is dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os

import asyncpg

from bench.bench_queues import WORKERS, cycles, fill, raw_cycles, requeue_done
from bench.common import ROOT, drop_database, fresh_database, median, servers
from bot.database import open_pool
from bot.migrate import migrate_url

UNREAD = (
    "tasks_by_due",
    "tasks_by_external_id",
    "tasks_by_type",
    "tasks_by_type_created",
    "tasks_unranked",
    "tasks_by_customer",
)

FREE_PICK = """
CREATE OR REPLACE FUNCTION pick_next(p_agent text, p_types text[], p_steps integer[],
                                     p_top_share double precision, p_few integer)
RETURNS TABLE (id bigint, type text, step integer, rule_reasons text[], created_at timestamptz,
               due_at timestamptz, rule_boost integer, base_priority integer)
LANGUAGE sql AS $$
    SELECT t.id, t.type, t.step, t.rule_reasons, t.created_at, t.due_at, t.rule_boost,
           tt.base_priority
    FROM tasks t JOIN task_types tt ON tt.name = t.type
    WHERE t.status = 'queued' AND t.type = p_types[1] AND t.step = p_steps[1]
    ORDER BY t.rule_boost DESC, t.id LIMIT 1
    FOR UPDATE OF t SKIP LOCKED
$$
"""


def _pick_of_0036() -> str:
    text = (ROOT / "migrations" / "0036_cheaper_pick_and_kept_plans.sql").read_text()
    return text[text.index("CREATE OR REPLACE FUNCTION pick_next") : text.index("ALTER FUNCTION")]


async def _turns(pool: asyncpg.Pool, runs: int, seconds: float) -> tuple[float, float]:
    taken: list[float] = []
    raw: list[float] = []
    for _ in range(runs):
        await requeue_done(pool)
        taken.append(await cycles(pool, WORKERS, seconds, take=True))
        await requeue_done(pool)
        raw.append(await raw_cycles(pool, WORKERS, seconds))
    return median(taken), median(raw)


async def measure(label: str, url: str, tasks: int, runs: int, seconds: float) -> list[str]:
    db_url = await fresh_database(url)
    rows = []
    try:
        await migrate_url(db_url)
        async with open_pool(db_url, min_size=4, max_size=40) as pool:
            await fill(pool, tasks, 1000)
            shipped_pick = await pool.fetchval(
                "SELECT pg_get_functiondef('pick_next(text, text[], integer[],"
                " double precision, integer)'::regprocedure)"
            )
            definitions = await pool.fetch(
                "SELECT indexrelid::regclass::text AS name, pg_get_indexdef(indexrelid) AS ddl"
                " FROM pg_index WHERE indexrelid::regclass::text = ANY ($1::text[])",
                list(UNREAD),
            )
            steps = (
                ("as shipped", None),
                ("the pick as before migration 0041", _pick_of_0036()),
                ("six indexes of `tasks` dropped", f"DROP INDEX {', '.join(UNREAD)}"),
                ("a pick that reads nothing", FREE_PICK),
            )
            for name, change in steps:
                if change is not None:
                    # Each step starts from the shipped schema but for its own change.
                    await pool.execute(shipped_pick)
                    for index in definitions:
                        await pool.execute(index["ddl"].replace("INDEX", "INDEX IF NOT EXISTS", 1))
                    await pool.execute(change)
                    await pool.execute("VACUUM ANALYZE tasks")
                taken, raw = await _turns(pool, runs, seconds)
                rows.append(f"| {label} | {name} | {taken:,.0f} | {raw:,.0f} | {taken / raw:.0%} |")
    finally:
        await drop_database(url, db_url)
    return rows


async def main_async(tasks: int, runs: int, seconds: float) -> str:
    lines = [
        "| server | variant | take+complete /s | raw loop /s | share |",
        "|---|---|---|---|---|",
    ]
    with servers() as found:
        for label, url in found:
            lines += await measure(label, url, tasks, runs, seconds)
    lines.append(f"\nLoad average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores.")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=4.0)
    args = parser.parse_args()
    print(asyncio.run(main_async(args.tasks, args.runs, args.seconds)))


if __name__ == "__main__":
    main()

"""Faults with real processes: the tick's leader killed with ``kill -9`` under a mixed load, and
the database unreachable for 20 seconds.

    .venv/bin/python -m bench.bench_faults [--runs 3]

Two ``blendbot serve`` processes share one database; a mixed load (creates, ``/next`` with
claim and complete, feed events) goes to both; the leader is killed two seconds in. Then one
instance reaches the database through a TCP proxy that is cut for 20 s and mended, under the
same load. Reported: requests answered 5xx other than 503, requests left unanswered (those
sent to the killed instance), acknowledged tasks lost, agents holding two tasks, event logs
that do not replay, the takeover time and the recovery time (medians of the runs).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import asyncpg

from bench.common import drop_database, fresh_database, median, server_url
from bot.database import open_pool
from bot.migrate import migrate_url
from queues.catalog import Catalog
from queues.models import AgentIn, TaskTypeIn
from queues.roster import Roster
from tests.support.instances import Load, instances, leader, replay_is_consistent
from tests.support.tcp_proxy import Proxy

AGENTS = [f"a{n}" for n in range(8)]
OUTAGE_SECONDS = 20


async def _center(pool: asyncpg.Pool) -> None:
    await Catalog(pool).put("t", TaskTypeIn(skills=[], sla_minutes=60, handle_minutes=5))
    for agent in AGENTS:
        await Roster(pool).put(agent, AgentIn(name=agent))


async def _wait_for_leader(pool: asyncpg.Pool, name: str | None, within: float = 30) -> float:
    started = time.monotonic()
    while time.monotonic() - started < within:
        held = await leader(pool)
        if (held is not None) if name is None else held == name:
            return time.monotonic() - started
        await asyncio.sleep(0.05)
    return float("inf")


async def _damage(pool: asyncpg.Pool, created: set[str]) -> tuple[int, int, int]:
    stored = {r["external_id"] for r in await pool.fetch("SELECT external_id FROM tasks")}
    doubled = await pool.fetchval(
        "SELECT count(*) FROM (SELECT holder FROM tasks"
        " WHERE status IN ('offered', 'in_progress', 'paused')"
        " GROUP BY holder HAVING count(*) > 1) d"
    )
    return len(created - stored), int(doubled), len(await replay_is_consistent(pool))


async def kill_run(url: str, tmp: Path) -> dict[str, float]:
    db_url = await fresh_database(url)
    try:
        await migrate_url(db_url)
        async with open_pool(db_url, min_size=1, max_size=4) as pool:
            await _center(pool)
            async with instances(db_url, tmp, ["first", "second"]) as (first, second):
                await _wait_for_leader(pool, None)
                doomed, survivor = (
                    (first, second) if await leader(pool) == "first" else (second, first)
                )
                load = Load([first.base, second.base], AGENTS)
                running = asyncio.create_task(load.run(8))
                await asyncio.sleep(2)
                await doomed.kill()
                takeover = await _wait_for_leader(pool, survivor.name)
                await running
            lost, doubled, broken = await _damage(pool, load.created)
    finally:
        await drop_database(url, db_url)
    errors = sum(n for status, n in load.statuses.items() if status >= 500 and status != 503)
    return {
        "requests": sum(load.statuses.values()) + load.failed,
        "errors": errors,
        "unanswered": load.failed,
        "lost": lost,
        "doubled": doubled,
        "broken": broken,
        "takeover": takeover,
    }


async def outage_run(url: str, tmp: Path) -> dict[str, float]:
    db_url = await fresh_database(url)
    front = Proxy(db_url)
    await front.start()
    try:
        await migrate_url(db_url)
        async with open_pool(db_url, min_size=1, max_size=4) as pool:
            await _center(pool)
            async with instances(front.url, tmp, ["only"]) as (only,):
                await _wait_for_leader(pool, "only")
                before = Load([only.base], AGENTS)
                await before.run(2)
                await front.cut()
                during = Load([only.base], AGENTS)
                await during.run(OUTAGE_SECONDS, workers=2)
                await front.mend()
                mended = time.monotonic()
                after = Load([only.base], AGENTS)
                while time.monotonic() - mended < 30:
                    await after.run(0.2, workers=1)
                    if after.created:
                        break
                recovery = time.monotonic() - mended
                await after.run(2)
            created = before.created | after.created
            lost, doubled, broken = await _damage(pool, created)
    finally:
        await front.cut()
        await drop_database(url, db_url)
    answered = sum(during.statuses.values())
    return {
        "during": answered,
        "unavailable": during.statuses.get(503, 0) / max(1, answered),
        "errors": sum(n for s, n in during.statuses.items() if s >= 500 and s != 503),
        "lost": lost,
        "doubled": doubled,
        "broken": broken,
        "recovery": recovery,
    }


async def main_async(runs: int) -> str:
    kills, outages = [], []
    with server_url() as url, tempfile.TemporaryDirectory(prefix="blendbot-faults-") as tmp:
        for n in range(runs):
            kills.append(await kill_run(url, Path(tmp) / f"kill{n}"))
            outages.append(await outage_run(url, Path(tmp) / f"outage{n}"))

    def mid(rows: list[dict[str, float]], key: str) -> float:
        return median([r[key] for r in rows])

    def worst(rows: list[dict[str, float]], key: str) -> float:
        return max(r[key] for r in rows)

    lines = [
        "## Faults: a killed leader, a database outage",
        "",
        f"`.venv/bin/python -m bench.bench_faults --runs {runs}`: two `blendbot serve` "
        "processes on one database under a mixed load (creates, `/next` + claim + complete, "
        "feed events), the leader killed with `kill -9` two seconds in; then one instance "
        f"whose database is unreachable for {OUTAGE_SECONDS} s. Medians of {runs} runs; "
        "lost tasks and broken logs are the worst run.",
        "",
        "| measure | result | target |",
        "|---|---|---|",
        f"| kill: requests sent (median) | {mid(kills, 'requests'):,.0f} | |",
        f"| kill: answered 5xx | {worst(kills, 'errors'):.0f} | 0 |",
        f"| kill: unanswered (sent to the killed instance) | {mid(kills, 'unanswered'):,.0f} | |",
        f"| kill: acknowledged tasks lost | {worst(kills, 'lost'):.0f} | 0 |",
        f"| kill: agents holding two tasks | {worst(kills, 'doubled'):.0f} | 0 |",
        f"| kill: event logs that do not replay | {worst(kills, 'broken'):.0f} | 0 |",
        f"| kill: tick taken over after | {mid(kills, 'takeover'):.1f} s | < 15 s |",
        f"| outage: requests during it, answered 503 | {mid(outages, 'during'):,.0f}, "
        f"{100 * mid(outages, 'unavailable'):.0f}% | all 503 |",
        f"| outage: other 5xx | {worst(outages, 'errors'):.0f} | 0 |",
        f"| outage: acknowledged tasks lost | {worst(outages, 'lost'):.0f} | 0 |",
        f"| outage: event logs that do not replay | {worst(outages, 'broken'):.0f} | 0 |",
        f"| outage: first write accepted after the database is back | "
        f"{mid(outages, 'recovery'):.1f} s | no restart |",
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

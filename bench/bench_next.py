"""Many agents asking for work at once: ``next_for`` latency and refusals under contention.

    .venv/bin/python -m bench.bench_next [--tasks 10000] [--runs 3]

A fresh database is filled as for the queue benchmark (12 task types, agents with 3 of 6
skills, every agent able to do some of the work). Then 30, and 200, agents ask for work at the
same moment, each on its own call and with 60 minutes, in which every type fits (agents whose
skills cover no task type are left out);
between runs the offers are given back, so every run sees
the same queue. A refusal while thousands of fitting tasks wait is spurious: the target is
none. The baseline, measured in the same run, is one agent asking alone.

Then the whole ask (``ask_for_work``: the roster, the switch, recalls, the guard, presence, the
window, the shift and the pick) with the pool busy, as a service's is with feeds and the tick:
asks arrive at random (``ASK_RATE`` a second) while ``BUSY`` other callers keep the pool's
``BUSY_POOL`` connections taken with short statements. The ask as shipped reads on one
connection; the same reads each taken from the pool in turn are measured in turns with it.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import asyncpg

from bench.bench_queues import fill
from bench.common import drop_database, fresh_database, median, percentile, server_url
from bot.database import open_pool
from bot.migrate import migrate_url
from bot.work import _ask, ask_for_work
from queues.dispatch import Dispatcher, DispatchSettings, NoOffer, Offer

AGENTS = 200
POOL_SIZE = 40
ASK_RATE = 40.0
"""Asks a second in the busy-pool part."""
BUSY = 12
"""Other callers of the pool at once in the busy-pool part, each a 4 ms statement after another."""
BUSY_POOL = 8
"""The pool of the busy-pool part: a service's default pool less its two listening connections."""
BUSY_SECONDS = 15.0

Ask = Callable[[str], Awaitable[object]]


async def _give_back(pool: asyncpg.Pool) -> None:
    await pool.execute(
        "UPDATE tasks SET status = 'queued', holder = NULL, offer_expires_at = NULL"
        " WHERE status = 'offered'"
    )


async def able(pool: asyncpg.Pool) -> list[str]:
    """The agents whose skills cover at least one task type (some have none)."""
    rows = await pool.fetch(
        "SELECT a.agent_id FROM agents a WHERE EXISTS (SELECT 1 FROM task_types tt"
        " WHERE tt.skills <@ (SELECT array_agg(skill) FROM agent_skills s"
        " WHERE s.agent_id = a.agent_id)) ORDER BY a.agent_id"
    )
    return [r["agent_id"] for r in rows]


async def at_once(
    pool: asyncpg.Pool, everyone: list[str], agents: int
) -> tuple[list[float], int, int]:
    """Latencies (ms) of ``agents`` asking at once; refusals; distinct tasks offered."""
    dispatcher = Dispatcher(pool, DispatchSettings())
    start = asyncio.Event()

    async def ask(agent: str) -> tuple[float, Offer | NoOffer]:
        await start.wait()
        began = time.perf_counter()
        result = await dispatcher.next_for(agent, 60, datetime.now(UTC))
        return (time.perf_counter() - began) * 1000, result

    calls = [asyncio.create_task(ask(agent)) for agent in everyone[:agents]]
    await asyncio.sleep(0)
    start.set()
    results = await asyncio.gather(*calls)
    await _give_back(pool)
    refusals = sum(isinstance(r, NoOffer) for _, r in results)
    distinct = len({r.task.id for _, r in results if isinstance(r, Offer)})
    return [ms for ms, _ in results], refusals, distinct


async def alone(pool: asyncpg.Pool, runs: int) -> float:
    timings = []
    for n in range(runs):
        began = time.perf_counter()
        await Dispatcher(pool).next_for(f"agent{n:04d}", 60, datetime.now(UTC))
        timings.append((time.perf_counter() - began) * 1000)
        await _give_back(pool)
    return median(timings)


async def busy_pool(pool: asyncpg.Pool, everyone: list[str], ask: Ask) -> list[float]:
    """Latencies (ms) of asks arriving at random while other callers keep the pool busy."""
    stop = time.perf_counter() + BUSY_SECONDS
    latencies: list[float] = []

    async def other() -> None:
        while time.perf_counter() < stop:
            await pool.execute("SELECT pg_sleep(0.004)")

    async def one(agent: str) -> None:
        began = time.perf_counter()
        await ask(agent)
        latencies.append((time.perf_counter() - began) * 1000)

    rng = random.Random(1)
    running = [asyncio.create_task(other()) for _ in range(BUSY)]
    while time.perf_counter() < stop:
        running.append(asyncio.create_task(one(rng.choice(everyone))))
        await asyncio.sleep(rng.expovariate(ASK_RATE))
    await asyncio.gather(*running)
    await _give_back(pool)
    return latencies


async def busy_turns(db_url: str, everyone: list[str], runs: int) -> dict[str, list[float]]:
    """The ask as shipped and statement by statement, in turns, on a pool of ``BUSY_POOL``."""
    policy = DispatchSettings()
    measured: dict[str, list[float]] = {"one connection": [], "statement by statement": []}
    async with open_pool(db_url, min_size=BUSY_POOL, max_size=BUSY_POOL) as pool:

        async def shipped(agent: str) -> object:
            return await ask_for_work(pool, agent, 60, policy, datetime.now(UTC))

        async def each(agent: str) -> object:
            return await _ask(pool, agent, 60, policy, datetime.now(UTC), UTC, False)

        for _ in range(runs):
            measured["one connection"] += await busy_pool(pool, everyone, shipped)
            measured["statement by statement"] += await busy_pool(pool, everyone, each)
    return measured


async def main_async(tasks: int, runs: int) -> str:
    measured: dict[int, tuple[list[float], int, int, int]] = {}
    with server_url() as url:
        db_url = await fresh_database(url)
        try:
            await migrate_url(db_url)
            async with open_pool(db_url, min_size=4, max_size=POOL_SIZE) as pool:
                await fill(pool, tasks, AGENTS * 2)
                everyone = await able(pool)
                await alone(pool, 5)  # warm up
                base = await alone(pool, 20)
                for agents in (30, AGENTS):
                    latencies: list[float] = []
                    refusals = 0
                    distinct = agents
                    for _ in range(runs):
                        ms, refused, offered = await at_once(pool, everyone, agents)
                        latencies += ms
                        refusals += refused
                        distinct = min(distinct, offered)
                    measured[agents] = (latencies, refusals, agents * runs, distinct)
            busy = await busy_turns(db_url, everyone, runs)
        finally:
            await drop_database(url, db_url)
    lines = [
        "## Next task: many agents asking at once",
        "",
        f"`.venv/bin/python -m bench.bench_next --tasks {tasks} --runs {runs}`: {tasks:,} queued "
        f"tasks of 12 types, agents with 3 of 6 skills, a pool of {POOL_SIZE} connections; "
        "every agent asks at the same moment, each on its own call (waiting for a connection "
        "included).",
        "",
        "| agents at once | `next_for` p50 / p99 | refusals (of calls) | distinct tasks offered "
        "(fewest in a run) | target |",
        "|---|---|---|---|---|",
    ]
    for agents, (ms, refusals, calls, distinct) in measured.items():
        lines.append(
            f"| {agents} | {percentile(ms, 50):.0f} ms / {percentile(ms, 99):.0f} ms | "
            f"{refusals} of {calls} ({refusals / calls:.0%}) | {distinct} of {agents} | "
            "no refusals, every agent a task of its own |"
        )
    lines += [f"| baseline: one agent asking alone (median) | {base:.1f} ms | | | |", ""]
    lines += [
        f"The whole ask with the pool busy: {ASK_RATE:.0f} asks a second at random for "
        f"{BUSY_SECONDS:.0f} s, {runs} turns each, while {BUSY} other callers keep a pool of "
        f"{BUSY_POOL} connections busy with 4 ms statements.",
        "",
        "| the ask's reads | asks | p50 | p99 |",
        "|---|---|---|---|",
    ]
    for name, ms in busy.items():
        lines.append(
            f"| {name} | {len(ms):,} | {percentile(ms, 50):.0f} ms | {percentile(ms, 99):.0f} ms |"
        )
    lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(asyncio.run(main_async(args.tasks, args.runs)))


if __name__ == "__main__":
    main()

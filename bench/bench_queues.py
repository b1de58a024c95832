"""The queue's hot paths: a matching round, claim+complete cycles, re-ranking after a rule change.

    .venv/bin/python -m bench.bench_queues [--tasks 100000] [--runs 3]

Measured on the embedded server and, when ``BLENDBOT_BENCH_SERVER_URL`` names one, on a stock
PostgreSQL server too, where the matching round is also timed with the server's own ``jit =
on`` to show why the service turns it off on its connections.

A fresh database is filled with open tasks of a dozen types, a thousand agents with skills,
and completed work for the handle-time estimates. The baseline, measured in the same run, is a
plain ``SELECT count(*)`` over the open tasks: what one pass over the table costs right now.
The claim path's cycles are measured against a raw two-statement ``SKIP LOCKED`` loop on the
same schema, in the same run, on each server, the three loops taking turns: the take (the
dispatcher picks the agent's next task and claims it for them in one call, then the agent
completes it: two transactions, as the raw loop's), and the ask+claim+complete cycle of an
agent who is offered the task first (three).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg

from bench.common import drop_database, fresh_database, median, percentile, servers
from bot.database import SESSION, open_pool
from bot.migrate import migrate_url
from queues.catalog import Catalog
from queues.dispatch import Dispatcher, DispatchSettings, NoOffer
from queues.lifecycle import Lifecycle
from queues.matching import Window
from queues.models import TaskIn, TaskTypeIn
from queues.priority_store import Ranker, RuleIn, RuleStore
from queues.rounds import matching_round
from queues.tasks import Tasks

SKILLS = ["billing", "cards", "mortgage", "accounts", "kyc", "loans"]
TYPES = {f"type_{n}": [SKILLS[n % 6], SKILLS[(n + 1) % 6]][: 1 + n % 2] for n in range(12)}
TIERS = ["gold", "silver", "platinum", None]
WORKERS = 32
CYCLE_SECONDS = 5.0
TARGET_SHARE = 0.6
"""The claim path's cycles against the raw loop's, measured in the same run."""


async def fill(pool: asyncpg.Pool, tasks: int, agents: int) -> None:
    for n, (name, skills) in enumerate(TYPES.items()):
        body = TaskTypeIn(skills=skills, sla_minutes=240 + 60 * n, handle_minutes=5 + n)
        await Catalog(pool).put(name, body)
    rng = random.Random(7)
    await pool.executemany(
        "INSERT INTO agents (agent_id, name) VALUES ($1, $1)",
        [(f"agent{n:04d}",) for n in range(agents)],
    )
    await pool.executemany(
        "INSERT INTO agent_skills (agent_id, skill, proficiency) VALUES ($1, $2, $3)",
        [
            (f"agent{n:04d}", skill, rng.randint(1, 5))
            for n in range(agents)
            for skill in rng.sample(SKILLS, 3)
        ],
    )
    names = list(TYPES)
    for start in range(0, tasks, 5000):
        items = [
            TaskIn(
                source="bench",
                external_id=str(n),
                type=names[n % len(names)],
                title=f"Item {n}",
                customer_tier=TIERS[n % 4],
                value=float(n % 5000),
            )
            for n in range(start, min(tasks, start + 5000))
        ]
        await Tasks(pool).create_many(items, "bench", rows=False)
    await pool.execute(
        "UPDATE tasks SET created_at = now() - (id % 600) * interval '1 minute',"
        " due_at = now() + (id % 900) * interval '1 minute'"
    )
    await pool.execute(
        "UPDATE tasks SET created_epoch = date_part('epoch', created_at),"
        " sla_seconds = date_part('epoch', due_at) - date_part('epoch', created_at)"
    )
    await pool.execute("VACUUM ANALYZE")


async def matching(pool: asyncpg.Pool, agents: int, windows: int, rounds: int) -> list[float]:
    rng = random.Random(11)
    timings = []
    for _ in range(rounds):
        chosen = rng.sample(range(agents), windows)
        round_windows = [Window(f"agent{n:04d}", rng.choice([10, 20, 30, 60])) for n in chosen]
        started = time.perf_counter()
        report = await matching_round(
            pool, round_windows, policy=DispatchSettings(), now=datetime.now(UTC)
        )
        timings.append(time.perf_counter() - started)
        # Give the tasks back, so that every round sees the same queue.
        ids = [t.id for t in report.offers]
        await pool.execute(
            "UPDATE tasks SET status = 'queued', holder = NULL, offer_expires_at = NULL"
            " WHERE id = ANY ($1)",
            ids,
        )
    return timings


async def cycles(pool: asyncpg.Pool, workers: int, seconds: float, *, take: bool) -> float:
    """Claim+complete cycles per second: each worker has the dispatcher pick its next task and
    completes it, as an agent does; with ``take`` the pick claims it for the agent in the same
    call, else it is offered and the agent claims it."""
    dispatcher = Dispatcher(pool, DispatchSettings())
    life = Lifecycle(pool)
    done = 0
    deadline = time.perf_counter() + seconds

    async def work(agent: str) -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            got = await dispatcher.next_for(agent, 60.0, datetime.now(UTC), take=take)
            if isinstance(got, NoOffer):
                raise RuntimeError(f"{agent}: {got.reason}")
            if not take:
                await life.claim(got.task.id, agent)
            await life.complete(got.task.id, agent, "done", None)
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(work(f"agent{n:04d}") for n in range(workers)))
    return done / (time.perf_counter() - started)


RAW_CLAIM = """
UPDATE tasks SET status = 'in_progress', holder = $1, claimed_at = now(), updated_at = now()
WHERE id = (SELECT id FROM tasks WHERE status = 'queued' ORDER BY id LIMIT 1
            FOR UPDATE SKIP LOCKED)
RETURNING id
"""
RAW_COMPLETE = """
UPDATE tasks SET status = 'done', holder = NULL, claimed_at = NULL, updated_at = now()
WHERE id = $1 AND status = 'in_progress' AND holder = $2
"""


async def raw_cycles(pool: asyncpg.Pool, workers: int, seconds: float) -> float:
    """The floor of any claim path on this schema: two statements per cycle, the first picking
    the oldest queued task with ``FOR UPDATE SKIP LOCKED`` and claiming it, the second
    completing it; no event, no check, each statement on its own from the pool."""
    done = 0
    deadline = time.perf_counter() + seconds

    async def work(agent: str) -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            task_id = await pool.fetchval(RAW_CLAIM, agent)
            if task_id is None:
                raise RuntimeError("the queue ran dry")
            await pool.execute(RAW_COMPLETE, task_id, agent)
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(work(f"agent{n:04d}") for n in range(workers)))
    return done / (time.perf_counter() - started)


async def requeue_done(pool: asyncpg.Pool) -> None:
    """Put the tasks the cycles finished back in the queue, so that every run sees the same."""
    await pool.execute(
        "UPDATE tasks SET status = 'queued', holder = NULL, claimed_at = NULL,"
        " offer_expires_at = NULL WHERE status <> 'queued'"
    )
    await pool.execute("VACUUM ANALYZE tasks")


async def rerank(pool: asyncpg.Pool, runs: int) -> list[float]:
    timings = []
    ranker = Ranker(pool)
    await ranker.tick(datetime.now(UTC))
    store = RuleStore(pool)
    for n in range(runs):
        body = RuleIn(when=f'customer_tier == "platinum" && value > {1000 + n}.0', boost=20 + n)
        await store.put("platinum", body, datetime.now(UTC))
        started = time.perf_counter()
        await ranker.tick(datetime.now(UTC))
        timings.append(time.perf_counter() - started)
    return timings


async def baseline(pool: asyncpg.Pool, runs: int) -> float:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        await pool.fetchval("SELECT count(*) FROM tasks WHERE status = 'queued'")
        timings.append(time.perf_counter() - started)
    return median(timings)


@dataclass(frozen=True)
class Figures:
    server: str
    rounds_ms: list[float]
    jit_rounds_ms: list[float] | None
    rate: float
    """Take+complete cycles per second."""
    ask_rate: float
    """Ask+claim+complete cycles per second."""
    raw_rate: float
    rerank: float
    baseline_ms: float


async def measure(
    label: str,
    url: str,
    tasks: int,
    runs: int,
    *,
    seconds: float = CYCLE_SECONDS,
    cycles_only: bool = False,
) -> Figures:
    db_url = await fresh_database(url)
    try:
        await migrate_url(db_url)
        async with open_pool(db_url, min_size=4, max_size=40) as pool:
            await fill(pool, tasks, 1000)
            base = await baseline(pool, 20)
            rounds: list[float] = []
            jit: list[float] | None = None
            ranks: list[float] = [0.0]
            if not cycles_only:
                rounds = await matching(pool, 1000, 200, 10 * runs)
                if label == "stock server":
                    on = {**SESSION, "jit": "on"}
                    async with open_pool(db_url, min_size=4, max_size=8, session=on) as jitted:
                        jit = await matching(jitted, 1000, 200, 10 * runs)
                ranks = await rerank(pool, runs)
            rate: list[float] = []
            ask: list[float] = []
            raw: list[float] = []
            for _ in range(runs):
                await requeue_done(pool)
                rate.append(await cycles(pool, WORKERS, seconds, take=True))
                await requeue_done(pool)
                raw.append(await raw_cycles(pool, WORKERS, seconds))
                await requeue_done(pool)
                ask.append(await cycles(pool, WORKERS, seconds, take=False))
    finally:
        await drop_database(url, db_url)
    return Figures(
        label,
        [x * 1000 for x in rounds],
        None if jit is None else [x * 1000 for x in jit],
        median(rate),
        median(ask),
        median(raw),
        median(ranks),
        base * 1000,
    )


def _p50_p95(ms: list[float]) -> str:
    return f"{percentile(ms, 50):.0f} ms / {percentile(ms, 95):.0f} ms"


def _share(f: Figures) -> str:
    return f"{f.rate / f.raw_rate:.0%}"


def _ask_share(f: Figures) -> str:
    return f"{f.ask_rate / f.raw_rate:.0%}"


async def main_async(
    tasks: int, runs: int, *, seconds: float = CYCLE_SECONDS, cycles_only: bool = False
) -> str:
    with servers() as found:
        figures = [
            await measure(label, url, tasks, runs, seconds=seconds, cycles_only=cycles_only)
            for label, url in found
        ]
    if cycles_only:
        return "\n".join(
            f"{f.server}: take+complete {f.rate:,.0f}/s ({_share(f)}), ask+claim+complete "
            f"{f.ask_rate:,.0f}/s ({_ask_share(f)}), raw {f.raw_rate:,.0f}/s; "
            f"load {os.getloadavg()[0]:.1f}"
            for f in figures
        )
    lines = [
        "## Queues: matching, lifecycle, re-ranking",
        "",
        f"`.venv/bin/python -m bench.bench_queues --tasks {tasks} --runs {runs}`: {tasks:,} "
        "open tasks of 12 types, 1,000 agents with 3 skills each, one database; "
        "`BLENDBOT_BENCH_SERVER_URL` adds a stock PostgreSQL server (`jit = on` by default; "
        "the service's connections set it off).",
        "",
        "| measure | " + " | ".join(f.server for f in figures) + " | target |",
        "|---|" + "---|" * len(figures) + "---|",
        f"| matching round, 200 windows (p50 / p95 of {len(figures[0].rounds_ms)} rounds) | "
        + " | ".join(_p50_p95(f.rounds_ms) for f in figures)
        + " | p95 < 100 ms |",
    ]
    if any(f.jit_rounds_ms for f in figures):
        lines.append(
            "| the same round with the server's `jit = on` (p50 / p95) | "
            + " | ".join(
                _p50_p95(f.jit_rounds_ms) if f.jit_rounds_ms else "(not measured)" for f in figures
            )
            + " | |"
        )
    lines += [
        f"| claim+complete cycles per second, {WORKERS} workers, each taking its next task "
        f"(picked and claimed in one call) and completing it (median of {runs} runs of "
        f"{seconds:g} s) | " + " | ".join(f"{f.rate:,.0f}" for f in figures) + " | ≥ 1,000 |",
        f"| ask+claim+complete cycles per second, {WORKERS} workers, each asking for its next "
        f"task, claiming the offer and completing it (median of {runs}) | "
        + " | ".join(f"{f.ask_rate:,.0f}" for f in figures)
        + " | |",
        f"| raw loop: `UPDATE … WHERE id = (SELECT … FOR UPDATE SKIP LOCKED) RETURNING`, then "
        f"an `UPDATE` completing it, {WORKERS} workers (median of {runs}) | "
        + " | ".join(f"{f.raw_rate:,.0f}" for f in figures)
        + " | |",
        "| take+complete cycles as a share of the raw loop's | "
        + " | ".join(_share(f) for f in figures)
        + f" | ≥ {TARGET_SHARE:.0%} |",
        "| ask+claim+complete cycles as a share of the raw loop's | "
        + " | ".join(_ask_share(f) for f in figures)
        + " | |",
        f"| re-rank after a rule change (median of {runs}) | "
        + " | ".join(f"{f.rerank:.2f} s" for f in figures)
        + " | < 2 s |",
        "| baseline: `count(*)` of the queued tasks | "
        + " | ".join(f"{f.baseline_ms:.0f} ms" for f in figures)
        + " | |",
        "",
        "A take+complete cycle is two transitions, each with its event row: the take (one "
        "round trip: `dispatch_next()` locks the agent, checks what they hold, estimates their "
        "fitting groups, picks with `FOR UPDATE SKIP LOCKED` over `tasks_queued_by_rank` and "
        "claims the task for the agent) and the completion (one, which also ends the segment "
        "and learns the handle time). An ask+claim+complete cycle is three: the pick offers "
        "the task, and the claim (`claim_offer()`) is a transaction of its own. The raw loop "
        "is two round trips that write no event, segment or estimate. The three loops take "
        "turns in each run. Every call from the pool, the raw loop's too, also pays the pool's "
        "reset query when the connection goes back. Load average when the section finished: "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=CYCLE_SECONDS)
    parser.add_argument(
        "--cycles-only", action="store_true", help="just the claim+complete cycles, briefly"
    )
    args = parser.parse_args()
    print(
        asyncio.run(
            main_async(args.tasks, args.runs, seconds=args.seconds, cycles_only=args.cycles_only)
        )
    )


if __name__ == "__main__":
    main()

"""Blending: one decision for a large center, and simulated days per minute.

    .venv/bin/python -m bench.bench_blending [--runs 5] [--days 1]

**One decision** is what the tick does each round: read the center (presence of 1,000 agents
from the feeds, their schedules, 50 queues' stored forecasts and live figures), decide, and
carry the decision out (one matching round over 10,000 open tasks, offers, recalls). Each
queue has 20 agents of its own and needs 14 to 17 of them, so each lull opens a few windows
per queue. *Cold*: nobody is lent yet (every spare agent gets a window at once); the offers
are given back after each run, so every run decides the same center. *Steady*: the round
after, with those offers out, as the tick runs every few seconds. Baseline, in the same run:
the matching round alone on the cold round's windows.

**Simulated days** is ``blendbot simulate`` on the real engine and a real database: one day of
the default center under ``none`` (the database work every policy does: interval statistics,
forecast refreshes, timers) and under ``forecast_guard``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

from bench.bench_queues import fill
from bench.common import drop_database, fresh_database, median, server_url
from blending.policy import policy_for
from blending.switch import BlendingState
from blending.telemetry_store import TelemetryStore
from bot.blending_round import Blender
from bot.cli.simulated_days import prepared_world, run_on_clone
from bot.database import open_pool
from bot.migrate import migrate_url
from bot.settings import Settings
from queues.dispatch import DispatchSettings
from queues.matching import Window
from queues.rounds import matching_round
from simulation.real_engine import EngineSettings
from simulation.world import WorldSpec
from telephony_adapters import generic

QUEUES, PER_QUEUE = 50, 20


async def _center(pool: asyncpg.Pool, now: datetime) -> None:
    await fill(pool, 10_000, QUEUES * PER_QUEUE)
    rng = random.Random(3)
    agents = [f"agent{n:04d}" for n in range(QUEUES * PER_QUEUE)]
    await pool.executemany(
        "UPDATE agents SET queue = $2 WHERE agent_id = $1",
        [(a, f"queue{n // PER_QUEUE:02d}") for n, a in enumerate(agents)],
    )
    states = ["available", "on_call", "available", "after_call_work"]
    events = [
        {
            "type": "agent_state",
            "event_id": f"s{n}",
            "at": (now - timedelta(minutes=10)).isoformat(),
            "agent_id": a,
            "state": states[n % 4],
        }
        for n, a in enumerate(agents)
    ]
    for q in range(QUEUES):
        at = (now - timedelta(minutes=2)).isoformat()
        base = {"at": at, "queue": f"queue{q:02d}", "call_id": f"c{q}"}
        events += [
            {"type": "call_arrived", "event_id": f"a{q}", **base},
            {"type": "call_answered", "event_id": f"b{q}", **base},
        ]
    await TelemetryStore(pool).record("generic", generic.parse(events), now)
    shifts = []
    for n, a in enumerate(agents):
        start = now - timedelta(hours=2, minutes=n % 60)
        shifts.append((a, "shift", start, start + timedelta(hours=8, minutes=30)))
        lunch = start + timedelta(hours=4, minutes=rng.randint(0, 60))
        shifts.append((a, "break", lunch, lunch + timedelta(minutes=30)))
    await pool.executemany(
        "INSERT INTO agent_schedules (agent_id, kind, starts_at, ends_at) VALUES ($1, $2, $3, $4)",
        shifts,
    )
    step = timedelta(minutes=15)
    first = now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0)
    await pool.executemany(
        "INSERT INTO queue_forecasts (queue, interval_start, minutes, mean, lo_80, hi_80, lo_95,"
        " hi_95, aht_seconds, agents, agents_high) VALUES ($1, $2, 15, $3, $3, $3, $3, $3, 180,"
        " $4, $5)",
        [
            (f"queue{q:02d}", first + i * step, 60.0, 14 + (q + i) % 4, 16 + (q + i) % 4)
            for q in range(QUEUES)
            for i in range(16)
        ],
    )
    await pool.execute("VACUUM ANALYZE")


async def _give_back(pool: asyncpg.Pool) -> None:
    await pool.execute(
        "UPDATE tasks SET status = 'queued', holder = NULL, offer_expires_at = NULL"
        " WHERE status = 'offered'"
    )
    await pool.execute("DELETE FROM blending_recalls")


async def decisions(runs: int) -> dict[str, float]:
    with server_url() as url:
        db = await fresh_database(url)
        try:
            await migrate_url(db)
            async with open_pool(db, min_size=2, max_size=10) as pool:
                now = datetime.now(UTC)
                await _center(pool, now)
                blender = Blender(
                    pool, BlendingState(pool), policy_for("forecast_guard"), DispatchSettings()
                )
                timings, steady, windows, matched = [], [], 0, []
                for _ in range(runs + 1):
                    started = time.perf_counter()
                    result = await blender.step(datetime.now(UTC))
                    timings.append(time.perf_counter() - started)
                    assert result is not None
                    windows = len(result.decision.windows)
                    offers = len(result.acted.offers)
                    ws = [Window(w.agent_id, w.minutes) for w in result.decision.windows]
                    started = time.perf_counter()
                    await blender.step(datetime.now(UTC))
                    steady.append(time.perf_counter() - started)
                    await _give_back(pool)
                    started = time.perf_counter()
                    await matching_round(pool, ws, policy=DispatchSettings(), now=datetime.now(UTC))
                    matched.append(time.perf_counter() - started)
                    await _give_back(pool)
        finally:
            await drop_database(url, db)
    return {
        "decision_ms": median(timings[1:]) * 1000,
        "steady_ms": median(steady[1:]) * 1000,
        "worst_ms": max(timings[1:]) * 1000,
        "matching_ms": median(matched[1:]) * 1000,
        "windows": windows,
        "offers": offers,
    }


async def days(runs: int, count: int) -> dict[str, float]:
    settings = Settings(
        database_url=os.environ.get("BLENDBOT_BENCH_DATABASE_URL"),
        data_dir=Path(tempfile.gettempdir()) / "blendbot-bench-sim",
    )
    spec = WorldSpec(days=count)
    base = EngineSettings(policy=policy_for("none"))
    out: dict[str, float] = {}
    async with prepared_world(settings, spec, 1, base) as prepared:
        for name in ("none", "forecast_guard"):
            seconds = []
            for _ in range(runs):
                started = time.perf_counter()
                await run_on_clone(prepared, EngineSettings(policy=policy_for(name)))
                seconds.append(time.perf_counter() - started)
            out[name] = count * 60 / median(seconds)
    return out


def section(quick: bool = False) -> str:
    runs = 3 if quick else 7
    d = asyncio.run(decisions(runs))
    s = asyncio.run(days(1 if quick else 3, 1))
    return "\n".join(
        [
            "## Blending",
            "",
            "`.venv/bin/python -m bench.bench_blending`: one blending decision of the tick "
            f"(snapshot, decision, matching round, offers) for {QUEUES} queues and "
            f"{QUEUES * PER_QUEUE:,} agents over 10,000 open tasks; then simulated days of the "
            "default center on the real engine.",
            "",
            "| measure | result | target |",
            "|---|---|---|",
            f"| one blending decision, cold, median of {runs} | {d['decision_ms']:.0f} ms (worst "
            f"{d['worst_ms']:.0f} ms; {d['windows']:.0f} windows, {d['offers']:.0f} offers) "
            f"| < 200 ms |",
            f"| one blending decision, steady | {d['steady_ms']:.0f} ms | < 200 ms |",
            f"| baseline: the matching round alone on the same windows | "
            f"{d['matching_ms']:.0f} ms | |",
            f"| simulated days per minute, `none` | {s['none']:.1f} | |",
            f"| simulated days per minute, `forecast_guard` | {s['forecast_guard']:.1f} | |",
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--days", type=int, default=1)
    args = parser.parse_args()
    print(asyncio.run(decisions(args.runs)))
    print(asyncio.run(days(3, args.days)))


if __name__ == "__main__":
    main()

"""A large center on one machine: two ``blendbot serve`` instances on one database, a day's
telephony feed replayed faster than real time, and agents asking for work.

    .venv/bin/python -m bench.bench_large [--agents 10000] [--queues 500] [--tasks 1000000]
        [--minutes 15] [--speed 3] [--tick 5]

The database is filled as the queue benchmark's is (12 task types, agents with 3 of 6 skills,
open tasks created in batches of 5,000 by ``Tasks.create_many``). Two instances are started on
it with the service's own tick period. For ``minutes`` of wall-clock time, all at once:

* the feed (:mod:`bench.large_feed`): a slice of a day, from its busiest hour, ``speed``
  times real time, posted every 100 ms to the instances in turn (``/feeds/generic/events``);
* the agents: open-loop arrivals of ``POST /api/v1/agents/{id}/next`` (every agent asks once
  every ``ASK_EVERY`` seconds of the day's time, so ``agents * speed / ASK_EVERY`` a second),
  then claim and complete of what was offered, on either instance;
* the lag probe: once a second a call to queue ``lag-probe`` posted to one instance, and the
  other's ``GET /api/v1/queues/lag-probe/intervals`` asked until it counts it;
* the samples: each instance's ``/metrics`` every second (the elected one's
  ``blendbot_tick_last_round_seconds`` each time its round count moves) and its resident
  memory (psutil) every ``RSS_EVERY`` seconds.

Reported: p50/p99 of ``/next`` (as the client sees it), the feed's lag, the tick's rounds (the
first leader's first round, which ranks every open task filled, apart), database size per
million tasks, and each instance's memory at start, end, highest, with its slope.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import itertools
import os
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import psutil  # type: ignore[import-untyped]
from prometheus_client.parser import text_string_to_metric_families

from bench.bench_queues import fill
from bench.common import drop_database, fresh_database, percentile, server_url
from bench.large_feed import FeedShape, generate, slice_rate, stamped
from bot.database import open_pool
from bot.migrate import migrate_url
from tests.conftest import TOKEN as API_TOKEN
from tests.support.instances import instances

ASK_EVERY = 1800.0
"""Seconds of the day's time between one agent's asks for work."""
RSS_EVERY = 5.0
FEED_EVERY = 0.1
PER_INSTANCE = 48
"""Connections the client opens to one instance: below the service's limit per client
(``BLENDBOT_MAX_CONNECTIONS_PER_CLIENT``, 64), which one client address would otherwise meet
and be refused beyond; further requests wait for a connection, and that wait counts."""
MAX_IN_FLIGHT = 200
NEXT_TARGET_MS = 100.0
LAG_TARGET_MS = 1000.0


@dataclass
class Shape:
    agents: int
    queues: int
    tasks: int
    minutes: float
    speed: float = 3.0
    tick_seconds: float = 5.0

    @property
    def feed(self) -> FeedShape:
        return FeedShape(self.agents, self.queues, self.minutes, self.speed)


@dataclass(frozen=True)
class Served:
    """An instance being driven: its name, address and process (for its memory)."""

    name: str
    base: str
    pid: int


@dataclass
class Figures:
    next_ms: list[float] = field(default_factory=list)
    offers: int = 0
    completed: int = 0
    refusals: dict[str, int] = field(default_factory=dict)
    """``/next`` answered without an offer, by the reason's first words."""
    shed: int = 0
    failed: int = 0
    """Requests that got no answer (a connection refused or reset, or a minute passed)."""
    """``/next`` arrivals not sent: ``MAX_IN_FLIGHT`` requests already waiting."""
    statuses: dict[int, int] = field(default_factory=dict)
    sent_events: int = 0
    accepted_events: int = 0
    rejected_events: int = 0
    feed_ms: list[float] = field(default_factory=list)
    lag_ms: list[float] = field(default_factory=list)
    ticks: list[float] = field(default_factory=list)
    """Seconds of each tick round seen, in order (the first is a new leader's)."""
    tick_rounds: int = 0
    rss: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    """Per instance: (seconds into the run, MiB)."""
    sizes: dict[str, dict[str, float]] = field(default_factory=dict)
    """``filled`` and ``end``: database, tasks and task events (MiB)."""
    fill_seconds: float = 0.0
    seconds: float = 0.0


def _count(figures: Figures, status: int) -> None:
    figures.statuses[status] = figures.statuses.get(status, 0) + 1


async def _post(
    http: aiohttp.ClientSession, url: str, body: Any, figures: Figures
) -> tuple[int, Any]:
    try:
        async with http.post(url, json=body) as response:
            _count(figures, response.status)
            json = response.content_type == "application/json"
            return response.status, await response.json() if json else None
    except (aiohttp.ClientError, TimeoutError):
        figures.failed += 1
        return 0, None


async def _feed(
    http: aiohttp.ClientSession, bases: list[str], shape: Shape, figures: Figures, began: float
) -> None:
    due = generate(shape.feed)
    offsets = [d.offset for d in due]
    turn = itertools.cycle(bases)
    sent = 0
    while sent < len(due):
        now = time.monotonic() - began
        end = bisect.bisect_right(offsets, now, lo=sent, hi=min(len(due), sent + 10_000))
        batch = due[sent:end]
        if batch:
            sent += len(batch)
            started = time.perf_counter()
            status, result = await _post(
                http,
                f"{next(turn)}/feeds/generic/events",
                stamped(batch, datetime.now(UTC)),
                figures,
            )
            figures.feed_ms.append(1000 * (time.perf_counter() - started))
            figures.sent_events += len(batch)
            if status == 200 and result:
                figures.accepted_events += result["accepted"]
                figures.rejected_events += len(result["rejected"])
        await asyncio.sleep(FEED_EVERY)


async def _lag(
    http: aiohttp.ClientSession, bases: list[str], figures: Figures, until: float
) -> None:
    day = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    window = {"from": day.isoformat(), "to": (day + timedelta(days=2)).isoformat()}
    for n in itertools.count(1):
        if time.monotonic() >= until:
            return
        to, asked = bases[n % len(bases)], bases[(n + 1) % len(bases)]
        event = {
            "type": "call_arrived",
            "event_id": f"lag-{n}",
            "at": datetime.now(UTC).isoformat(),
            "queue": "lag-probe",
            "call_id": f"lag-{n}",
        }
        started = time.perf_counter()
        await _post(http, f"{to}/feeds/generic/events", [event], figures)
        while time.perf_counter() - started < 30:
            url = f"{asked}/api/v1/queues/lag-probe/intervals"
            try:
                async with http.get(url, params=window) as response:
                    items = (await response.json())["items"] if response.status == 200 else []
            except (aiohttp.ClientError, TimeoutError):
                figures.failed += 1
                items = []
            if sum(i["offered"] for i in items) >= n:
                figures.lag_ms.append(1000 * (time.perf_counter() - started))
                break
        await asyncio.sleep(1.0)


async def _agents(
    http: aiohttp.ClientSession, bases: list[str], shape: Shape, figures: Figures, until: float
) -> None:
    rng = random.Random(4)
    rate = shape.agents * shape.speed / ASK_EVERY
    busy: set[str] = set()
    running: set[asyncio.Task[None]] = set()

    async def work(agent: str, base: str) -> None:
        try:
            started = time.perf_counter()
            status, body = await _post(
                http, f"{base}/api/v1/agents/{agent}/next", {"minutes": 30}, figures
            )
            figures.next_ms.append(1000 * (time.perf_counter() - started))
            offer = (body or {}).get("offer") if status == 200 else None
            if not offer:
                why = str((body or {}).get("reason") or status)
                why = why.split(":")[0].split("(")[0].strip()
                figures.refusals[why] = figures.refusals.get(why, 0) + 1
                return
            figures.offers += 1
            path = f"{base}/api/v1/tasks/{offer['task_id']}"
            if offer["status"] == "offered":
                await _post(http, f"{path}/claim", {"agent_id": agent}, figures)
            status, _ = await _post(
                http, f"{path}/complete", {"agent_id": agent, "outcome": "done"}, figures
            )
            figures.completed += status == 200
        finally:
            busy.discard(agent)

    while time.monotonic() < until:
        await asyncio.sleep(rng.expovariate(rate))
        agent = f"agent{rng.randrange(shape.agents):04d}"
        if len(running) >= MAX_IN_FLIGHT or agent in busy:
            figures.shed += 1
            continue
        busy.add(agent)
        job = asyncio.create_task(work(agent, rng.choice(bases)))
        running.add(job)
        job.add_done_callback(running.discard)
    await asyncio.gather(*running, return_exceptions=True)


def _metric(text: str, name: str) -> float | None:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                return float(sample.value)
    return None


async def _watch(
    http: aiohttp.ClientSession, running: list[Served], figures: Figures, until: float
) -> None:
    """Tick rounds from the metrics every second; memory every ``RSS_EVERY`` seconds."""
    began = time.monotonic()
    seen = dict.fromkeys((i.name for i in running), 0.0)
    procs = {i.name: psutil.Process(i.pid) for i in running}
    last_rss = -RSS_EVERY
    while time.monotonic() < until:
        for instance in running:
            try:
                async with http.get(f"{instance.base}/metrics") as response:
                    text = await response.text()
            except (aiohttp.ClientError, TimeoutError):
                figures.failed += 1
                continue
            rounds = _metric(text, "blendbot_tick_round_seconds_count") or 0.0
            if rounds > seen[instance.name]:
                figures.tick_rounds += int(rounds - seen[instance.name])
                seen[instance.name] = rounds
                last = _metric(text, "blendbot_tick_last_round_seconds")
                if last is not None:
                    figures.ticks.append(last)
        at = time.monotonic() - began
        if at - last_rss >= RSS_EVERY:
            last_rss = at
            for name, proc in procs.items():
                mib = proc.memory_info().rss / 2**20
                figures.rss.setdefault(name, []).append((at, mib))
        await asyncio.sleep(1.0)


async def sizes(pool: asyncpg.Pool) -> dict[str, float]:
    row = await pool.fetchrow(
        "SELECT pg_database_size(current_database()) AS database,"
        " pg_total_relation_size('tasks') AS tasks,"
        " (SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c"
        "   WHERE c.relname LIKE 'task_events%' AND c.relkind = 'r') AS task_events"
    )
    assert row is not None
    return {key: float(value) / 2**20 for key, value in row.items()}


async def run_center(db_url: str, tmp: Path, shape: Shape) -> Figures:
    """Fill the migrated database at ``db_url``, start two instances, drive them."""
    figures = Figures()
    async with open_pool(db_url, min_size=1, max_size=4) as pool:
        started = time.monotonic()
        await fill(pool, shape.tasks, shape.agents)
        figures.fill_seconds = time.monotonic() - started
        figures.sizes["filled"] = await sizes(pool)
        env = {"BLENDBOT_TICK_SECONDS": str(shape.tick_seconds)}
        async with instances(db_url, tmp, ["first", "second"], **env) as running:
            served = [Served(i.name, i.base, i.process.pid) for i in running]
            await drive(served, shape, figures)
        figures.sizes["end"] = await sizes(pool)
    return figures


async def drive(running: list[Served], shape: Shape, figures: Figures) -> None:
    """The feed, the agents, the lag probe and the samples, at once, for ``shape.minutes``;
    the agents on connections of their own, so that their queue does not hold up the feed."""
    bases = [i.base for i in running]
    headers = {"Authorization": f"Bearer {API_TOKEN}"}
    timeout = aiohttp.ClientTimeout(total=60)
    async with (
        aiohttp.ClientSession(
            headers=headers,
            connector=aiohttp.TCPConnector(limit_per_host=PER_INSTANCE),
            timeout=timeout,
        ) as agents,
        aiohttp.ClientSession(headers=headers, timeout=timeout) as feeds,
    ):
        began = time.monotonic()
        until = began + shape.minutes * 60
        jobs: list[Awaitable[None]] = [
            _feed(feeds, bases, shape, figures, began),
            _lag(feeds, bases, figures, until),
            _agents(agents, bases, shape, figures, until),
            _watch(feeds, running, figures, until),
        ]
        await asyncio.gather(*jobs)
        figures.seconds = time.monotonic() - began


def slope(points: list[tuple[float, float]]) -> float:
    """MiB per hour, least squares over the samples (0 with fewer than two)."""
    if len(points) < 2 or len({x for x, _ in points}) < 2:
        return 0.0
    xs, ys = zip(*points, strict=True)
    return statistics.linear_regression(xs, ys).slope * 3600


def _p(values: list[float], q: float) -> str:
    return f"{percentile(values, q):,.0f}" if values else "none"


def table(shape: Shape, figures: Figures, label: str) -> list[str]:
    start, mean_rate, peak_rate = slice_rate(shape.feed)
    steady = figures.ticks[1:] or figures.ticks
    over = sum(t > shape.tick_seconds for t in steady)
    per_million = 1_000_000 / max(1, shape.tasks)
    size = figures.sizes["end"]
    filled = figures.sizes["filled"]
    eps = figures.sent_events / max(1.0, figures.seconds)
    day_events = figures.sent_events / max(1e-9, shape.minutes * shape.speed / (24 * 60))
    lines = [
        f"Run on the {label}: the slice starts at {start // 60:02d}:{start % 60:02d}, "
        f"{shape.minutes * shape.speed:.0f} minutes of the day in {shape.minutes:g} minutes; "
        f"{shape.feed.day_calls:,.0f} calls a day ({shape.feed.calls_per_agent:g} per agent), "
        f"{mean_rate:.1f} calls/s in the slice at real time (busiest minute {peak_rate:.1f}), "
        f"{eps:,.0f} feed events/s sent ({figures.sent_events:,} events; a whole day of this "
        f"slice's rate would be {day_events:,.0f}). Filling took {figures.fill_seconds:.0f} s.",
        "",
        "| measure | result | target |",
        "|---|---|---|",
        f"| `/next` p50 / p99 ({len(figures.next_ms):,} asks, {figures.offers:,} offers, "
        f"{figures.completed:,} completed; {figures.shed:,} not sent) | "
        f"{_p(figures.next_ms, 50)} ms / {_p(figures.next_ms, 99)} ms | p99 < "
        f"{NEXT_TARGET_MS:.0f} ms |",
        f"| feed lag p50 / p99, posted to one instance until the other's intervals count it "
        f"({len(figures.lag_ms)} probes) | {_p(figures.lag_ms, 50)} ms / "
        f"{_p(figures.lag_ms, 99)} ms | p99 < {LAG_TARGET_MS:.0f} ms |",
        f"| feed requests p50 / p99 ({len(figures.feed_ms):,} posts; "
        f"{figures.rejected_events} events rejected) | {_p(figures.feed_ms, 50)} ms / "
        f"{_p(figures.feed_ms, 99)} ms | |",
        f"| tick round p50 / p99 / max ({len(steady)} rounds seen after the first, "
        f"{over} over the period) | {_p([1000 * t for t in steady], 50)} ms / "
        f"{_p([1000 * t for t in steady], 99)} ms / "
        f"{_p([1000 * t for t in steady], 100)} ms | < {shape.tick_seconds:g} s |",
        "| the first leader's first round (ranks every open task filled) | "
        f"{figures.ticks[0]:.1f} s |  |"
        if figures.ticks
        else "| the first leader's first round | not seen | |",
        f"| database size per million tasks, filled / at the end | "
        f"{filled['database'] * per_million:,.0f} MiB / {size['database'] * per_million:,.0f} MiB"
        " | |",
        f"| of which `tasks` (with its indexes) / task events, at the end, per million tasks | "
        f"{size['tasks'] * per_million:,.0f} MiB / {size['task_events'] * per_million:,.0f} MiB"
        " | |",
    ]
    for name, points in figures.rss.items():
        values = [v for _, v in points]
        lines.append(
            f"| instance `{name}` memory: start / end / highest, slope | {values[0]:.0f} / "
            f"{values[-1]:.0f} / {max(values):.0f} MiB, {slope(points):+.0f} MiB/h | flat |"
        )
    errors = sum(n for status, n in figures.statuses.items() if status >= 500)
    lines.append(f"| answers 5xx; requests unanswered | {errors}; {figures.failed} | 0; 0 |")
    common = sorted(figures.refusals.items(), key=lambda kv: -kv[1])[:4]
    if common:
        lines += ["", "`/next` without an offer: " + "; ".join(f"{n:,}: {w}" for w, n in common)]
    return lines


async def main_async(shape: Shape) -> str:
    with server_url() as url, tempfile.TemporaryDirectory(prefix="blendbot-large-") as tmp:
        db_url = await fresh_database(url)
        try:
            await migrate_url(db_url)
            figures = await run_center(db_url, Path(tmp), shape)
        finally:
            await drop_database(url, db_url)
    label = (
        "server named by `BLENDBOT_BENCH_DATABASE_URL`"
        if os.environ.get("BLENDBOT_BENCH_DATABASE_URL")
        else "embedded server"
    )
    lines = [
        "## A large center: two instances, a day's feed faster than real time",
        "",
        f"`.venv/bin/python -m bench.bench_large --agents {shape.agents} --queues "
        f"{shape.queues} --tasks {shape.tasks} --minutes {shape.minutes:g} --speed "
        f"{shape.speed:g} --tick {shape.tick_seconds:g}`: {shape.agents:,} agents, "
        f"{shape.queues} queues, {shape.tasks:,} open tasks, two `blendbot serve` processes on "
        f"one database (tick every {shape.tick_seconds:g} s), the feed of a slice of the shipped "
        f"center's Monday scaled to this center, {shape.speed:g} times real time, and agents "
        f"asking for work (each once per {ASK_EVERY / 60:.0f} minutes of the day's time: "
        f"{shape.agents * shape.speed / ASK_EVERY:.1f} asks a second) with claim and complete, "
        "at once on both instances. One run: the machine cannot hold a whole day at this "
        "speed (8 hours); the slice is the day's busiest.",
        "",
        *table(shape, figures, label),
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agents", type=int, default=10_000)
    parser.add_argument("--queues", type=int, default=500)
    parser.add_argument("--tasks", type=int, default=1_000_000)
    parser.add_argument("--minutes", type=float, default=15, help="wall-clock minutes of load")
    parser.add_argument("--speed", type=float, default=3.0, help="times real time")
    parser.add_argument("--tick", type=float, default=5.0, help="BLENDBOT_TICK_SECONDS")
    args = parser.parse_args()
    shape = Shape(args.agents, args.queues, args.tasks, args.minutes, args.speed, args.tick)
    print(asyncio.run(main_async(shape)))


if __name__ == "__main__":
    main()

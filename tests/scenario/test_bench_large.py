"""The large-center load test at a tiny scale, so that its pieces keep working: the generated
feed is what the generic feed accepts, and a few seconds' drive of two apps on one database
(in this process, one of them running the tick, as the benchmark's two ``serve`` processes do)
yields every figure the benchmark reports."""

from __future__ import annotations

import asyncio
import contextlib
import os
from datetime import UTC, datetime

import asyncpg
import pytest
from aiohttp.test_utils import TestServer

from bench.bench_large import Figures, Served, Shape, drive, sizes, slope, table
from bench.bench_queues import fill
from bench.large_feed import FeedShape, generate, slice_rate, stamped
from bot import root
from telephony_adapters.generic import parse
from tests.conftest import TOKEN

pytestmark = pytest.mark.once


def test_the_generated_feed_is_accepted_whole_and_follows_the_days_shape() -> None:
    shape = FeedShape(agents=200, queues=10, minutes=2, speed=30)
    due = generate(shape)
    parsed = parse(stamped(due, datetime.now(UTC)))
    assert parsed.rejected == []
    assert len(parsed.events) == len(due)
    assert [d.offset for d in due] == sorted(d.offset for d in due)
    assert all(0 <= d.offset < 120 for d in due)
    arrived = sum(d.event["type"] == "call_arrived" for d in due)
    _, mean_rate, _ = slice_rate(shape)
    expected = mean_rate * 60 * shape.minutes * shape.speed
    assert 0.8 * expected < arrived < 1.2 * expected
    queues = {d.event["queue"] for d in due if d.event["type"] == "call_arrived"}
    assert queues <= {f"queue{n:03d}" for n in range(10)}


def test_the_slope_of_memory_samples_is_per_hour() -> None:
    assert slope([(0.0, 100.0), (1800.0, 110.0), (3600.0, 120.0)]) == 20.0
    assert slope([(0.0, 100.0)]) == 0.0


async def test_a_tiny_center_yields_every_figure(db_url: str, pool: asyncpg.Pool) -> None:
    shape = Shape(agents=30, queues=3, tasks=300, minutes=0.1, speed=180, tick_seconds=0.2)
    await fill(pool, shape.tasks, shape.agents)
    apps = [root.http_app(pool, root.Parts(), tokens=[TOKEN]) for _ in range(2)]
    tick = root.tick(db_url, pool, root.Parts(), apps[0])

    async def ticking() -> None:
        while True:
            await tick.step()
            await asyncio.sleep(shape.tick_seconds)

    figures = Figures(sizes={"filled": await sizes(pool)})
    async with contextlib.AsyncExitStack() as stack:
        servers = [await stack.enter_async_context(TestServer(app.web)) for app in apps]
        running = asyncio.create_task(ticking())
        try:
            served = [
                Served(name, str(server.make_url("")).rstrip("/"), os.getpid())
                for name, server in zip(("first", "second"), servers, strict=True)
            ]
            await drive(served, shape, figures)
        finally:
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)
            await tick._drop()
    figures.sizes["end"] = await sizes(pool)

    assert figures.next_ms
    assert figures.lag_ms
    assert figures.ticks
    assert figures.sent_events > 0
    assert figures.accepted_events == figures.sent_events
    assert figures.rejected_events == 0
    assert set(figures.rss) == {"first", "second"}
    assert figures.sizes["end"]["task_events"] > 0
    assert not [s for s in figures.statuses if s >= 500]
    text = "\n".join(table(shape, figures, "test server"))
    assert "| `/next` p50 / p99" in text
    assert "none" not in text

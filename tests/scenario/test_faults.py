"""Faults as a center meets them, with real processes: the leader killed with ``kill -9``
under load, and the database gone for 20 seconds. Nothing acknowledged is lost, nobody holds a
task twice, the event log replays, the tick is taken over, and all comes back by itself."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiohttp
import asyncpg
import pytest

from queues.catalog import Catalog
from queues.models import AgentIn, TaskTypeIn
from queues.roster import Roster
from tests.conftest import AUTH
from tests.support.instances import Load, free_port, instances, leader, replay_is_consistent
from tests.support.tcp_proxy import Proxy

pytestmark = pytest.mark.once

AGENTS = [f"a{n}" for n in range(8)]
TAKEOVER_SECONDS = 15
OUTAGE_SECONDS = 20


async def _center(pool: asyncpg.Pool) -> None:
    await Catalog(pool).put("t", TaskTypeIn(skills=[], sla_minutes=60, handle_minutes=5))
    for agent in AGENTS:
        await Roster(pool).put(agent, AgentIn(name=agent))


async def _until(check: object, within: float) -> float:
    """Seconds until ``await check()`` is true; fails after ``within``."""
    started = time.monotonic()
    while time.monotonic() - started < within:
        if await check():  # type: ignore[operator]
            return time.monotonic() - started
        await asyncio.sleep(0.1)
    raise AssertionError(f"not within {within} s")


async def _sound(pool: asyncpg.Pool, load: Load) -> None:
    stored = {r["external_id"] for r in await pool.fetch("SELECT external_id FROM tasks")}
    assert load.created, "the load created tasks"
    assert load.created <= stored, f"lost: {sorted(load.created - stored)[:5]}"
    over = await pool.fetch(
        "SELECT holder FROM tasks WHERE status IN ('offered', 'in_progress', 'paused')"
        " GROUP BY holder HAVING count(*) > 1"
    )
    assert over == [], "an agent holds two pieces of work"
    assert await replay_is_consistent(pool) == []
    assert 500 not in load.statuses, load.statuses


async def test_the_leader_killed_under_load_loses_nothing(
    db_url: str, pool: asyncpg.Pool, tmp_path: Path
) -> None:
    await _center(pool)
    async with instances(db_url, tmp_path, ["first", "second"]) as (first, second):
        await _until(lambda: _has_leader(pool), 15)
        doomed, survivor = (first, second) if await leader(pool) == "first" else (second, first)
        load = Load([first.base, second.base], AGENTS)
        running = asyncio.create_task(load.run(6))
        await asyncio.sleep(2)
        await doomed.kill()
        killed_at = time.monotonic()
        await _until(lambda: _led_by(pool, survivor.name), TAKEOVER_SECONDS)
        takeover = time.monotonic() - killed_at
        await running
        print(f"takeover {takeover:.1f} s; load {load.statuses}; unanswered {load.failed}")
        assert takeover < TAKEOVER_SECONDS
        assert load.offered, "agents were given work under the load"
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"{survivor.base}/healthz") as response,
        ):
            assert response.status == 200
        await _sound(pool, load)


async def test_the_database_gone_for_20_seconds_comes_back_without_a_restart(
    db_url: str, pool: asyncpg.Pool, tmp_path: Path
) -> None:
    await _center(pool)
    front = Proxy(db_url)
    await front.start()
    try:
        async with instances(front.url, tmp_path, ["only"]) as (only,):
            await _until(lambda: _led_by(pool, "only"), 15)
            load = Load([only.base], AGENTS)
            await load.run(1.5)
            await front.cut()
            cut_at = time.monotonic()
            during = Load([only.base], AGENTS)
            await during.run(OUTAGE_SECONDS - 1, workers=2)
            assert set(during.statuses) <= {503}, during.statuses
            assert during.statuses.get(503, 0) > 0
            async with (
                aiohttp.ClientSession() as http,
                http.post(
                    f"{only.base}/api/v1/tasks",
                    json={"source": "load", "external_id": "x", "type": "t", "title": "x"},
                    headers=AUTH,
                ) as response,
            ):
                assert response.status == 503
                assert response.headers["Retry-After"] == "5"
            await asyncio.sleep(max(0, OUTAGE_SECONDS - (time.monotonic() - cut_at)))
            await front.mend()
            mended_at = time.monotonic()
            await _until(lambda: _creates(only.base), 15)
            recovery = time.monotonic() - mended_at
            await _until(lambda: _led_by(pool, "only"), 15)
            after = Load([only.base], AGENTS)
            await after.run(1.5)
            print(f"recovery {recovery:.1f} s; during the outage {during.statuses}")
            assert recovery < 10
            assert 503 not in after.statuses
            load.created |= after.created
            await _sound(pool, load)
    finally:
        await front.cut()


async def _has_leader(pool: asyncpg.Pool) -> bool:
    return await leader(pool) is not None


async def _led_by(pool: asyncpg.Pool, name: str) -> bool:
    return await leader(pool) == name


async def _creates(base: str) -> bool:
    body = {"source": "probe", "external_id": f"p-{free_port()}", "type": "t", "title": "p"}
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{base}/api/v1/tasks", json=body, headers=AUTH) as response,
    ):
        return response.status == 201

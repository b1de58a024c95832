"""Three ``blendbot serve`` processes on one database, as ``compose.yaml`` runs them: every
instance answers, one elected instance runs the tick, and a rolling restart (SIGTERM, one
instance at a time) lets the requests it is serving finish before it exits."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import asyncpg
import pytest

from queues.catalog import Catalog
from queues.models import TaskTypeIn
from tests.conftest import AUTH
from tests.support.instances import instances, leader

pytestmark = pytest.mark.once

NAMES = ["first", "second", "third"]


async def _led(pool: asyncpg.Pool, among: list[str], within: float = 15) -> str:
    """The instance running the tick, once one of ``among`` does."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        name = await leader(pool)
        if name in among:
            assert name is not None
            return name
        await asyncio.sleep(0.1)
    raise AssertionError(f"none of {among} runs the tick within {within} s")


async def _slow_body() -> AsyncIterator[bytes]:
    yield b'{"source": "drain", "external_id": "slow-1", '
    await asyncio.sleep(1.5)
    yield b'"type": "t", "title": "sent while its instance stops"}'


async def test_three_instances_elect_one_tick_and_restart_one_at_a_time(
    db_url: str, pool: asyncpg.Pool, tmp_path: Path
) -> None:
    await Catalog(pool).put("t", TaskTypeIn(skills=[], sla_minutes=60, handle_minutes=5))
    async with instances(db_url, tmp_path, NAMES) as running, aiohttp.ClientSession() as http:
        elected = await _led(pool, NAMES)
        for instance in running:
            async with http.get(f"{instance.base}/healthz") as response:
                assert response.status == 200, await response.text()
        locks = await pool.fetchval(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
        )
        assert locks == 1

        stopping = next(i for i in running if i.name == elected)
        request = asyncio.create_task(
            http.post(f"{stopping.base}/api/v1/tasks", data=_slow_body(), headers=AUTH)
        )
        await asyncio.sleep(0.5)  # the request's head is in, its body still coming
        await stopping.stop()
        assert stopping.process.returncode == 0
        async with await request as response:
            assert response.status == 201, await response.text()
        assert await pool.fetchval("SELECT count(*) FROM tasks WHERE external_id = 'slow-1'") == 1

        others = [i for i in running if i is not stopping]
        await _led(pool, [i.name for i in others])
        for instance in others:
            async with http.get(f"{instance.base}/api/v1/tasks?limit=1", headers=AUTH) as answer:
                assert answer.status == 200

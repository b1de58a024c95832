"""A database outage as clients see it: 503 with Retry-After at once, one log line per
outage, /healthz saying what is down, and everything back by itself, with nothing lost."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot import root
from bot.database import open_pool
from tests.conftest import AUTH, TOKEN
from tests.support.factories import put_type, task
from tests.support.tcp_proxy import Proxy

Client = TestClient[Any, Any]


@pytest.fixture
async def proxy(db_url: str) -> AsyncIterator[Proxy]:
    front = Proxy(db_url)
    await front.start()
    yield front
    await front.cut()


@pytest.fixture
async def behind(proxy: Proxy) -> AsyncIterator[Client]:
    """The app, on a pool that reaches the database through the proxy."""
    async with open_pool(proxy.url, min_size=1, max_size=4) as pool:
        app = root.http_app(pool, tokens=[TOKEN], max_body_bytes=64 * 1024)
        async with TestClient(TestServer(app.web)) as client:
            yield client


async def test_an_outage_is_503_with_retry_after_and_logged_once(
    behind: Client, proxy: Proxy, caplog: pytest.LogCaptureFixture
) -> None:
    await put_type(behind)
    created = await behind.post("/api/v1/tasks", json=task(external_id="before"), headers=AUTH)
    assert created.status == 201
    await proxy.cut()
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        for n in range(20):
            response = await behind.post(
                "/api/v1/tasks", json=task(external_id=f"during-{n}"), headers=AUTH
            )
            assert response.status == 503, await response.text()
            assert response.headers["Retry-After"] == "5"
            assert (await response.json())["error"]["code"] == "unavailable"
        health = await behind.get("/healthz")
        assert health.status == 503
        assert "not answering" in (await health.json())["database"]
    lines = [r for r in caplog.records if "cannot be reached" in r.getMessage()]
    assert len(lines) == 1, [r.getMessage() for r in caplog.records]
    assert not [r for r in caplog.records if r.exc_info], "no traceback per request"

    await proxy.mend()
    for _ in range(50):  # the probe runs at most once a second
        response = await behind.post("/api/v1/tasks", json=task(external_id="after"), headers=AUTH)
        if response.status != 503:
            break
        await asyncio.sleep(0.1)
    assert response.status == 201
    health = await behind.get("/healthz")
    assert (await health.json())["status"] == "ok"
    listed = await behind.get("/api/v1/tasks", params={"limit": "10"}, headers=AUTH)
    ids = sorted(t["external_id"] for t in (await listed.json())["items"])
    assert ids == ["after", "before"], "what was acknowledged stays; nothing half-written"

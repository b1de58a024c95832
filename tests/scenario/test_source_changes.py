"""Two instances on one database: each keeps the sources' configuration it read, and a change
put through either one (a new secret, a deleted source) is in force on the other as soon as it
is heard, without restarting it; a lost listening connection is opened again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot import root
from bot.http.keys import STORES
from task_sources.config import SourceCatalog
from tests.conftest import AUTH, TOKEN
from tests.support.sources import SECRET, billing_type, put_source, webhook

Client = TestClient[Any, Any]
RECORD = {"type": "billing", "title": "Refund check"}
NEW_SECRET = "whsec-rotated-fedcba9876543210"


@dataclass
class Instance:
    client: Client
    catalog: SourceCatalog
    heard: asyncio.Queue[str]
    """The names of the sources whose change this instance heard (``*``: listening again,
    ``-``: listening lost)."""


@pytest.fixture
async def instances(
    pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[Instance, Instance]]:
    made: list[Instance] = []
    for _ in range(2):
        app = root.http_app(pool, tokens=[TOKEN])
        catalog = app.web[STORES].sources.catalog
        heard: asyncio.Queue[str] = asyncio.Queue()
        _tap(monkeypatch, catalog, "forget", heard.put_nowait)
        _tap(
            monkeypatch, catalog, "listening", lambda on, q=heard: q.put_nowait("*" if on else "-")
        )
        client: Client = TestClient(TestServer(app.web))
        await client.start_server()
        made.append(Instance(client, catalog, heard))
    for instance in made:
        assert await _next(instance, lambda h: h == "*") == "*"
    try:
        yield made[0], made[1]
    finally:
        for instance in made:
            await instance.client.close()


def _tap(monkeypatch: pytest.MonkeyPatch, catalog: SourceCatalog, name: str, tell: Any) -> None:
    method = getattr(catalog, name)

    def tapped(arg: Any) -> None:
        method(arg)
        tell(arg)

    monkeypatch.setattr(catalog, name, tapped)


async def _next(instance: Instance, wanted: Callable[[str], bool]) -> str:
    while True:
        found = await asyncio.wait_for(instance.heard.get(), timeout=10)
        if wanted(found):
            return found


async def _outcome(client: Client, record_id: str, secret: str) -> int:
    response = await webhook(client, "crm", {**RECORD, "id": record_id}, secret=secret)
    return response.status


async def test_a_secret_put_on_one_instance_is_in_force_on_the_other(
    instances: tuple[Instance, Instance], pool: asyncpg.Pool
) -> None:
    a, b = instances
    await billing_type(pool)
    await put_source(a.client, "crm", kind="webhook", secret=SECRET)
    assert await _outcome(b.client, "R-1", SECRET) == 200  # b reads and keeps the source
    assert await _outcome(b.client, "R-2", SECRET) == 200
    await put_source(a.client, "crm", kind="webhook", secret=NEW_SECRET)
    await _next(b, lambda h: h == "crm")
    assert await _outcome(b.client, "R-3", SECRET) == 401
    assert await _outcome(b.client, "R-4", NEW_SECRET) == 200
    assert (await a.client.delete("/api/v1/sources/crm", headers=AUTH)).status == 200
    await _next(b, lambda h: h == "crm")
    assert await _outcome(b.client, "R-5", NEW_SECRET) == 404


async def test_a_lost_listening_connection_is_opened_again_and_nothing_stale_is_kept(
    instances: tuple[Instance, Instance], pool: asyncpg.Pool
) -> None:
    a, b = instances
    await billing_type(pool)
    await put_source(a.client, "crm", kind="webhook", secret=SECRET)
    assert await _outcome(b.client, "R-1", SECRET) == 200
    await pool.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = current_database() AND query LIKE 'LISTEN%'"
    )
    assert await _next(b, lambda h: h in "-*") == "-"
    assert await _next(b, lambda h: h == "*") == "*"
    await put_source(a.client, "crm", kind="webhook", secret=NEW_SECRET)
    await _next(b, lambda h: h == "crm")
    assert await _outcome(b.client, "R-2", SECRET) == 401
    assert await _outcome(b.client, "R-3", NEW_SECRET) == 200

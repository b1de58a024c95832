"""Task sources in tests: sources put through the API, deliveries signed as each vendor
signs them, and a task taken by an agent."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from queues.catalog import Catalog
from queues.lifecycle import Lifecycle
from queues.models import AgentIn, TaskTypeIn
from queues.roster import Roster
from task_sources.webhook import DELIVERY_HEADER, signed_headers
from tests.conftest import AUTH

Client = TestClient[Any, Any]
SECRET = "whsec-0123456789abcdef"


async def put_source(client: Client, name: str, **body: Any) -> dict[str, Any]:
    response = await client.put(f"/api/v1/sources/{name}", json=body, headers=AUTH)
    assert response.status in (200, 201), await response.text()
    out: dict[str, Any] = await response.json()
    return out


async def webhook(
    client: Client,
    name: str,
    record: dict[str, Any],
    *,
    secret: str = SECRET,
    at: float | None = None,
    delivery: str | None = None,
) -> ClientResponse:
    """A generic webhook delivery, signed."""
    body = json.dumps(record).encode()
    headers = {"Content-Type": "application/json", **signed_headers(secret, body, at)}
    if delivery is not None:
        headers[DELIVERY_HEADER] = delivery
    return await client.post(f"/sources/{name}/events", data=body, headers=headers)


async def billing_type(pool: asyncpg.Pool, name: str = "billing") -> None:
    await Catalog(pool).put(
        name, TaskTypeIn(skills=["billing"], sla_minutes=600, handle_minutes=10)
    )


async def take(pool: asyncpg.Pool, task_id: int, agent_id: str = "ana") -> None:
    """``agent_id`` is offered the task and claims it."""
    if await Roster(pool).get(agent_id) is None:
        await Roster(pool).put(agent_id, AgentIn(name=agent_id.title(), skills={"billing": 3}))
    lifecycle = Lifecycle(pool)
    expires = datetime.now(UTC) + timedelta(minutes=5)
    await lifecycle.offer(task_id, agent_id, expires, "test", [])
    await lifecycle.claim(task_id, agent_id)


async def count(pool: asyncpg.Pool, table: str) -> int:
    value = await pool.fetchval(f"SELECT count(*) FROM {table}")
    return int(value)

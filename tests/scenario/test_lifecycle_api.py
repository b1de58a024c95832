"""The task lifecycle through the API, and no offers to an agent the feeds show on a call."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from aiohttp.test_utils import TestClient

from tests.conftest import AUTH

Client = TestClient[Any, Any]


async def test_lifecycle_through_the_api(client: Client) -> None:
    await client.put(
        "/api/v1/task-types/billing",
        json={"skills": ["billing"], "sla_minutes": 600, "handle_minutes": 10},
        headers=AUTH,
    )
    await client.put(
        "/api/v1/agents/ana", json={"name": "Ana", "skills": {"billing": 2}}, headers=AUTH
    )
    body = {"source": "s", "external_id": "1", "type": "billing", "title": "Refund"}
    task = await (await client.post("/api/v1/tasks", json=body, headers=AUTH)).json()
    offered = await (
        await client.post("/api/v1/agents/ana/next", json={"minutes": 25}, headers=AUTH)
    ).json()
    assert offered["offer"]["task_id"] == task["id"]
    assert offered["offer"]["why"]
    base = f"/api/v1/tasks/{task['id']}"
    assert (
        await client.post(f"{base}/claim", json={"agent_id": "ana"}, headers=AUTH)
    ).status == 200
    lost = await client.post(f"{base}/claim", json={"agent_id": "zed"}, headers=AUTH)
    assert lost.status == 409
    assert (await lost.json())["error"]["holder"] == "ana"
    done = await client.post(
        f"{base}/complete", json={"agent_id": "ana", "outcome": "refunded"}, headers=AUTH
    )
    assert (await done.json())["status"] == "done"
    again = await client.post(f"{base}/pause", json={"agent_id": "ana"}, headers=AUTH)
    assert again.status == 409
    assert (await again.json())["error"]["current_status"] == "done"
    empty = await (await client.post("/api/v1/agents/ana/next", headers=AUTH)).json()
    assert empty == {"offer": None, "reason": "no queued task matches your skills"}
    unknown = await client.post("/api/v1/agents/nobody/next", headers=AUTH)
    assert unknown.status == 404


async def test_no_work_is_offered_to_an_agent_the_feeds_show_on_a_call(
    client: TestClient[Any, Any],
) -> None:
    await client.put(
        "/api/v1/task-types/billing",
        json={"skills": [], "sla_minutes": 600, "handle_minutes": 10},
        headers=AUTH,
    )
    await client.put(
        "/api/v1/agents/ana",
        json={"name": "Ana", "telephony_ids": {"generic": "ext-7"}},
        headers=AUTH,
    )
    body = {"source": "s", "external_id": "1", "type": "billing", "title": "Refund"}
    await client.post("/api/v1/tasks", json=body, headers=AUTH)
    now = datetime.now(UTC)

    async def state(name: str, n: int) -> None:
        event = {
            "type": "agent_state",
            "event_id": f"s{n}",
            "at": (now + timedelta(seconds=n)).isoformat(),
            "agent_id": "ext-7",
            "state": name,
        }
        response = await client.post("/feeds/generic/events", json=[event], headers=AUTH)
        assert response.status in (200, 202), await response.text()

    await state("on_call", 0)
    busy = await (await client.post("/api/v1/agents/ana/next", headers=AUTH)).json()
    assert busy["offer"] is None
    assert "on a call" in busy["reason"]
    await state("available", 1)
    free = await (
        await client.post("/api/v1/agents/ana/next", json={"minutes": 30}, headers=AUTH)
    ).json()
    assert free["offer"] is not None


async def test_one_task_at_a_time_through_the_api(client: Client, pool: asyncpg.Pool) -> None:
    await client.put(
        "/api/v1/task-types/billing",
        json={"skills": [], "sla_minutes": 600, "handle_minutes": 10},
        headers=AUTH,
    )
    await client.put("/api/v1/agents/ana", json={"name": "Ana"}, headers=AUTH)
    for n in range(2):
        body = {"source": "s", "external_id": str(n), "type": "billing", "title": "Refund"}
        await client.post("/api/v1/tasks", json=body, headers=AUTH)
    half_hour = {"minutes": 30}
    first = (
        await (await client.post("/api/v1/agents/ana/next", json=half_hour, headers=AUTH)).json()
    )["offer"]
    base = f"/api/v1/tasks/{first['task_id']}"
    assert (
        await client.post(f"{base}/claim", json={"agent_id": "ana"}, headers=AUTH)
    ).status == 200
    back = (await (await client.post("/api/v1/agents/ana/next", headers=AUTH)).json())["offer"]
    assert back == {
        "task_id": first["task_id"],
        "status": "in_progress",
        "expires_at": None,
        "why": ["your task in progress"],
    }
    # An offer of the other task made by hand: claiming it is refused while ana works.
    other = await pool.fetchval(
        "UPDATE tasks SET status = 'offered', holder = 'ana',"
        " offer_expires_at = now() + interval '1 minute' WHERE status = 'queued' RETURNING id"
    )
    refused = await client.post(
        f"/api/v1/tasks/{other}/claim", json={"agent_id": "ana"}, headers=AUTH
    )
    assert refused.status == 409
    error = (await refused.json())["error"]
    assert (error["code"], error["holding"], error["limit"]) == (
        "agent_busy",
        [first["task_id"]],
        1,
    )

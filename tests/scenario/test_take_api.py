"""`POST /agents/{id}/next` with `take`: the pull client's one call that picks the agent's next
task and claims it; held work is a clear 409, and bad input changes nothing."""

from __future__ import annotations

from typing import Any

import asyncpg
from aiohttp.test_utils import TestClient

from tests.conftest import AUTH

Client = TestClient[Any, Any]


async def _center(client: Client) -> list[int]:
    body = {"skills": ["billing"], "sla_minutes": 600, "handle_minutes": 10}
    response = await client.put("/api/v1/task-types/refund", json=body, headers=AUTH)
    assert response.status in (200, 201), await response.text()
    agent = {"name": "Ana", "skills": {"billing": 2}}
    response = await client.put("/api/v1/agents/ana", json=agent, headers=AUTH)
    assert response.status == 201, await response.text()
    ids = []
    for n in range(3):
        task = {"source": "s", "external_id": f"r{n}", "type": "refund", "title": f"Refund {n}"}
        response = await client.post("/api/v1/tasks", json=task, headers=AUTH)
        assert response.status == 201, await response.text()
        ids.append((await response.json())["id"])
    return ids


async def _snapshot(pool: asyncpg.Pool) -> tuple[list[asyncpg.Record], int]:
    tasks = await pool.fetch("SELECT id, status, holder FROM tasks ORDER BY id")
    return tasks, await pool.fetchval("SELECT count(*) FROM task_events")


async def test_take_claims_the_best_task_and_then_refuses_while_it_is_held(
    client: Client, pool: asyncpg.Pool
) -> None:
    ids = await _center(client)
    url = "/api/v1/agents/ana/next"
    response = await client.post(url, json={"minutes": 30, "take": True}, headers=AUTH)
    assert response.status == 200, await response.text()
    offer = (await response.json())["offer"]
    assert (offer["task_id"], offer["status"], offer["expires_at"]) == (
        ids[0],
        "in_progress",
        None,
    )
    assert offer["why"][-1] == "fits your 30 min"
    task = await (await client.get(f"/api/v1/tasks/{ids[0]}", headers=AUTH)).json()
    assert (task["status"], task["holder"]) == ("in_progress", "ana")

    before = await _snapshot(pool)
    again = await client.post(url, json={"minutes": 30, "take": True}, headers=AUTH)
    assert again.status == 409, await again.text()
    error = (await again.json())["error"]
    assert error["code"] == "agent_busy"
    assert (error["holding"], error["limit"], error["current_status"]) == (
        [ids[0]],
        1,
        "in_progress",
    )
    assert f"already work on #{ids[0]}" in error["message"]
    assert await _snapshot(pool) == before

    # Without `take` the same agent gets their task in progress back, as before.
    held = await client.post(url, json={"minutes": 30}, headers=AUTH)
    assert (await held.json())["offer"]["why"] == ["your task in progress"]

    done = await client.post(
        f"/api/v1/tasks/{ids[0]}/complete",
        json={"agent_id": "ana", "outcome": "refunded"},
        headers=AUTH,
    )
    assert done.status == 200, await done.text()
    response = await client.post(url, json={"minutes": 30, "take": True}, headers=AUTH)
    assert (await response.json())["offer"]["task_id"] == ids[1]


async def test_bad_take_input_is_422_and_changes_nothing(
    client: Client, pool: asyncpg.Pool
) -> None:
    await _center(client)
    before = await _snapshot(pool)
    for body in ({"take": "yes"}, {"take": 1}, {"take": None}, {"minutes": 0, "take": True}):
        response = await client.post("/api/v1/agents/ana/next", json=body, headers=AUTH)
        assert response.status == 422, (body, await response.text())
        error = (await response.json())["error"]
        assert error["code"] == "invalid"
        assert error["fields"], error
    missing = await client.post("/api/v1/agents/nobody/next", json={"take": True}, headers=AUTH)
    assert missing.status == 404
    assert await _snapshot(pool) == before

"""The real-time guard holds on the API: while a staffing group's guard holds or recalls, its
agents ask for work in vain, with the reason, and a supervisor gives them a task only by
overriding, which the task's event records."""

from __future__ import annotations

from typing import Any

import asyncpg
from aiohttp.test_utils import TestClient

from tests.conftest import AUTH

Client = TestClient[Any, Any]


async def _center(client: Client) -> list[int]:
    """Ana and Bo with no queue (the pooled group), Rita who answers retail; two tasks."""
    await client.put(
        "/api/v1/task-types/billing",
        json={"skills": ["billing"], "sla_minutes": 600, "handle_minutes": 10},
        headers=AUTH,
    )
    for agent, queue in (("ana", None), ("bo", None), ("rita", "retail")):
        body = {"name": agent.title(), "skills": {"billing": 2}, "queue": queue}
        response = await client.put(f"/api/v1/agents/{agent}", json=body, headers=AUTH)
        assert response.status in (200, 201), await response.text()
    ids = []
    for n in range(2):
        body = {"source": "s", "external_id": str(n), "type": "billing", "title": f"Refund {n}"}
        ids.append(
            (await (await client.post("/api/v1/tasks", json=body, headers=AUTH)).json())["id"]
        )
    return ids


async def _guard(pool: asyncpg.Pool, group: str, mode: str, reason: str) -> None:
    await pool.execute(
        "INSERT INTO blending_guard (grp, mode, since, reason) VALUES ($1, $2, now(), $3)",
        group,
        mode,
        reason,
    )


async def test_next_is_refused_while_the_guard_of_the_agents_group_holds_or_recalls(
    client: Client, pool: asyncpg.Pool
) -> None:
    await _center(client)
    await _guard(pool, "retail", "recall", "calls are rising: 4 calls waiting")
    await _guard(pool, "all queues", "hold", "2 calls waiting: offers on hold")

    rita = await (await client.post("/api/v1/agents/rita/next", headers=AUTH)).json()
    assert rita == {
        "offer": None,
        "reason": "calls are rising: 4 calls waiting in retail: the phones need you; "
        "ask again when the queue is calm",
    }
    ana = await (await client.post("/api/v1/agents/ana/next", headers=AUTH)).json()
    assert ana["offer"] is None
    assert ana["reason"] == (
        "2 calls waiting: offers on hold in all queues: offers are on hold; "
        "ask again when the queue is calm"
    )
    assert await pool.fetchval("SELECT count(*) FROM tasks WHERE status = 'queued'") == 2

    # Each group has its own guard: retail open again, Rita is offered work, Ana still not.
    await pool.execute("UPDATE blending_guard SET mode = 'open' WHERE grp = 'retail'")
    half_hour = {"minutes": 30}
    rita = await (
        await client.post("/api/v1/agents/rita/next", json=half_hour, headers=AUTH)
    ).json()
    assert rita["offer"] is not None
    ana = await (await client.post("/api/v1/agents/ana/next", json=half_hour, headers=AUTH)).json()
    assert ana["offer"] is None
    assert "offers are on hold" in ana["reason"]


async def test_a_reassignment_to_a_held_agent_needs_an_override_and_is_recorded(
    client: Client, pool: asyncpg.Pool
) -> None:
    first, second = await _center(client)
    await _guard(pool, "all queues", "recall", "calls are rising: 5 calls waiting")

    refused = await client.post(
        f"/api/v1/tasks/{first}/reassign", json={"to_agent_id": "ana", "by": "sam"}, headers=AUTH
    )
    assert refused.status == 409
    error = (await refused.json())["error"]
    assert error["code"] == "agent_needed"
    assert "calls are rising: 5 calls waiting in all queues" in error["message"]
    assert "override" in error["message"]
    assert await pool.fetchval("SELECT status FROM tasks WHERE id = $1", first) == "queued"

    given = await client.post(
        f"/api/v1/tasks/{first}/reassign",
        json={"to_agent_id": "ana", "by": "sam", "override": True},
        headers=AUTH,
    )
    assert given.status == 200, await given.text()
    assert (await given.json())["holder"] == "ana"
    event = await pool.fetchrow(
        "SELECT actor, reason, data FROM task_events WHERE task_id = $1 AND event = 'reassigned'",
        first,
    )
    assert event is not None
    assert event["actor"] == "sam"
    assert "override of the guard (recall in all queues" in event["reason"]
    assert event["data"]["override"] == {
        "group": "all queues",
        "mode": "recall",
        "reason": "calls are rising: 5 calls waiting",
    }

    # An agent whose group's guard is open needs no override.
    plain = await client.post(
        f"/api/v1/tasks/{second}/reassign", json={"to_agent_id": "rita", "by": "sam"}, headers=AUTH
    )
    assert plain.status == 200

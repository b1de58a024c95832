"""Deactivating and reactivating an agent through the API: history kept, offers withdrawn, work
back in the queue, nothing offered any more, their own actions refused, and in control mode
the command that puts them back to available queued through the outbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from aiohttp.test_utils import TestClient

from queues.lifecycle import Lifecycle
from tests.conftest import AUTH
from tests.support.acd import rig, seed_agents
from tests.support.factories import agent, put_type, task

Client = TestClient[Any, Any]


async def _offer(client: Client, agent_id: str) -> int:
    response = await client.post(
        f"/api/v1/agents/{agent_id}/next", json={"minutes": 60}, headers=AUTH
    )
    body = await response.json()
    assert response.status == 200, body
    task_id: int = body["offer"]["task_id"]
    return task_id


async def test_deactivate_and_reactivate(client: Client, pool: asyncpg.Pool) -> None:
    await put_type(client)
    for n, who in enumerate(("dana", "ben")):
        body = agent(
            name=who.title(),
            slack_user_id=f"U0{who.upper()}01",
            telephony_ids={"twilio": f"WK{n}"},
            email=f" {who}@Example.com ",
        )
        assert (await client.put(f"/api/v1/agents/{who}", json=body, headers=AUTH)).status == 201
    for n in range(3):
        created = await client.post("/api/v1/tasks", json=task(f"APP-{n}"), headers=AUTH)
        assert created.status == 201
    held = await _offer(client, "dana")
    claimed = await client.post(
        f"/api/v1/tasks/{held}/claim", json={"agent_id": "dana"}, headers=AUTH
    )
    assert claimed.status == 200
    offered = await _offer(client, "ben")

    gone = await client.delete(
        "/api/v1/agents/dana", json={"by": "sam", "reason": "left"}, headers=AUTH
    )
    body = await gone.json()
    assert gone.status == 200, body
    assert body["released"] == [held]
    assert body["withdrawn"] == []
    assert body["agent"]["active"] is False
    assert body["agent"]["deactivated_by"] == "sam"
    assert body["agent"]["email"] == "dana@Example.com"
    withdrawn = await (await client.delete("/api/v1/agents/ben", headers=AUTH)).json()
    assert withdrawn["withdrawn"] == [offered]
    again = await (await client.delete("/api/v1/agents/ben", headers=AUTH)).json()
    assert again["already"] is True

    detail = await (await client.get(f"/api/v1/tasks/{held}", headers=AUTH)).json()
    assert detail["status"] == "queued"
    assert detail["holder"] is None
    events = [e["event"] for e in detail["timeline"]]
    assert events[-3:] == ["offered", "claimed", "released"]  # history kept
    assert (await client.get(f"/api/v1/tasks/{offered}", headers=AUTH)).status == 200

    for path, payload in (
        (f"/api/v1/tasks/{held}/claim", {"agent_id": "dana"}),
        (f"/api/v1/tasks/{held}/complete", {"agent_id": "dana", "outcome": "done"}),
        (f"/api/v1/tasks/{held}/release", {"agent_id": "dana"}),
        ("/api/v1/agents/dana/next", {"minutes": 30}),
    ):
        refused = await client.post(path, json=payload, headers=AUTH)
        error = (await refused.json())["error"]
        assert (refused.status, error["code"]) == (409, "agent_inactive"), (path, error)
    now = datetime.now(UTC)
    offers = await Lifecycle(pool).offer_many(
        [(held, "dana", [])], now + timedelta(minutes=2), "test"
    )
    assert offers == []  # the matching round's offers pass them over
    lent = await client.post(
        "/api/v1/agents/dana/lend", json={"minutes": 30, "by": "sam"}, headers=AUTH
    )
    assert (lent.status, (await lent.json())["error"]["code"]) == (409, "agent_inactive")

    missing = await client.delete("/api/v1/agents/nobody", headers=AUTH)
    assert missing.status == 404
    bad = await client.delete("/api/v1/agents/dana", json={"by": 5}, headers=AUTH)
    assert bad.status == 422
    broken = await client.delete("/api/v1/agents/dana", data=b"{", headers=AUTH)
    assert broken.status == 400
    bad_email = await client.put(
        "/api/v1/agents/dana", json=agent(email="not an email"), headers=AUTH
    )
    assert bad_email.status == 422

    back = await client.put(
        "/api/v1/agents/dana",
        json=agent(name="Dana", slack_user_id="U0DANA01", telephony_ids={"twilio": "WK0"}),
        headers=AUTH,
    )
    assert back.status == 200
    assert (await back.json())["active"] is True
    assert await _offer(client, "dana")
    history = await pool.fetch(
        "SELECT event, actor FROM agent_events WHERE agent_id = 'dana' ORDER BY id"
    )
    assert [(r["event"], r["actor"]) for r in history] == [
        ("deactivated", "sam"),
        ("reactivated", "api"),
    ]
    timeline = await (await client.get("/api/v1/agents/dana/timeline", headers=AUTH)).json()
    roster = [(i["event"], i["detail"]) for i in timeline["items"] if i["kind"] == "roster"]
    assert roster == [("reactivated", "(by api)"), ("deactivated", "left (by sam)")]


async def test_deactivating_in_control_mode_queues_available(pool: asyncpg.Pool) -> None:
    await seed_agents(pool, tasks=1)
    async with rig(pool, "control") as r:
        response = await r.client.post(
            "/api/v1/agents/dana/lend", json={"minutes": 30, "by": "sam"}, headers=AUTH
        )
        assert response.status == 200, await response.text()
        last = await pool.fetchrow(
            "SELECT state FROM acd_commands WHERE agent_id = 'dana' ORDER BY id DESC LIMIT 1"
        )
        assert last is not None
        assert last["state"] == "backoffice"
        gone = await r.client.delete("/api/v1/agents/dana", headers=AUTH)
        assert gone.status == 200
        last = await pool.fetchrow(
            "SELECT state, cause, status FROM acd_commands WHERE agent_id = 'dana' "
            "ORDER BY id DESC LIMIT 1"
        )
        assert last is not None
        assert (last["state"], last["cause"], last["status"]) == (
            "available",
            "deactivated",
            "pending",
        )
        assert (
            await pool.fetchval("SELECT count(*) FROM blending_windows WHERE agent_id = 'dana'")
            == 0
        )

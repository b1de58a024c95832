"""Active time through the API: what a task shows of the time worked on it, pauses aside."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from queues.timers import run_timers
from tests.conftest import AUTH

Client = TestClient[Any, Any]


async def test_worked_seconds_leave_out_pauses_and_the_note_is_handed_over(
    client: Client, pool: asyncpg.Pool
) -> None:
    await client.put(
        "/api/v1/task-types/billing",
        json={"skills": ["billing"], "sla_minutes": 600, "handle_minutes": 10},
        headers=AUTH,
    )
    for agent in ("ana", "ben"):
        await client.put(
            f"/api/v1/agents/{agent}", json={"name": agent, "skills": {"billing": 2}}, headers=AUTH
        )
    body = {"source": "s", "external_id": "1", "type": "billing", "title": "Refund"}
    task = await (await client.post("/api/v1/tasks", json=body, headers=AUTH)).json()
    base = f"/api/v1/tasks/{task['id']}"
    await client.post("/api/v1/agents/ana/next", json={"minutes": 60}, headers=AUTH)
    claimed = await (
        await client.post(f"{base}/claim", json={"agent_id": "ana"}, headers=AUTH)
    ).json()
    assert claimed["active_since"] is not None
    assert claimed["active_seconds"] == 0
    # Ana worked 3 minutes, paused, and the pause lasted an hour and a half.
    await pool.execute("UPDATE tasks SET active_since = now() - interval '3 minutes'")
    paused = await client.post(
        f"{base}/pause",
        json={"agent_id": "ana", "reason": "recalled", "note": "called the customer"},
        headers=AUTH,
    )
    assert paused.status == 200, await paused.text()
    shown = await paused.json()
    assert shown["active_since"] is None
    assert shown["active_seconds"] == pytest.approx(180, abs=2)
    await pool.execute("UPDATE tasks SET paused_at = now() - interval '90 minutes'")
    detail = await (await client.get(base, headers=AUTH)).json()
    assert detail["worked_seconds"] == pytest.approx(180, abs=2)
    assert detail["timeline"][-1]["data"] == {"note": "called the customer"}
    report = await run_timers(pool)
    assert report.returned == [(task["id"], "ana")]
    detail = await (await client.get(base, headers=AUTH)).json()
    assert (detail["status"], detail["holder"], detail["worked_seconds"]) == ("queued", None, 0)
    handover = detail["handover"]
    assert (handover["by"], handover["reason"], handover["note"]) == (
        "ana",
        "recalled",
        "called the customer",
    )
    assert handover["worked_seconds"] == pytest.approx(180, abs=2)
    assert detail["timeline"][-1]["event"] == "returned"
    await client.post("/api/v1/agents/ben/next", json={"minutes": 60}, headers=AUTH)
    await client.post(f"{base}/claim", json={"agent_id": "ben"}, headers=AUTH)
    await pool.execute("UPDATE tasks SET active_since = now() - interval '2 minutes'")
    finish = {"agent_id": "ben", "outcome": "ok"}
    done = await (await client.post(f"{base}/complete", json=finish, headers=AUTH)).json()
    assert done["handover"] is None
    detail = await (await client.get(base, headers=AUTH)).json()
    completed = detail["timeline"][-1]
    assert completed["event"] == "completed"
    assert completed["data"]["worked_seconds"] == pytest.approx(120, abs=2)


async def test_a_pause_note_is_checked(client: Client) -> None:
    response = await client.post(
        "/api/v1/tasks/1/pause", json={"agent_id": "ana", "note": "x" * 4001}, headers=AUTH
    )
    assert response.status == 422

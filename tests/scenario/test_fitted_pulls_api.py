"""Every pull through the API is fitted: `POST /agents/{id}/next` without `minutes` uses the
agent's window from the engine, or is refused with the engine's reason; `minutes` given are
honoured, but never beyond the window nor the agent's next break or shift end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from aiohttp.test_utils import TestClient

from tests.conftest import AUTH
from tests.support.windows import lend

Client = TestClient[Any, Any]
BUSY = "the calls need every available agent now"


async def _center(client: Client) -> dict[str, int]:
    """Ana, whom the feeds show available; a 45-minute review that ranks first and a
    10-minute refund check."""
    for name, minutes, priority in (("review", 45, 500), ("refund", 10, 0)):
        body = {
            "skills": ["billing"],
            "sla_minutes": 600,
            "handle_minutes": minutes,
            "base_priority": priority,
        }
        response = await client.put(f"/api/v1/task-types/{name}", json=body, headers=AUTH)
        assert response.status in (200, 201), await response.text()
    agent = {"name": "Ana", "skills": {"billing": 2}, "telephony_ids": {"generic": "ext-7"}}
    response = await client.put("/api/v1/agents/ana", json=agent, headers=AUTH)
    assert response.status == 201, await response.text()
    event = {
        "type": "agent_state",
        "event_id": "s1",
        "at": datetime.now(UTC).isoformat(),
        "agent_id": "ext-7",
        "state": "available",
    }
    response = await client.post("/feeds/generic/events", json=[event], headers=AUTH)
    assert response.status in (200, 202), await response.text()
    ids = {}
    for kind in ("review", "refund"):
        body = {"source": "s", "external_id": kind, "type": kind, "title": kind.title()}
        ids[kind] = (await (await client.post("/api/v1/tasks", json=body, headers=AUTH)).json())[
            "id"
        ]
    return ids


async def _next(client: Client, minutes: float | None = None) -> dict[str, Any]:
    body = {"minutes": minutes} if minutes is not None else None
    response = await client.post("/api/v1/agents/ana/next", json=body, headers=AUTH)
    assert response.status == 200, await response.text()
    answer: dict[str, Any] = await response.json()
    return answer


async def test_next_without_minutes_and_without_a_window_is_refused_with_the_reason(
    client: Client, pool: asyncpg.Pool
) -> None:
    await _center(client)
    await lend(pool, reason=BUSY)
    assert await _next(client) == {
        "offer": None,
        "reason": f"no usable window for you now: {BUSY}; "
        "ask again in a few minutes or ask your supervisor",
    }
    assert await pool.fetchval("SELECT count(*) FROM tasks WHERE status = 'queued'") == 2


async def test_next_without_minutes_fits_the_window(client: Client, pool: asyncpg.Pool) -> None:
    ids = await _center(client)
    now = datetime.now(UTC)
    await lend(pool, "ana", minutes=20, now=now)
    offer = (await _next(client))["offer"]
    assert offer["task_id"] == ids["refund"]
    end = now + timedelta(minutes=20)
    assert offer["why"][-2:] == [
        "about 10 min for you",
        f"fits your 19 min until the lull ends at {end:%H:%M}",
    ]


async def test_minutes_given_are_capped_by_the_window(client: Client, pool: asyncpg.Pool) -> None:
    ids = await _center(client)
    await lend(pool, "ana", minutes=20)
    offer = (await _next(client, 120))["offer"]
    assert offer["task_id"] == ids["refund"]
    assert "until the lull ends at" in offer["why"][-1]


async def test_minutes_given_without_a_window_are_honoured(
    client: Client, pool: asyncpg.Pool
) -> None:
    ids = await _center(client)
    await lend(pool, reason=BUSY)
    offer = (await _next(client, 60))["offer"]
    assert offer["task_id"] == ids["review"]
    assert offer["why"][-1] == "fits your 60 min"


async def test_minutes_given_are_capped_by_the_next_break_and_a_break_refuses(
    client: Client, pool: asyncpg.Pool
) -> None:
    ids = await _center(client)
    now = datetime.now(UTC).replace(microsecond=0)
    brk = now + timedelta(minutes=30)
    schedule = {
        "items": [
            {
                "kind": "shift",
                "start": (now - timedelta(hours=1)).isoformat(),
                "end": (now + timedelta(hours=6)).isoformat(),
            },
            {
                "kind": "break",
                "start": brk.isoformat(),
                "end": (brk + timedelta(minutes=15)).isoformat(),
            },
        ]
    }
    response = await client.put("/api/v1/agents/ana/schedule", json=schedule, headers=AUTH)
    assert response.status == 200, await response.text()
    offer = (await _next(client, 120))["offer"]
    assert offer["task_id"] == ids["refund"]
    assert offer["why"][-1].endswith(f"min until your break at {brk:%H:%M}")

    # On the break, nothing new, minutes or not.
    await pool.execute("UPDATE tasks SET status = 'cancelled' WHERE id = $1", ids["refund"])
    await pool.execute(
        "UPDATE agent_schedules SET starts_at = $1, ends_at = $2 WHERE kind = 'break'",
        now - timedelta(minutes=5),
        brk,
    )
    refused = await _next(client, 120)
    assert refused == {
        "offer": None,
        "reason": f"by your schedule you are on a break until {brk:%H:%M}: ask again then",
    }


async def test_the_openapi_document_says_how_the_time_is_found(client: Client) -> None:
    document = await (await client.get("/api/v1/openapi.json", headers=AUTH)).json()
    operation = document["paths"]["/api/v1/agents/{agent_id}/next"]["post"]
    assert "usable window the blending engine granted" in operation["description"]
    minutes = document["components"]["schemas"]["NextIn"]["properties"]["minutes"]
    assert "capped by their window and their schedule" in minutes["description"]

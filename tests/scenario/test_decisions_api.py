"""``GET /api/v1/blending/decisions``: the engine's decisions with their figures, newest first,
by page and filter; bad queries are refused with the parameter named."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient
from openapi_core import OpenAPI

from blending import decision_store
from blending.figures import Figures
from blending.guard import GuardState
from blending.policy import Decision, GroupDecision
from blending.windows import UsableWindow
from queues.dispatch import DispatchSettings
from tests.conftest import AUTH
from tests.scenario.test_openapi import _call

Client = TestClient[Any, Any]
URL = "/api/v1/blending/decisions"
NOW = datetime(2026, 11, 23, 10, 42, tzinfo=UTC)
SALES = Figures(
    "forecast_guard",
    "hi_80",
    NOW - timedelta(minutes=12),
    forecast_calls=31.5,
    need=7,
    staffed=9,
    surplus=2,
    reserve=0,
    lent=0,
    idle=3,
    calls_waiting=1,
    longest_wait_seconds=4.0,
    service_level=0.92,
    guard="open",
)
CARE = Figures(
    "forecast_guard",
    "hi_80",
    NOW - timedelta(minutes=12),
    need=4,
    staffed=4,
    lent=1,
    calls_waiting=5,
    longest_wait_seconds=31.0,
    service_level=0.55,
    guard="recall",
    tripped=("hold_waiting", "recall_waiting"),
)


async def _center(client: Client, pool: asyncpg.Pool) -> None:
    """Dana answers sales, Omar care; a task waits; the engine lends Dana, then care's guard
    recalls Omar."""
    await client.put(
        "/api/v1/task-types/billing",
        json={"skills": ["billing"], "sla_minutes": 600, "handle_minutes": 10},
        headers=AUTH,
    )
    for agent, queue in (("dana", "sales"), ("omar", "care")):
        body = {"name": agent.title(), "skills": {"billing": 2}, "queue": queue}
        response = await client.put(f"/api/v1/agents/{agent}", json=body, headers=AUTH)
        assert response.status == 201, await response.text()
    task = {"source": "s", "external_id": "1", "type": "billing", "title": "Refund"}
    assert (await client.post("/api/v1/tasks", json=task, headers=AUTH)).status == 201
    window = UsableWindow("dana", NOW, NOW + timedelta(minutes=25), 0.9)
    lend = Decision({"sales": GroupDecision("sales", windows=[window], figures=SALES)})
    acted = await decision_store.act(pool, lend, NOW, DispatchSettings(), {})
    assert [t.holder for t in acted.offers] == ["dana"]
    recall = GuardState("recall", NOW)
    rising = GroupDecision(
        "care", recall=["omar"], guard=recall, reason="calls are rising: 5 calls waiting"
    )
    rising.figures = CARE
    await decision_store.act(pool, Decision({"care": rising}), NOW, DispatchSettings(), {})


async def _get(client: Client, query: str = "") -> tuple[int, Any]:
    response = await client.get(f"{URL}{query}", headers=AUTH)
    return response.status, await response.json()


async def test_the_decisions_newest_first_with_their_figures(
    client: Client, pool: asyncpg.Pool
) -> None:
    await _center(client, pool)
    status, page = await _get(client)
    assert status == 200
    assert [(d["event"], d["group"], d["agent_id"]) for d in page["items"]] == [
        ("guard", "care", None),
        ("recalled", "care", "omar"),
        ("lend_offered", "sales", "dana"),
    ]
    assert page["next_before"] is None
    guard, recalled, lend = page["items"]
    assert lend["task_id"] == 1
    assert lend["agent_name"] == "Dana"
    assert lend["actor"] == "blendbot"
    assert lend["at"] == "2026-11-23T10:42:00Z"
    assert lend["reason"] == "task #1 offered in a window of 25 min"
    assert lend["figures"] == {
        "policy": "forecast_guard",
        "bound": "hi_80",
        "interval_start": "2026-11-23T10:30:00Z",
        "forecast_calls": 31.5,
        "need": 7,
        "staffed": 9,
        "surplus": 2,
        "reserve": 0,
        "lent": 0,
        "idle": 3,
        "calls_waiting": 1,
        "longest_wait_seconds": 4.0,
        "service_level": 0.92,
        "guard": "open",
        "tripped": [],
        "window": {
            "start": "2026-11-23T10:42:00Z",
            "end": "2026-11-23T11:07:00Z",
            "minutes": 25.0,
            "confidence": 0.9,
        },
    }
    assert guard["reason"] == "recall: calls are rising: 5 calls waiting"
    assert guard["figures"]["tripped"] == ["hold_waiting", "recall_waiting"]
    assert guard["figures"]["window"] is None
    assert recalled["figures"] == guard["figures"]


async def test_the_answers_match_the_openapi_document(client: Client, pool: asyncpg.Pool) -> None:
    await _center(client, pool)
    spec = OpenAPI.from_dict(await (await client.get("/api/v1/openapi.json")).json())
    for query, status in (("?limit=2", 200), ("?event=guard", 200), ("?limit=0", 422)):
        assert (await _call(client, spec, "GET", URL + query)).status_code == status


async def test_filters_and_pages(client: Client, pool: asyncpg.Pool) -> None:
    await _center(client, pool)
    ids = [d["id"] for d in (await _get(client))[1]["items"]]
    for query, expected in (
        ("?group=care", ids[:2]),
        ("?agent=dana", ids[2:]),
        ("?event=guard", [ids[0]]),
        ("?group=sales&event=recalled", []),
        ("?group=nowhere", []),
    ):
        status, page = await _get(client, query)
        assert status == 200
        assert [d["id"] for d in page["items"]] == expected, query
    status, first = await _get(client, "?limit=2")
    assert [d["id"] for d in first["items"]] == ids[:2]
    assert first["next_before"] == ids[1]
    status, rest = await _get(client, f"?limit=2&before={first['next_before']}")
    assert ([d["id"] for d in rest["items"]], rest["next_before"]) == (ids[2:], None)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?limit=0", "query.limit"),
        ("?limit=501", "query.limit"),
        ("?limit=ten", "query.limit"),
        ("?before=0", "query.before"),
        ("?before=9223372036854775808", "query.before"),
        ("?event=lunch", "query.event"),
        ("?agent=%00", "query.agent"),
        ("?group=", "query.group"),
        ("?group=a%00b", "query.group"),
        ("?colour=red", "query.colour"),
    ],
)
async def test_bad_queries_are_refused_naming_the_parameter(
    client: Client, pool: asyncpg.Pool, query: str, field: str
) -> None:
    status, body = await _get(client, query)
    assert status == 422, body
    assert body["error"]["code"] == "invalid"
    assert [f["field"] for f in body["error"]["fields"]] == [field]


async def test_a_repeated_parameter_and_a_missing_token_are_refused(client: Client) -> None:
    status, body = await _get(client, "?limit=1&limit=2")
    assert status == 422
    assert "limit" in body["error"]["message"]
    response = await client.get(URL)
    assert response.status == 401

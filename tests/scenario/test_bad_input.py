"""Bad input gets a clear error and writes nothing."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import AUTH
from tests.support.factories import agent, put_type, task, task_type

Client = TestClient[Any, Any]

TABLES = ("task_types", "agents", "agent_skills", "agent_telephony_ids", "tasks", "task_events")


async def snapshot(pool: asyncpg.Pool) -> dict[str, Any]:
    """Every row of every table, to show that a refused request changed nothing."""
    return {
        t: [tuple(r) for r in await pool.fetch(f"SELECT * FROM {t} ORDER BY 1")] for t in TABLES
    }


@pytest.fixture
async def seeded(client: Client) -> Client:
    await put_type(client)
    response = await client.put("/api/v1/agents/dana", json=agent(), headers=AUTH)
    assert response.status == 201
    created = await client.post("/api/v1/tasks", json=task("EXISTING"), headers=AUTH)
    assert created.status == 201
    return client


def _without(body: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != key}


CASES: list[tuple[str, str, str, Any, int, str]] = [
    # (name, method, path, body (str = raw), status, field or code named in the error)
    ("malformed json", "POST", "/api/v1/tasks", '{"source": ', 400, "malformed_json"),
    ("json but not an object", "POST", "/api/v1/tasks", "[1, 2]", 422, "invalid"),
    ("empty body", "POST", "/api/v1/tasks", "", 400, "malformed_json"),
    ("missing title", "POST", "/api/v1/tasks", _without(task("N1"), "title"), 422, "title"),
    ("missing source", "POST", "/api/v1/tasks", _without(task("N1"), "source"), 422, "source"),
    ("empty external id", "POST", "/api/v1/tasks", task(""), 422, "external_id"),
    ("unknown task type", "POST", "/api/v1/tasks", task("N1", type="nope"), 422, "type"),
    ("bad type name", "POST", "/api/v1/tasks", task("N1", type="Bad Type"), 422, "type"),
    ("naive due_at", "POST", "/api/v1/tasks", task("N1", due_at="2026-11-24T17:00"), 422, "due_at"),
    ("value not a number", "POST", "/api/v1/tasks", task("N1", value="lots"), 422, "value"),
    ("payload not an object", "POST", "/api/v1/tasks", task("N1", payload=[1]), 422, "payload"),
    ("unknown field", "POST", "/api/v1/tasks", task("N1", priority=5), 422, "priority"),
    (
        "conflicting repeat",
        "POST",
        "/api/v1/tasks",
        task("EXISTING", title="x"),
        422,
        "idempotency_conflict",
    ),
    (
        "batch with bad item",
        "POST",
        "/api/v1/tasks/batch",
        {"tasks": [task("N1"), _without(task("N2"), "type")]},
        422,
        "tasks.1.type",
    ),
    ("empty batch", "POST", "/api/v1/tasks/batch", {"tasks": []}, 422, "tasks"),
    (
        "task type: negative sla",
        "PUT",
        "/api/v1/task-types/t2",
        task_type(sla_minutes=-1),
        422,
        "sla_minutes",
    ),
    (
        "task type: bad skill",
        "PUT",
        "/api/v1/task-types/t2",
        task_type(skills=["A B"]),
        422,
        "skills.0",
    ),
    ("task type: bad name", "PUT", "/api/v1/task-types/Bad%20Name", task_type(), 422, "name"),
    (
        "task type: bad shareable field",
        "PUT",
        "/api/v1/task-types/mortgage_document_check",
        task_type(sla_minutes=5, shareable_fields=["branch", "card number"]),
        422,
        "shareable_fields.1",
    ),
    (
        "task type: shareable field not text",
        "PUT",
        "/api/v1/task-types/mortgage_document_check",
        task_type(sla_minutes=5, shareable_fields=[7]),
        422,
        "shareable_fields.0",
    ),
    (
        "task type: shareable field twice",
        "PUT",
        "/api/v1/task-types/mortgage_document_check",
        task_type(sla_minutes=5, shareable_fields=["branch", "branch"]),
        422,
        "shareable_fields",
    ),
    (
        "agent: proficiency 9",
        "PUT",
        "/api/v1/agents/omar",
        agent(skills={"billing": 9}, slack_user_id="U0OMAR"),
        422,
        "skills.billing",
    ),
    (
        "agent: unknown telephony source",
        "PUT",
        "/api/v1/agents/omar",
        agent(telephony_ids={"avaya": "1"}, slack_user_id="U0OMAR"),
        422,
        "telephony_ids.avaya",
    ),
    (
        "agent: bad slack id",
        "PUT",
        "/api/v1/agents/omar",
        agent(slack_user_id="dana"),
        422,
        "slack_user_id",
    ),
    ("agent: slack id of another agent", "PUT", "/api/v1/agents/omar", agent(), 409, "conflict"),
    (
        "agent: telephony id of another agent",
        "PUT",
        "/api/v1/agents/omar",
        agent(slack_user_id="U0OMAR"),
        409,
        "conflict",
    ),
    ("agent: bad id", "PUT", "/api/v1/agents/-x", agent(slack_user_id="U0X"), 422, "agent_id"),
    ("list: bad status", "GET", "/api/v1/tasks?status=lost", None, 422, "query.status.0"),
    ("list: limit too big", "GET", "/api/v1/tasks?limit=100000", None, 422, "query.limit"),
    ("list: unknown parameter", "GET", "/api/v1/tasks?colour=red", None, 422, "query.colour"),
    ("cancel: unknown field", "POST", "/api/v1/tasks/1/cancel", {"why": "x"}, 422, "why"),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "named"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
async def test_bad_input_is_refused_and_writes_nothing(
    seeded: Client,
    pool: asyncpg.Pool,
    method: str,
    path: str,
    body: Any,
    status: int,
    named: str,
) -> None:
    before = await snapshot(pool)
    kwargs: dict[str, Any] = {"headers": {**AUTH, "Content-Type": "application/json"}}
    if isinstance(body, str):
        kwargs["data"] = body
    elif body is not None:
        kwargs["json"] = body
    response = await seeded.request(method, path, **kwargs)
    assert response.status == status, await response.text()
    error = (await response.json())["error"]
    assert error["message"]
    fields = [f["field"] for f in error["fields"]]
    assert named == error["code"] or named in fields, error
    assert await snapshot(pool) == before


async def test_body_over_the_limit_is_413_and_writes_nothing(
    seeded: Client, pool: asyncpg.Pool
) -> None:
    before = await snapshot(pool)
    huge = task("BIG", payload={"blob": "x" * 70_000})
    response = await seeded.post("/api/v1/tasks", json=huge, headers=AUTH)
    assert response.status == 413
    assert "limit" in (await response.json())["error"]["message"]
    assert await snapshot(pool) == before


async def test_unknown_route_and_method_are_json_errors(seeded: Client) -> None:
    missing = await seeded.get("/api/v1/nothing-here", headers=AUTH)
    assert missing.status == 404
    assert (await missing.json())["error"]["code"] == "not_found"
    wrong = await seeded.delete("/api/v1/tasks", headers=AUTH)
    assert wrong.status == 405
    assert "GET" in wrong.headers["Allow"]


UNSTORABLE = [
    (
        "nul in title",
        '{"source":"s","external_id":"1","type":"mortgage_document_check","title":"a\\u0000b"}',
        "title",
    ),
    (
        "nul in payload",
        '{"source":"s","external_id":"1","type":"mortgage_document_check",'
        '"title":"t","payload":{"k":["x\\u0000"]}}',
        "payload",
    ),
    (
        "lone surrogate",
        '{"source":"s","external_id":"\\ud800","type":"mortgage_document_check","title":"t"}',
        "external_id",
    ),
]


@pytest.mark.parametrize(
    ("raw", "field"), [c[1:] for c in UNSTORABLE], ids=[c[0] for c in UNSTORABLE]
)
async def test_text_postgres_cannot_store_is_422(
    seeded: Client, pool: asyncpg.Pool, raw: str, field: str
) -> None:
    before = await snapshot(pool)
    response = await seeded.post(
        "/api/v1/tasks", data=raw, headers={**AUTH, "Content-Type": "application/json"}
    )
    assert response.status in (400, 422), await response.text()
    assert await snapshot(pool) == before


async def test_an_out_of_range_cursor_is_422(seeded: Client) -> None:
    response = await seeded.get("/api/v1/tasks?cursor=99999999999999999999", headers=AUTH)
    assert response.status == 422

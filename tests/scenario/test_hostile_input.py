"""What a hostile or unlucky client sends gets a 4xx that says why, never a 500 (issue 13)."""

from __future__ import annotations

import json
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot import root
from tests.conftest import AUTH, TOKEN
from tests.support.factories import agent, put_type, task
from tests.support.raw_http import raw_request

Client = TestClient[Any, Any]
JSON = {**AUTH, "Content-Type": "application/json"}


@pytest.fixture
async def seeded(client: Client) -> Client:
    await put_type(client)
    response = await client.put("/api/v1/agents/dana", json=agent(), headers=AUTH)
    assert response.status == 201
    return client


async def _error(response: Any) -> dict[str, Any]:
    body: dict[str, dict[str, Any]] = await response.json()
    return body["error"]


@pytest.mark.parametrize(
    "due_at",
    [
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59-23:59",
        "1969-12-31T23:59:59Z",
        "2100-01-01T00:00:00Z",
        "1970-01-01T00:30:00+01:00",
    ],
)
async def test_a_due_time_outside_the_window_is_422(
    seeded: Client, pool: asyncpg.Pool, due_at: str
) -> None:
    """Year 1 was accepted, then every GET of the task was 500; 9999 with -23:59 was 500."""
    response = await seeded.post("/api/v1/tasks", json=task("Y1", due_at=due_at), headers=AUTH)
    assert response.status == 422, await response.text()
    error = await _error(response)
    assert [f["field"] for f in error["fields"]] == ["due_at"]
    assert "1970-01-01" in error["message"]
    assert await pool.fetchval("SELECT count(*) FROM tasks") == 0


async def test_the_edges_of_the_window_are_accepted(seeded: Client) -> None:
    for n, due_at in enumerate(["1970-01-01T00:00:00Z", "2099-12-31T23:59:59.999999Z"]):
        response = await seeded.post(
            "/api/v1/tasks", json=task(f"EDGE{n}", due_at=due_at), headers=AUTH
        )
        assert response.status == 201, await response.text()
        got = await seeded.get(f"/api/v1/tasks/{(await response.json())['id']}", headers=AUTH)
        assert got.status == 200


NESTED = [
    ("array 5,000 deep", "[" * 5000 + "]" * 5000),
    ("object 5,000 deep", '{"a":' * 5000 + "1" + "}" * 5000),
    ("5,000-digit integer", '{"value": ' + "9" * 5000 + "}"),
    ("NaN", '{"value": NaN}'),
    ("lone surrogate", '{"title": "\\ud800"}'),
    ("not UTF-8", b'{"title": "\xff"}'),
]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/tasks",
        "/api/v1/tasks/batch",
        "/api/v1/agents/omar",
        "/api/v1/agents/dana/schedule",
        "/api/v1/priority-rules/r1",
    ],
)
@pytest.mark.parametrize(("body"), [n[1] for n in NESTED], ids=[n[0] for n in NESTED])
async def test_bodies_too_deep_or_too_large_are_400(
    seeded: Client, path: str, body: str | bytes
) -> None:
    method = "POST" if path.startswith("/api/v1/tasks") else "PUT"
    raw = body.encode() if isinstance(body, str) else body
    response = await seeded.request(method, path, data=raw, headers=JSON)
    assert response.status == 400, await response.text()
    assert (await _error(response))["code"] == "malformed_json"


async def test_a_body_nested_100000_deep_is_400(pool: asyncpg.Pool) -> None:
    """With a body limit that lets it in (the default is 1 MiB)."""
    app = root.http_app(pool, tokens=[TOKEN], max_body_bytes=1024 * 1024)
    async with TestClient(TestServer(app.web)) as big:
        body = "[" * 100_000 + "]" * 100_000
        for path in ("/api/v1/tasks", "/api/v1/tasks/batch"):
            response = await big.post(path, data=body, headers=JSON)
            assert response.status == 400, await response.text()
            assert "nested deeper than 200" in (await _error(response))["message"]


@pytest.mark.parametrize(
    "token",
    [b"Bearer \xff\xfe", b"Bearer caf\xc3\xa9", b"\xff", b"Bearer " + TOKEN.encode() + b"\x80"],
)
async def test_a_bearer_token_with_non_ascii_bytes_is_401(client: Client, token: bytes) -> None:
    status, body = await raw_request(client, "GET", "/api/v1/tasks", [b"Authorization: " + token])
    assert status == 401, body
    assert json.loads(body)["error"]["code"] == "unauthorized"


async def test_reassigning_to_an_unknown_agent_is_404(seeded: Client, pool: asyncpg.Pool) -> None:
    created = await seeded.post("/api/v1/tasks", json=task("R1"), headers=AUTH)
    task_id = (await created.json())["id"]
    response = await seeded.post(
        f"/api/v1/tasks/{task_id}/reassign",
        json={"to_agent_id": "nobody", "by": "sam"},
        headers=AUTH,
    )
    assert response.status == 404, await response.text()
    error = await _error(response)
    assert error["code"] == "not_found"
    assert "nobody" in error["message"]
    status = await pool.fetchval("SELECT status FROM tasks WHERE id = $1", task_id)
    assert status == "queued"


COERCED: list[tuple[str, str, str, Any, str]] = [
    ("minutes true", "POST", "/api/v1/agents/dana/next", {"minutes": True}, "minutes"),
    (
        "cost_per_hour false",
        "PUT",
        "/api/v1/agents/omar",
        agent(slack_user_id="U0OMAR", telephony_ids={}, cost_per_hour=False),
        "cost_per_hour",
    ),
    ("proficiency true", "PUT", "/api/v1/agents/omar", agent(skills={"x": True}), "skills.x"),
    (
        "schedule end 0",
        "PUT",
        "/api/v1/agents/dana/schedule",
        {"end": 0, "items": []},
        "end",
    ),
    (
        "schedule entry start as a number",
        "PUT",
        "/api/v1/agents/dana/schedule",
        {"items": [{"kind": "shift", "start": 1772438400, "end": "2026-03-02T16:00:00Z"}]},
        "items.0.start",
    ),
    ("due_at as a number", "POST", "/api/v1/tasks", task("C1", due_at=1772438400), "due_at"),
    (
        "due_at as a numeric string",
        "POST",
        "/api/v1/tasks",
        task("C1", due_at="1772438400"),
        "due_at",
    ),
    ("value true", "POST", "/api/v1/tasks", task("C1", value=True), "value"),
    ("title a number", "POST", "/api/v1/tasks", task("C1", title=5), "title"),
    (
        "override a string",
        "POST",
        "/api/v1/tasks/1/reassign",
        {"to_agent_id": "dana", "by": "s", "override": "yes"},
        "override",
    ),
    ("from 0.5", "GET", "/api/v1/queues/q/intervals?from=0.5", None, "query.from"),
    (
        "from a Unix time",
        "GET",
        "/api/v1/queues/q/intervals?from=1772438400&to=1772524800",
        None,
        "query.from",
    ),
    ("forecast from 0", "GET", "/api/v1/queues/q/forecast?from=0", None, "query.from"),
    (
        "from year 1",
        "GET",
        "/api/v1/queues/q/intervals?from=0001-01-01T00:00:00Z",
        None,
        "query.from",
    ),
    (
        "rule until year 9999",
        "PUT",
        "/api/v1/priority-rules/r1",
        {"when": "true", "boost": 5, "author": "sam", "until": "9999-12-31T23:59:59-23:59"},
        "until",
    ),
    (
        "schedule in year 1",
        "PUT",
        "/api/v1/agents/dana/schedule",
        {
            "items": [
                {"kind": "shift", "start": "0001-01-01T08:00:00Z", "end": "0001-01-01T09:00:00Z"}
            ]
        },
        "items.0.start",
    ),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [c[1:] for c in COERCED],
    ids=[c[0] for c in COERCED],
)
async def test_no_value_is_coerced_into_another_type(
    seeded: Client, method: str, path: str, body: Any, field: str
) -> None:
    created = await seeded.post("/api/v1/tasks", json=task("EXISTING"), headers=AUTH)
    assert created.status == 201
    response = await seeded.request(method, path, json=body, headers=AUTH)
    assert response.status == 422, await response.text()
    fields = [f["field"] for f in (await _error(response))["fields"]]
    assert field in fields


async def test_database_error_text_never_reaches_a_client(
    seeded: Client, pool: asyncpg.Pool
) -> None:
    """Conflicts and failures a database reports are said in the service's own words."""
    first = await seeded.put(
        "/api/v1/agents/omar", json=agent(slack_user_id="U0OMAR", telephony_ids={}), headers=AUTH
    )
    assert first.status == 201
    taken = await seeded.put(
        "/api/v1/agents/ben", json=agent(slack_user_id="U0OMAR", telephony_ids={}), headers=AUTH
    )
    assert taken.status == 409
    answers = [await taken.text()]
    for payload in ('{"x": 1e999}', '{"x": NaN}', '{"x": [-1e400]}'):
        raw = json.dumps(task("P1", payload={})).replace('"payload": {}', f'"payload": {payload}')
        refused = await seeded.post("/api/v1/tasks", data=raw, headers=JSON)
        assert refused.status in (400, 422), await refused.text()
        answers.append(await refused.text())
    for text in answers:
        for words in (
            "Key (",
            "violates",
            "constraint",
            "duplicate key",
            "syntax for type",
            "DETAIL",
        ):
            assert words not in text, text
    assert await pool.fetchval("SELECT count(*) FROM tasks") == 0


async def test_the_net_under_validation_does_not_repeat_the_database(pool: asyncpg.Pool) -> None:
    """Should a value the database refuses get past validation, the client is not told the
    database's words."""
    from aiohttp import web

    from bot.http.errors import error_middleware
    from bot.http.keys import MAX_BODY

    async def refused(request: web.Request) -> web.Response:
        raise asyncpg.DataError('invalid input syntax for type json DETAIL: Token "secret"')

    app = web.Application(middlewares=[error_middleware])
    app[MAX_BODY] = 1024
    app.router.add_get("/x", refused)
    async with TestClient(TestServer(app)) as client:
        response = await client.get("/x")
        assert response.status == 422
        assert "secret" not in await response.text()
        assert "syntax" not in await response.text()


async def test_the_limits_the_code_enforces_are_in_the_document(client: Client) -> None:
    document = await (await client.get("/api/v1/openapi.json")).json()
    schemas = document["components"]["schemas"]
    due_at = schemas["TaskIn"]["properties"]["due_at"]["anyOf"][0]
    assert due_at["formatMinimum"] == "1970-01-01T00:00:00Z"
    assert due_at["formatExclusiveMaximum"] == "2100-01-01T00:00:00Z"
    assert schemas["TaskIn"]["properties"]["title"]["pattern"] == r"\S"
    assert schemas["TaskIn"]["properties"]["title"]["minLength"] == 1
    assert "24 hours" in schemas["ScheduleEntry"]["properties"]["end"]["description"]
    assert "after `start`" in schemas["Schedule"]["properties"]["end"]["description"].lower()
    intervals = document["paths"]["/api/v1/queues/{queue}/intervals"]["get"]["parameters"]
    to = next(p for p in intervals if p["name"] == "to")
    assert "after `from`" in to["description"]
    assert to["schema"]["anyOf"][0]["formatMinimum"] == "1970-01-01T00:00:00Z"
    limits = document["info"]["description"]
    for words in ("200 levels", "4,300 digits", "1970-01-01", "24 hours", "must not be blank"):
        assert words in limits

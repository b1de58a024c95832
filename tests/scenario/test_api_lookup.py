"""``GET /api/v1/tasks`` as customers ask: by task id, customer ref or a source's id; by
holder and due date; each lookup audited; bad parameters 422 with a clear message."""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import quote

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import AUTH, TOKEN
from tests.support.factories import agent, put_type, task

Client = TestClient[Any, Any]
FINGERPRINT = "token:" + hashlib.sha256(TOKEN.encode()).hexdigest()[:12]


async def _create(client: Client, **body: Any) -> int:
    response = await client.post("/api/v1/tasks", json=task(**body), headers=AUTH)
    assert response.status == 201, await response.text()
    return int((await response.json())["id"])


async def _ids(client: Client, query: str) -> list[int]:
    response = await client.get(f"/api/v1/tasks?{query}", headers=AUTH)
    assert response.status == 200, await response.text()
    return [t["id"] for t in (await response.json())["items"]]


@pytest.fixture
async def tasks(client: Client) -> dict[str, int]:
    await put_type(client)
    made = {
        "app": await _create(client, external_id="APP-1042", due_at="2026-11-24T09:00:00Z"),
        "other_source": await _create(
            client,
            external_id="APP-1042",
            source="loans-system",
            customer_ref="CUST-7",
            due_at="2026-11-24T12:00:00Z",
        ),
        "late": await _create(
            client, external_id="APP-2000", customer_ref="CUST-9", due_at="2026-11-25T09:00:00Z"
        ),
    }
    return made


async def test_find_by_what_the_customer_quotes(client: Client, tasks: dict[str, int]) -> None:
    app, other, late = tasks["app"], tasks["other_source"], tasks["late"]
    assert await _ids(client, "q=APP-1042") == [other, app]  # both sources' APP-1042
    assert await _ids(client, "external_id=APP-1042&source=loans-system") == [other]
    assert await _ids(client, "q=CUST-9") == [late]
    assert await _ids(client, f"q={app}") == [app]
    assert await _ids(client, f"q={quote(f'#{late}')}") == [late]
    assert await _ids(client, "q=NOPE-1") == []
    # The existing parameters keep their names and combine with the new ones.
    assert await _ids(client, "customer_ref=CUST-88&status=queued") == [app]
    assert await _ids(client, "q=APP-1042&customer_ref=CUST-7") == [other]


async def test_filter_by_holder_and_due_date(client: Client, tasks: dict[str, int]) -> None:
    response = await client.put("/api/v1/agents/dana", json=agent(), headers=AUTH)
    assert response.status == 201
    offer = await client.post("/api/v1/agents/dana/next", json={"minutes": 60}, headers=AUTH)
    assert offer.status == 200, await offer.text()
    held = (await offer.json())["offer"]["task_id"]
    assert await _ids(client, "holder=dana") == [held]
    assert await _ids(client, "holder=nobody") == []
    app, other, late = tasks["app"], tasks["other_source"], tasks["late"]
    assert await _ids(client, "due_before=2026-11-24T12:00:00Z") == [app]
    assert await _ids(client, "due_after=2026-11-24T12:00:00Z") == [late, other]
    window = "due_after=2026-11-24T08:00:00Z&due_before=2026-11-24T13:00:00Z"
    assert await _ids(client, window) == [other, app]
    # An offset's '+' sent unencoded arrives as a space: it is read as the '+' it was.
    assert await _ids(client, "due_before=2026-11-24T14:00:00+02:00") == [app]
    assert await _ids(client, f"due_before={quote('2026-11-24T14:00:00+02:00')}") == [app]


BAD = [
    ("naive time", "due_before=2026-11-24T12:00:00", "query.due_before", "needs a time zone"),
    ("not a time", "due_after=yesterday", "query.due_after", "ISO 8601"),
    (
        "empty range",
        "due_after=2026-11-25T00:00:00Z&due_before=2026-11-24T00:00:00Z",
        "query.due_after",
        "earlier than due_before",
    ),
    ("bad holder", "holder=not%20an%20id", "query.holder", "pattern"),
    ("empty q", "q=", "query.q", "at least 1 character"),
    ("long q", "q=" + "x" * 201, "query.q", "at most 200 characters"),
    ("nul in q", "q=a%00b", "query", "NUL"),
    ("q twice", "q=a&q=b", None, "more than once"),
    ("bad cursor", "cursor=abc", "query.cursor", "integer"),
]


@pytest.mark.parametrize(("query", "field", "words"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
async def test_bad_parameters_are_422_with_a_clear_message(
    client: Client, pool: asyncpg.Pool, query: str, field: str | None, words: str
) -> None:
    response = await client.get(f"/api/v1/tasks?{query}", headers=AUTH)
    assert response.status == 422, await response.text()
    error = (await response.json())["error"]
    assert words in error["message"], error
    if field is not None:
        assert any(f["field"].startswith(field) for f in error["fields"]), error
    assert await pool.fetchval("SELECT count(*) FROM task_lookups") == 0


async def test_every_lookup_is_audited_with_the_tokens_fingerprint(
    client: Client, pool: asyncpg.Pool, tasks: dict[str, int]
) -> None:
    await _ids(client, "q=APP-1042")
    detail = await client.get(f"/api/v1/tasks/{tasks['late']}", headers=AUTH)
    assert detail.status == 200
    missing = await client.get("/api/v1/tasks/999999", headers=AUTH)
    assert missing.status == 404
    rows = await pool.fetch(
        "SELECT surface, actor, query, allowed, found FROM task_lookups ORDER BY id"
    )
    assert [(r["surface"], r["actor"], r["allowed"]) for r in rows] == [
        ("api", FINGERPRINT, True)
    ] * 3
    assert rows[0]["query"] == {"q": "APP-1042"}
    assert sorted(rows[0]["found"]) == sorted([tasks["app"], tasks["other_source"]])
    assert (rows[1]["query"], rows[1]["found"]) == ({"id": tasks["late"]}, [tasks["late"]])
    assert (rows[2]["query"], rows[2]["found"]) == ({"id": 999999}, [])
    assert TOKEN not in str([dict(r) for r in rows])


async def test_the_task_detail_has_an_eta_with_its_basis_from_day_one(
    client: Client, tasks: dict[str, int]
) -> None:
    path = f"/api/v1/tasks/{tasks['app']}"
    response = await client.put("/api/v1/agents/dana", json=agent(), headers=AUTH)
    assert response.status == 201
    detail = await (await client.get(path, headers=AUTH)).json()
    assert detail["eta"] is not None, detail["eta_basis"]
    assert "no forecast of spare agent time yet" in detail["eta_basis"]


async def test_the_openapi_document_lists_the_lookup_parameters(client: Client) -> None:
    document = await (await client.get("/api/v1/openapi.json")).json()
    operation = document["paths"]["/api/v1/tasks"]["get"]
    names = [p["name"] for p in operation["parameters"]]
    for name in ("q", "customer_ref", "external_id", "source", "holder", "status", "type"):
        assert name in names
    for name in ("due_before", "due_after", "limit", "cursor"):
        assert name in names
    by_name = {p["name"]: p for p in operation["parameters"]}
    assert "APP-1042" in by_name["q"]["description"]
    assert "time zone" in by_name["due_before"]["description"]
    assert "audit" in operation["description"]

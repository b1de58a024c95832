"""The task intake and lookup API, against a real database."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import AUTH
from tests.support.factories import put_type, task

Client = TestClient[Any, Any]


async def test_new_task_is_201_and_repeat_is_200_with_the_same_task(client: Client) -> None:
    await put_type(client)
    first = await client.post("/api/v1/tasks", json=task(), headers=AUTH)
    assert first.status == 201
    created = await first.json()
    assert first.headers["Location"] == f"/api/v1/tasks/{created['id']}"
    assert created["status"] == "queued"
    assert created["holder"] is None
    again = await client.post("/api/v1/tasks", json=task(), headers=AUTH)
    assert again.status == 200
    assert (await again.json())["id"] == created["id"]


async def test_same_key_with_a_different_body_is_422_and_changes_nothing(
    client: Client, pool: asyncpg.Pool
) -> None:
    await put_type(client)
    await client.post("/api/v1/tasks", json=task(), headers=AUTH)
    response = await client.post("/api/v1/tasks", json=task(title="Other"), headers=AUTH)
    assert response.status == 422
    body = await response.json()
    assert body["error"]["code"] == "idempotency_conflict"
    assert await pool.fetchval("SELECT title FROM tasks") == "Check payslips"
    assert await pool.fetchval("SELECT count(*) FROM task_events") == 1


async def test_twenty_concurrent_identical_posts_make_one_task(
    client: Client, pool: asyncpg.Pool
) -> None:
    await put_type(client)
    responses = await asyncio.gather(
        *(client.post("/api/v1/tasks", json=task(), headers=AUTH) for _ in range(20))
    )
    statuses = sorted(r.status for r in responses)
    assert statuses == [200] * 19 + [201]
    ids = {(await r.json())["id"] for r in responses}
    assert len(ids) == 1
    assert await pool.fetchval("SELECT count(*) FROM tasks") == 1
    assert await pool.fetchval("SELECT count(*) FROM task_events") == 1


async def test_due_at_defaults_from_the_type_sla(client: Client) -> None:
    await put_type(client, sla_minutes=90)
    before = datetime.now(UTC)
    response = await client.post("/api/v1/tasks", json=task(due_at=None), headers=AUTH)
    due = datetime.fromisoformat((await response.json())["due_at"])
    assert before + timedelta(minutes=89) < due < datetime.now(UTC) + timedelta(minutes=91)


async def test_only_required_fields(client: Client) -> None:
    await put_type(client)
    body = {"source": "s", "external_id": "1", "type": "mortgage_document_check", "title": "T"}
    response = await client.post("/api/v1/tasks", json=body, headers=AUTH)
    assert response.status == 201
    created = await response.json()
    assert created["payload"] == {}
    assert created["customer_ref"] is None


async def test_get_task_has_status_and_timeline(client: Client) -> None:
    await put_type(client)
    created = await (await client.post("/api/v1/tasks", json=task(), headers=AUTH)).json()
    cancel = await client.post(
        f"/api/v1/tasks/{created['id']}/cancel",
        json={"reason": "customer withdrew", "by": "supervisor.ana"},
        headers=AUTH,
    )
    assert cancel.status == 200
    detail = await (await client.get(f"/api/v1/tasks/{created['id']}", headers=AUTH)).json()
    assert detail["status"] == "cancelled"
    timeline = detail["timeline"]
    assert [e["event"] for e in timeline] == ["created", "cancelled"]
    assert timeline[1]["from_status"] == "queued"
    assert timeline[1]["to_status"] == "cancelled"
    assert timeline[1]["actor"] == "supervisor.ana"
    assert timeline[1]["reason"] == "customer withdrew"
    assert timeline[0]["at"] <= timeline[1]["at"]


async def test_cancel_twice_is_409_with_the_current_state(client: Client) -> None:
    await put_type(client)
    created = await (await client.post("/api/v1/tasks", json=task(), headers=AUTH)).json()
    url = f"/api/v1/tasks/{created['id']}/cancel"
    assert (await client.post(url, headers=AUTH)).status == 200
    again = await client.post(url, headers=AUTH)
    assert again.status == 409
    assert (await again.json())["error"]["current_status"] == "cancelled"


async def test_concurrent_cancels_write_one_event(client: Client, pool: asyncpg.Pool) -> None:
    await put_type(client)
    created = await (await client.post("/api/v1/tasks", json=task(), headers=AUTH)).json()
    url = f"/api/v1/tasks/{created['id']}/cancel"
    responses = await asyncio.gather(*(client.post(url, headers=AUTH) for _ in range(10)))
    assert sorted(r.status for r in responses) == [200] + [409] * 9
    events = await pool.fetchval("SELECT count(*) FROM task_events WHERE event = 'cancelled'")
    assert events == 1


async def test_unknown_task_is_404(client: Client) -> None:
    assert (await client.get("/api/v1/tasks/999", headers=AUTH)).status == 404
    assert (await client.post("/api/v1/tasks/999/cancel", headers=AUTH)).status == 404
    assert (await client.get("/api/v1/tasks/abc", headers=AUTH)).status == 404


async def test_list_filters_and_pages(client: Client) -> None:
    await put_type(client)
    await put_type(client, "billing_correction", skills=["billing"])
    for n in range(7):
        kind = "billing_correction" if n % 2 else "mortgage_document_check"
        body = task(f"K-{n}", type=kind, customer_ref="CUST-1" if n < 5 else "CUST-2")
        assert (await client.post("/api/v1/tasks", json=body, headers=AUTH)).status == 201
    seen: list[int] = []
    cursor = ""
    while True:
        page = await (
            await client.get(f"/api/v1/tasks?customer_ref=CUST-1&limit=2{cursor}", headers=AUTH)
        ).json()
        seen += [item["id"] for item in page["items"]]
        if page["next_cursor"] is None:
            break
        cursor = f"&cursor={page['next_cursor']}"
    assert len(seen) == 5
    assert seen == sorted(seen, reverse=True)
    typed = await (await client.get("/api/v1/tasks?type=billing_correction", headers=AUTH)).json()
    assert len(typed["items"]) == 3
    assert {i["type"] for i in typed["items"]} == {"billing_correction"}
    first = typed["items"][0]["id"]
    await client.post(f"/api/v1/tasks/{first}/cancel", headers=AUTH)
    cancelled = await (await client.get("/api/v1/tasks?status=cancelled", headers=AUTH)).json()
    assert [i["id"] for i in cancelled["items"]] == [first]
    open_ = await (
        await client.get("/api/v1/tasks?status=queued,offered&limit=100", headers=AUTH)
    ).json()
    assert len(open_["items"]) == 6


async def test_batch_creates_and_is_idempotent(client: Client) -> None:
    await put_type(client)
    batch = {"tasks": [task("B-1"), task("B-2"), task("B-1")]}
    response = await client.post("/api/v1/tasks/batch", json=batch, headers=AUTH)
    assert response.status == 200
    results = (await response.json())["results"]
    assert [r["created"] for r in results] == [True, True, False]
    assert results[0]["task"]["id"] == results[2]["task"]["id"]
    again = await (await client.post("/api/v1/tasks/batch", json=batch, headers=AUTH)).json()
    assert [r["created"] for r in again["results"]] == [False, False, False]


async def test_batch_with_one_bad_task_stores_none(client: Client, pool: asyncpg.Pool) -> None:
    await put_type(client)
    batch = {"tasks": [task("B-1"), task("B-2", type="nope"), task("B-3")]}
    response = await client.post("/api/v1/tasks/batch", json=batch, headers=AUTH)
    assert response.status == 422
    body = await response.json()
    assert [f["field"] for f in body["error"]["fields"]] == ["tasks.1"]
    assert "nope" in body["error"]["fields"][0]["message"]
    assert await pool.fetchval("SELECT count(*) FROM tasks") == 0
    assert await pool.fetchval("SELECT count(*) FROM task_events") == 0


async def test_event_log_is_append_only(client: Client, pool: asyncpg.Pool) -> None:
    await put_type(client)
    await client.post("/api/v1/tasks", json=task(), headers=AUTH)
    for statement in ("UPDATE task_events SET actor = 'x'", "DELETE FROM task_events"):
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await pool.execute(statement)
    assert await pool.fetchval("SELECT actor FROM task_events") == "api"

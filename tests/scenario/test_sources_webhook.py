"""Task sources through the API and the generic webhook: configuration without secrets shown,
signed deliveries into tasks, repeats, forgeries, rejects and their retry, updates and closes."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import asyncpg
from aiohttp.test_utils import TestClient

from queues.tasks import Tasks
from tests.conftest import AUTH
from tests.support.slack import DANA, Harness, seed
from tests.support.sources import SECRET, billing_type, count, put_source, take, webhook

Client = TestClient[Any, Any]
RECORD = {"id": "R-1", "type": "billing", "title": "Refund check", "customer_tier": "gold"}


async def test_a_source_is_configured_and_its_secret_never_shown(client: Client) -> None:
    made = await client.put(
        "/api/v1/sources/crm",
        json={"kind": "webhook", "secret": SECRET, "credentials": {"token": "tok-secret"}},
        headers=AUTH,
    )
    assert made.status == 201
    shown = await (await client.get("/api/v1/sources/crm", headers=AUTH)).text()
    assert SECRET not in shown
    assert "tok-secret" not in shown
    got = await (await client.get("/api/v1/sources/crm", headers=AUTH)).json()
    assert got["secret_set"]
    assert got["credentials"] == ["token"]
    assert got["mapping"]["title"] == "event.title"
    assert got["write_back"]["events"] == []  # no api_url: nothing goes back
    listed = await (await client.get("/api/v1/sources", headers=AUTH)).json()
    assert [s["name"] for s in listed["items"]] == ["crm"]
    assert "webhook" in listed["kinds"]
    assert "due_at" in listed["fields"]
    again = await client.put(
        "/api/v1/sources/crm", json={"kind": "webhook", "mapping": {}}, headers=AUTH
    )
    assert again.status == 200
    assert (await again.json())["secret_set"]
    assert (await client.delete("/api/v1/sources/crm", headers=AUTH)).status == 200
    assert (await client.get("/api/v1/sources/crm", headers=AUTH)).status == 404


async def test_deliveries_arriving_together_are_applied_as_one_by_one(
    client: Client, pool: asyncpg.Pool
) -> None:
    """Many deliveries at once (written together): each new record one task, each repeat a
    duplicate, a change of a record delivered alongside it an update, an unknown type a reject
    that does not count as applied."""
    await billing_type(pool)
    await put_source(client, "crm", kind="webhook", secret=SECRET)
    records = [{**RECORD, "id": f"R-{n}", "title": f"Refund {n}"} for n in range(40)]
    sent = [webhook(client, "crm", r, delivery=f"d-{r['id']}") for r in records]
    sent += [webhook(client, "crm", r, delivery=f"d-{r['id']}") for r in records[:10]]
    changed = {**records[0], "customer_tier": "platinum"}
    sent.append(webhook(client, "crm", changed, delivery="d-R-0-changed"))
    sent.append(webhook(client, "crm", {**RECORD, "id": "X-1", "type": "nope"}, delivery="d-X"))
    answers = await asyncio.gather(*sent)
    outcomes = [(await a.json())["deliveries"][0] for a in answers]
    assert all(a.status == 200 for a in answers)
    by_record: dict[str, list[str]] = {}
    for record_id, outcome in zip(
        [r["id"] for r in records] + [r["id"] for r in records[:10]] + ["R-0", "X-1"],
        outcomes,
        strict=True,
    ):
        by_record.setdefault(record_id, []).append(outcome["outcome"])
    assert await count(pool, "tasks") == 40
    for n in range(1, 10):
        assert sorted(by_record[f"R-{n}"]) == ["created", "duplicate"]
    assert sorted(by_record["R-0"]) in (
        ["created", "duplicate", "updated"],
        ["created", "duplicate", "unchanged"],  # the change came first: the record is new
    )
    assert by_record["X-1"] == ["rejected"]
    task = await Tasks(pool).by_key("crm", "R-0")
    assert task is not None
    assert task.customer_tier in ("platinum", "gold")
    applied = await pool.fetchval("SELECT count(*) FROM source_deliveries WHERE source = 'crm'")
    assert applied == 41  # 40 records and the change; not the repeats nor the reject
    await billing_type(pool, "nope")
    reject_id = outcomes[-1]["reject_id"]
    retried = await client.post(f"/api/v1/sources/crm/rejects/{reject_id}/retry", headers=AUTH)
    assert (await retried.json())["deliveries"][0]["outcome"] == "created"


async def test_a_bad_configuration_is_refused_naming_the_field(client: Client) -> None:
    async def refused(body: dict[str, Any]) -> dict[str, Any]:
        response = await client.put("/api/v1/sources/crm", json=body, headers=AUTH)
        assert response.status == 422, await response.text()
        field: dict[str, Any] = (await response.json())["error"]["fields"][0]
        return field

    bad = await refused(
        {"kind": "webhook", "secret": SECRET, "mapping": {"title": 'event.title +\n "x" +'}}
    )
    assert (bad["field"], bad["line"]) == ("mapping.title", 2)
    assert bad["column"] > 0
    assert (await refused({"kind": "fax", "secret": SECRET}))["field"] == "kind"
    assert (await refused({"kind": "webhook"}))["field"] == "secret"
    no_url = {"kind": "webhook", "secret": SECRET, "write_back": {"events": ["completed"]}}
    assert (await refused(no_url))["field"] == "api_url"
    assert (await client.get("/api/v1/sources/crm", headers=AUTH)).status == 404


async def test_signed_deliveries_make_one_task_and_forgeries_nothing(
    client: Client, pool: asyncpg.Pool
) -> None:
    await billing_type(pool)
    await put_source(client, "crm", kind="webhook", secret=SECRET)
    first = await webhook(client, "crm", RECORD, delivery="d-1")
    assert first.status == 200
    outcome = (await first.json())["deliveries"][0]
    assert outcome["outcome"] == "created"
    repeat = await webhook(client, "crm", RECORD, delivery="d-1")
    assert (await repeat.json())["deliveries"][0]["outcome"] == "duplicate"
    task = await Tasks(pool).one(outcome["task_id"])
    assert task is not None
    assert (task.source, task.external_id, task.customer_tier) == ("crm", "R-1", "gold")

    forged = await webhook(client, "crm", {**RECORD, "id": "R-2"}, secret="not-the-secret")
    stale = await webhook(client, "crm", {**RECORD, "id": "R-3"}, at=time.time() - 600)
    unsigned = await client.post("/sources/crm/events", json={**RECORD, "id": "R-4"})
    assert (forged.status, stale.status, unsigned.status) == (401, 401, 401)
    assert "stale" in (await stale.json())["error"]["message"]
    assert await count(pool, "tasks") == 1
    assert await count(pool, "source_rejects") == 0
    assert await count(pool, "source_deliveries") == 1
    assert (await webhook(client, "nobody", RECORD)).status == 404
    metrics = await (await client.get("/metrics")).text()
    assert 'blendbot_source_deliveries_total{outcome="duplicate",source="crm"} 1.0' in metrics
    assert 'blendbot_source_deliveries_total{outcome="unauthenticated",source="crm"} 3.0' in metrics


async def test_a_reject_is_kept_and_made_into_a_task_once_the_mapping_is_fixed(
    client: Client, pool: asyncpg.Pool
) -> None:
    await billing_type(pool)
    await put_source(client, "crm", kind="webhook", secret=SECRET)
    record = {"number": "N-7", "kind": "billing", "subject": "Chargeback"}
    kept = await (await webhook(client, "crm", record, delivery="d-7")).json()
    assert kept["deliveries"][0]["outcome"] == "rejected"
    assert "external_id" in kept["deliveries"][0]["reason"]
    not_json = await client.post("/sources/crm/events", data=b"<xml/>", headers=_signed(b"<xml/>"))
    assert (await not_json.json())["deliveries"][0]["outcome"] == "rejected"
    rejects = await (await client.get("/api/v1/sources/crm/rejects", headers=AUTH)).json()
    assert [r["delivery_id"] for r in rejects["items"]][1] == "d-7"
    reject = rejects["items"][1]
    assert reject["event"] == record
    assert reject["field"] == "external_id"

    path = f"/api/v1/sources/crm/rejects/{reject['id']}/retry"
    still = await client.post(path, headers=AUTH)
    assert still.status == 422
    fix = {"external_id": "event.number", "type": "event.kind", "title": "event.subject"}
    preview = await client.post(
        "/api/v1/sources/crm/preview", json={"event": record, "mapping": fix}, headers=AUTH
    )
    assert (await preview.json())["task"]["external_id"] == "N-7"
    assert await count(pool, "tasks") == 0  # a preview writes nothing
    await put_source(client, "crm", kind="webhook", mapping=fix)
    retried = await client.post(path, headers=AUTH)
    assert retried.status == 200, await retried.text()
    made = (await retried.json())["deliveries"][0]
    assert made["outcome"] == "created"
    assert (await client.post(path, headers=AUTH)).status == 200  # already applied: no new task
    assert await count(pool, "tasks") == 1
    open_rejects = await (await client.get("/api/v1/sources/crm/rejects", headers=AUTH)).json()
    assert [r["delivery_id"] for r in open_rejects["items"]] != ["d-7"]
    vendor_again = await webhook(client, "crm", record, delivery="d-7")
    assert (await vendor_again.json())["deliveries"][0]["outcome"] == "duplicate"


async def test_an_update_changes_the_queued_task_and_a_close_cancels_it(
    client: Client, pool: asyncpg.Pool
) -> None:
    await billing_type(pool)
    await put_source(client, "crm", kind="webhook", secret=SECRET)
    made = await (await webhook(client, "crm", RECORD)).json()
    task_id = made["deliveries"][0]["task_id"]
    changed = {**RECORD, "customer_tier": "platinum", "due_at": "2030-01-01T00:00:00Z"}
    updated = await (await webhook(client, "crm", changed)).json()
    assert updated["deliveries"][0]["outcome"] == "updated"
    task = await Tasks(pool).one(task_id)
    assert task is not None
    assert task.customer_tier == "platinum"
    assert task.due_at.year == 2030
    closed = await (await webhook(client, "crm", {**RECORD, "action": "close"})).json()
    assert closed["deliveries"][0]["outcome"] == "closed"
    task = await Tasks(pool).one(task_id)
    assert task is not None
    assert task.status == "cancelled"
    unknown = await (await webhook(client, "crm", {**RECORD, "id": "X", "action": "close"})).json()
    assert unknown["deliveries"][0]["outcome"] == "unknown_record"


async def test_a_close_of_held_work_tells_its_holder(slack: Harness) -> None:
    pool, client = slack.pool, slack.client
    await seed(pool, tasks=0)
    await put_source(client, "crm", kind="webhook", secret=SECRET)
    made = await (await webhook(client, "crm", RECORD)).json()
    task_id = made["deliveries"][0]["task_id"]
    await take(pool, task_id, "dana")
    closed = await (await webhook(client, "crm", {**RECORD, "action": "close"})).json()
    assert closed["deliveries"][0]["outcome"] == "holder_told"
    task = await Tasks(pool).one(task_id)
    assert task is not None
    assert (task.status, task.holder) == ("in_progress", "dana")
    await slack.drain()
    assert any("was closed or deleted" in m["text"] for m in slack.card(DANA))
    timeline = await (await client.get(f"/api/v1/tasks/{task_id}", headers=AUTH)).json()
    assert timeline["timeline"][-1]["event"] == "source_closed"


def _signed(body: bytes) -> dict[str, str]:
    from task_sources.webhook import signed_headers

    return {"Content-Type": "application/json", **signed_headers(SECRET, body)}

"""Salesforce Outbound Messages: the documented SOAP notifications become tasks, each once,
in the record's order, answered with the Ack; the organization is checked; completing the task
updates the Case through the REST API (the stand-in checks the requests)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer

from bot import root
from clock import FixedClock
from queues.lifecycle import Lifecycle
from queues.tasks import Tasks
from standins.answers import Answer
from standins.salesforce import SalesforceApi, outbound_message
from task_sources.outbox import WriteBackOutbox
from tests.conftest import AUTH, TOKEN
from tests.support.sources import billing_type, count, put_source, take

Client = TestClient[Any, Any]
FIXTURE = Path(__file__).parent.parent / "fixtures" / "salesforce_outbound_case.xml"
ORG = "00D5e000000KQ2eEAG"
CASE = "5005e00000ABCdeAAF"
XML = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}


async def deliver(client: Client, body: bytes, name: str = "sf") -> ClientResponse:
    return await client.post(f"/sources/{name}/events", data=body, headers=XML)


def case(nid: str, stamp: str, **fields: str | None) -> tuple[str, dict[str, str | None]]:
    record: dict[str, str | None] = {
        "Id": CASE,
        "CaseNumber": "00001026",
        "IsClosed": "false",
        "Status": "New",
        "Subject": "Refund not received",
        "SystemModstamp": stamp,
    }
    return nid, {**record, **fields}


async def outcomes(pool: asyncpg.Pool) -> list[str]:
    rows = await pool.fetch("SELECT outcome FROM source_deliveries ORDER BY at, delivery_id")
    return [r["outcome"] for r in rows]


async def test_the_documented_message_makes_tasks_and_is_acknowledged(
    client: Client, pool: asyncpg.Pool
) -> None:
    await billing_type(pool, "salesforce_case")
    made = await put_source(client, "sf", kind="salesforce", credentials={"organization_id": ORG})
    assert made["events_url"] == "/sources/sf/events"
    answer = await deliver(client, FIXTURE.read_bytes())
    assert answer.status == 200
    assert answer.content_type == "text/xml"
    ack = await answer.text()
    assert "<notificationsResponse" in ack
    assert "<Ack>true</Ack>" in ack
    assert "soap.sforce.com/2005/09/outbound" in ack
    first = await Tasks(pool).by_key("sf", CASE)
    second = await Tasks(pool).by_key("sf", "5005e00000ABCdfAAF")
    assert first is not None
    assert second is not None
    assert (first.type, first.title, first.customer_ref) == (
        "salesforce_case",
        "Refund not received for order 4471",
        "0015e00000ZkM3hAAF",
    )
    assert first.customer_tier == "High"
    assert first.payload["sobject"] == "Case"
    assert first.payload["record"]["CaseNumber"] == "00001026"
    assert second.customer_ref is None  # a nil field
    # Salesforce sends the same message again (our Ack was lost): nothing new, Ack again.
    again = await deliver(client, FIXTURE.read_bytes())
    assert "<Ack>true</Ack>" in await again.text()
    assert await count(pool, "tasks") == 2
    assert await outcomes(pool) == ["created", "created"]
    metrics = await (await client.get("/metrics")).text()
    assert 'blendbot_source_deliveries_total{outcome="duplicate",source="sf"} 2.0' in metrics


async def test_another_organization_or_no_message_is_refused_and_stored_nowhere(
    client: Client, pool: asyncpg.Pool
) -> None:
    await billing_type(pool, "salesforce_case")
    await put_source(client, "sf", kind="salesforce", credentials={"organization_id": ORG})
    other = outbound_message(
        "00D000000000001AAA", [case("04l000000000001AAA", "2025-03-04T09:00:00Z")]
    )
    assert (await deliver(client, other)).status == 401
    assert (await deliver(client, b"not xml")).status == 401
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 '
        b'"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><lolz>&lol2;</lolz>'
    )
    refused = await deliver(client, bomb)
    assert refused.status == 401
    assert await count(pool, "source_rejects") == 0
    assert await count(pool, "source_deliveries") == 0
    # The 15-character form of the organization id, as Setup shows it, is the same org.
    await put_source(client, "sf", kind="salesforce", credentials={"organization_id": ORG[:15]})
    assert (await deliver(client, FIXTURE.read_bytes())).status == 200
    missing = await client.put("/api/v1/sources/sf2", json={"kind": "salesforce"}, headers=AUTH)
    assert missing.status == 422
    assert (await missing.json())["error"]["fields"][0]["field"] == "credentials.organization_id"


async def test_a_hundred_notifications_in_one_message(client: Client, pool: asyncpg.Pool) -> None:
    await billing_type(pool, "salesforce_case")
    await put_source(client, "sf", kind="salesforce", credentials={"organization_id": ORG})
    many = [
        (f"04l{i:015d}", {"Id": f"500{i:015d}", "Subject": f"Case {i}", "IsClosed": "false"})
        for i in range(100)
    ]
    answer = await deliver(client, outbound_message(ORG, many))
    assert "<Ack>true</Ack>" in await answer.text()
    assert await count(pool, "tasks") == 100
    too_many = [*many, ("04l999999999999AAA", {"Id": "500999999999999AAA"})]
    kept = await deliver(client, outbound_message(ORG, too_many))
    assert kept.status == 200  # kept as a reject: nothing lost, no need to send it again
    rejects = await (await client.get("/api/v1/sources/sf/rejects", headers=AUTH)).json()
    assert "at most 100" in rejects["items"][0]["reason"]


async def test_repeated_and_out_of_order_notifications_keep_the_latest(
    client: Client, pool: asyncpg.Pool
) -> None:
    await billing_type(pool, "salesforce_case")
    await put_source(client, "sf", kind="salesforce", credentials={"organization_id": ORG})
    early = case("04l000000000001AAA", "2025-03-04T09:00:00.000Z", Priority="Low")
    later = case("04l000000000002AAA", "2025-03-04T10:00:00.000Z", Priority="High")
    latest = case("04l000000000003AAA", "2025-03-04T11:00:00.000Z", Priority="Medium")
    await deliver(client, outbound_message(ORG, [later]))
    await deliver(client, outbound_message(ORG, [early]))  # a retry that arrives late
    task = await Tasks(pool).by_key("sf", CASE)
    assert task is not None
    assert task.customer_tier == "High"
    await deliver(client, outbound_message(ORG, [later, latest]))
    task = await Tasks(pool).by_key("sf", CASE)
    assert task is not None
    assert task.customer_tier == "Medium"
    closed = case("04l000000000004AAA", "2025-03-04T12:00:00.000Z", IsClosed="true")
    await deliver(client, outbound_message(ORG, [closed]))
    stale_reopen = case("04l000000000005AAA", "2025-03-04T11:30:00.000Z", Priority="Low")
    await deliver(client, outbound_message(ORG, [stale_reopen]))
    task = await Tasks(pool).by_key("sf", CASE)
    assert task is not None
    assert (task.status, task.customer_tier) == ("cancelled", "Medium")
    assert await outcomes(pool) == ["created", "unchanged", "updated", "closed", "unchanged"]


async def test_a_notification_that_cannot_be_mapped_is_kept_until_the_type_exists(
    client: Client, pool: asyncpg.Pool
) -> None:
    await put_source(client, "sf", kind="salesforce", credentials={"organization_id": ORG})
    answer = await deliver(client, FIXTURE.read_bytes())
    assert "<Ack>true</Ack>" in await answer.text()
    rejects = await (await client.get("/api/v1/sources/sf/rejects", headers=AUTH)).json()
    assert len(rejects["items"]) == 2
    assert {r["field"] for r in rejects["items"]} == {"type"}
    assert rejects["items"][0]["event"]["sObjectType"] == "Case"
    await billing_type(pool, "salesforce_case")
    for reject in rejects["items"]:
        path = f"/api/v1/sources/sf/rejects/{reject['id']}/retry"
        retried = await client.post(path, headers=AUTH)
        assert (await retried.json())["deliveries"][0]["outcome"] == "created"
    assert await count(pool, "tasks") == 2


@dataclass
class Rig:
    client: Client
    pool: asyncpg.Pool
    api: SalesforceApi
    outbox: WriteBackOutbox
    clock: FixedClock
    url: str


@pytest.fixture
async def rig(pool: asyncpg.Pool) -> AsyncIterator[Rig]:
    clock = FixedClock(datetime.now(UTC))
    api = SalesforceApi("3MVG9-client", "client-secret-0123", cases={CASE: {"Status": "New"}})
    server = TestServer(api.app())
    await server.start_server()
    app = root.http_app(pool, root.Parts(clock=clock), tokens=[TOKEN], run_control=False)
    await billing_type(pool, "salesforce_case")
    assert app.writebacks is not None
    try:
        async with TestClient(TestServer(app.web)) as client:
            url = str(server.make_url("")).rstrip("/")
            await put_source(
                client,
                "sf",
                kind="salesforce",
                api_url=url,
                credentials={
                    "organization_id": ORG,
                    "client_id": api.client_id,
                    "client_secret": api.client_secret,
                },
            )
            yield Rig(client, pool, api, app.writebacks, clock, url)
    finally:
        await app.writebacks.close()
        await server.close()


async def test_completing_the_task_closes_the_case_with_a_private_comment(rig: Rig) -> None:
    await deliver(rig.client, FIXTURE.read_bytes())
    task = await Tasks(rig.pool).by_key("sf", CASE)
    assert task is not None
    await take(rig.pool, task.id, "ana")
    await rig.outbox.drain()
    assert rig.api.cases[CASE]["Status"] == "Working"
    rig.api.expire_tokens()  # the session timed out: a new token is asked for, no failure
    await Lifecycle(rig.pool).complete(task.id, "ana", "refunded", "Sent 40 EUR back")
    await rig.outbox.drain()
    assert rig.api.refused == ["401 INVALID_SESSION_ID: Session expired or invalid"]
    assert rig.api.cases[CASE]["Status"] == "Closed"
    assert [(c.parent_id, c.published) for c in rig.api.comments] == [(CASE, False)] * 2
    assert "claimed by ana" in rig.api.comments[0].body
    assert "outcome: refunded" in rig.api.comments[1].body
    assert "Note: Sent 40 EUR back" in rig.api.comments[1].body
    assert rig.api.token_requests == 2
    statuses = await rig.pool.fetch("SELECT status FROM source_writebacks ORDER BY id")
    assert [r["status"] for r in statuses] == ["done", "done"]


async def test_an_outage_of_the_api_during_write_back_is_retried(rig: Rig) -> None:
    await deliver(rig.client, FIXTURE.read_bytes())
    task = await Tasks(rig.pool).by_key("sf", CASE)
    assert task is not None
    rig.api.script = [Answer(503), Answer(503)]
    await take(rig.pool, task.id, "ana")
    await rig.outbox.drain()
    assert rig.api.cases[CASE]["Status"] == "New"
    for _ in range(3):
        rig.clock.advance(timedelta(minutes=5))
        await rig.outbox.drain()
    assert rig.api.cases[CASE]["Status"] == "Working"
    assert len(rig.api.comments) == 1
    row = await rig.pool.fetchrow("SELECT status, attempts FROM source_writebacks")
    assert row is not None
    assert (row["status"], row["attempts"]) == ("done", 3)


async def test_a_status_salesforce_refuses_fails_the_write_back_for_good(rig: Rig) -> None:
    await put_source(
        rig.client,
        "sf",
        kind="salesforce",
        api_url=rig.url,
        write_back={"events": ["completed"], "statuses": {"completed": "Done"}},
    )
    await deliver(rig.client, FIXTURE.read_bytes())
    task = await Tasks(rig.pool).by_key("sf", CASE)
    assert task is not None
    await take(rig.pool, task.id, "ana")
    await Lifecycle(rig.pool).complete(task.id, "ana", "refunded", None)
    await rig.outbox.drain()
    row = await rig.pool.fetchrow("SELECT event, status, last_error FROM source_writebacks")
    assert row is not None
    assert (row["event"], row["status"]) == ("completed", "failed")
    assert "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST" in row["last_error"]
    assert rig.api.cases[CASE]["Status"] == "New"

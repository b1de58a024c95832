"""One record that cannot be used never sinks the records beside it (issue 13).

Each feed keeps its own contract (Firehose: a 200 with the request id means delivered); a
record that cannot be stored is set aside with the reason, counted in ``/metrics``, and shown
by ``GET /api/v1/feeds/rejected``; nothing valid is lost, nothing is stored twice.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot import root
from bot.http.feeds import FeedConfig
from clock import FixedClock
from tests.conftest import AUTH, TOKEN
from tests.scenario.telephony.test_feeds_http import (
    FIREHOSE_KEY,
    NOW,
    firehose_body,
    firehose_headers,
    generic_event,
)
from tests.support.raw_http import raw_request
from tests.support.samples import load

Client = TestClient[Any, Any]
AGENT_EVENT = load("amazon_connect_agent_event_state_change_acw_exit.json")
YEAR_ONE = {
    "type": "call_arrived",
    "event_id": "e-y1",
    "at": "0001-01-01T00:00:00Z",
    "queue": "q",
    "call_id": "c-y1",
}


@pytest.fixture
async def feeds(pool: asyncpg.Pool) -> AsyncIterator[Client]:
    """The feeds with a body limit of 1 MiB, the default, so that big bodies reach them."""
    wired = root.Parts(feeds=FeedConfig(firehose_access_key=FIREHOSE_KEY), clock=FixedClock(NOW))
    app = root.http_app(pool, wired, tokens=[TOKEN], max_body_bytes=1024 * 1024)
    async with TestClient(TestServer(app.web)) as client:
        yield client


async def _count(pool: asyncpg.Pool, table: str) -> int:
    value: int = await pool.fetchval(f"SELECT count(*) FROM {table}")
    return value


async def _rejected_metric(client: Client, source: str) -> float:
    text = await (await client.get("/metrics")).text()
    for line in text.splitlines():
        if line.startswith(f'blendbot_feed_records_rejected_total{{source="{source}"}}'):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_the_generic_feed_refuses_an_event_of_year_one(
    feeds: Client, pool: asyncpg.Pool
) -> None:
    """It was stored as -infinity and then stopped the tick on every instance."""
    response = await feeds.post(
        "/feeds/generic/events", json=[generic_event(1), YEAR_ONE], headers=AUTH
    )
    assert response.status == 200, await response.text()
    result = await response.json()
    assert result["accepted"] == 1
    [rejected] = result["rejected"]
    assert rejected["where"] == "event 1"
    assert "1970-01-01" in rejected["reason"]
    stored = await pool.fetch("SELECT event_id, at FROM telephony_events")
    assert [r["event_id"] for r in stored] == ["e1"]
    assert await pool.fetchval("SELECT count(*) FROM telephony_events WHERE at = '-infinity'") == 0
    assert await _rejected_metric(feeds, "generic") == 1
    listed = await (await feeds.get("/api/v1/feeds/rejected", headers=AUTH)).json()
    [item] = listed["items"]
    assert item["source"] == "generic"
    assert "e-y1" in item["record"]
    assert item["times"] == 1


@pytest.mark.parametrize(
    ("poison", "reason"),
    [
        ({**AGENT_EVENT, "EventId": "nul\x00here"}, "NUL"),
        ({**AGENT_EVENT, "EventId": "other", "EventTimestamp": "0001-01-01T00:00:00Z"}, "1970"),
        ({**AGENT_EVENT, "EventId": "other", "EventTimestamp": "yesterday"}, "ISO 8601"),
        ({"neither": "this", "nor": "that"}, "neither an agent event"),
        (
            {
                **AGENT_EVENT,
                "EventId": "other",
                "CurrentAgentSnapshot": {"AgentStatus": {"Name": "Lunch\x00"}},
            },
            "NUL",
        ),
    ],
)
async def test_a_poison_record_does_not_sink_a_firehose_batch(
    feeds: Client, pool: asyncpg.Pool, poison: Any, reason: str
) -> None:
    """A NUL in one record made the whole batch 500: Firehose retried it, then backed it up,
    and its valid records were never stored."""
    good = load("amazon_connect_contact_event_connected_to_agent_detail.json")
    body = firehose_body(AGENT_EVENT, poison, good)
    for attempt in range(2):
        response = await feeds.post(
            "/feeds/amazon-connect/firehose", json=body, headers=firehose_headers()
        )
        assert response.status == 200, await response.text()
        reply = await response.json()
        assert reply["requestId"] == "ed4acda5-034f-9f42-bba1-f29aea6d7d8f"
        assert isinstance(reply["timestamp"], int)
        assert "errorMessage" not in reply
        assert await _count(pool, "telephony_events") == 2
        rows = await pool.fetch("SELECT reason, delivery, times FROM telephony_rejected")
        assert len(rows) == 1
        assert rows[0]["reason"].startswith("record 1: ")
        assert reason in rows[0]["reason"]
        assert rows[0]["delivery"] == reply["requestId"]
        assert rows[0]["times"] == attempt + 1
    assert await _rejected_metric(feeds, "amazon_connect") == 2


async def test_a_firehose_record_that_is_not_base64_or_has_no_data_is_set_aside(
    feeds: Client, pool: asyncpg.Pool
) -> None:
    body = firehose_body(AGENT_EVENT)
    deep = base64.b64encode(b"[" * 5000).decode()
    body["records"] += [{"data": "%%%"}, {"nodata": 1}, {"data": deep}]
    response = await feeds.post(
        "/feeds/amazon-connect/firehose", json=body, headers=firehose_headers()
    )
    assert response.status == 200
    assert await _count(pool, "telephony_events") == 1
    reasons = sorted(r["reason"] for r in await pool.fetch("SELECT reason FROM telephony_rejected"))
    assert reasons == [
        "record 1: data is not base64",
        "record 2: has no data",
        "record 3: record data is not JSON: nested deeper than 200 levels "
        "(recursion limit exceeded at line 1 column 202)",
    ]


NESTED = "[" * 100_000 + "]" * 100_000


async def test_bodies_nested_100000_deep_are_400_on_every_feed(
    feeds: Client, pool: asyncpg.Pool
) -> None:
    firehose = await feeds.post(
        "/feeds/amazon-connect/firehose", data=NESTED, headers=firehose_headers()
    )
    assert firehose.status == 400
    assert "nested deeper than 200" in (await firehose.json())["errorMessage"]
    for path in ("/feeds/generic/events", "/feeds/genesys/events", "/feeds/asterisk/events"):
        response = await feeds.post(path, data=NESTED, headers=AUTH)
        assert response.status == 400, (path, await response.text())
        assert "nested deeper than 200" in (await response.json())["error"]["message"]
    big = '[{"event_id": ' + "9" * 5000 + "}]"
    for path in ("/feeds/generic/events", "/feeds/genesys/events", "/feeds/asterisk/events"):
        response = await feeds.post(path, data=big, headers=AUTH)
        assert response.status == 400, (path, await response.text())
    assert await _count(pool, "telephony_events") == 0


async def test_an_asterisk_relay_event_with_a_lone_surrogate_is_400(
    feeds: Client, pool: asyncpg.Pool
) -> None:
    body = '[{"Event": "QueueCallerJoin", "Uniqueid": "\\ud800", "Queue": "q"}]'
    response = await feeds.post("/feeds/asterisk/events", data=body, headers=AUTH)
    assert response.status == 400, await response.text()
    assert await _count(pool, "telephony_events") == 0


async def test_a_relayed_message_that_cannot_be_used_is_set_aside_alone(
    feeds: Client, pool: asyncpg.Pool
) -> None:
    good = {"Event": "QueueCallerJoin", "Uniqueid": "1.1", "Queue": "q"}
    nul = {"Event": "QueueCallerJoin", "Uniqueid": "1.2\x00", "Queue": "q"}
    old = {"Event": "QueueCallerJoin", "Uniqueid": "1.3", "Queue": "q", "Timestamp": "4102444800"}
    response = await feeds.post("/feeds/asterisk/events", json=[good, nul, old, [1]], headers=AUTH)
    assert response.status == 200, await response.text()
    result = await response.json()
    assert result["accepted"] == 1
    assert [r["where"] for r in result["rejected"]] == ["message 1", "message 2", "message 3"]
    assert await _count(pool, "telephony_rejected") == 3


@pytest.mark.parametrize("key", [b"\xff\xfe", FIREHOSE_KEY.encode() + b"\xc3\xa9", b"\x80"])
async def test_a_firehose_key_with_non_ascii_bytes_is_401(feeds: Client, key: bytes) -> None:
    body = json.dumps(firehose_body(AGENT_EVENT)).encode()
    status, answer = await raw_request(
        feeds,
        "POST",
        "/feeds/amazon-connect/firehose",
        [
            b"Content-Type: application/json",
            b"X-Amz-Firehose-Request-Id: ed4acda5-034f-9f42-bba1-f29aea6d7d8f",
            b"X-Amz-Firehose-Access-Key: " + key,
        ],
        body,
    )
    assert status == 401, answer
    assert "Access-Key" in json.loads(answer)["errorMessage"]


@pytest.mark.parametrize("path", ["/feeds/generic/events", "/feeds/genesys/events"])
async def test_a_feed_bearer_token_with_non_ascii_bytes_is_401(feeds: Client, path: str) -> None:
    status, _ = await raw_request(
        feeds, "POST", path, [b"Authorization: Bearer \xff" + TOKEN.encode()], b"[]"
    )
    assert status == 401


async def test_an_event_the_database_refuses_is_set_aside_and_the_rest_stored(
    pool: asyncpg.Pool,
) -> None:
    """The net under the validation: should a value get past it, only its event is lost."""
    from blending.events import CallArrived, Parsed
    from blending.telemetry_store import TelemetryStore

    good = CallArrived(event_id="g1", at=NOW, queue="q", call_id="c1")
    bad = CallArrived.model_construct(event_id="b1", at=NOW, queue="q\x00", call_id="c2")
    also = CallArrived(event_id="g2", at=NOW, queue="q", call_id="c3")
    store = TelemetryStore(pool)
    recorded = await store.record("generic", Parsed(events=[good, bad, also]), NOW)
    assert (recorded.new, recorded.duplicates) == (2, 0)
    [rejected] = recorded.rejected
    assert rejected.where == "event b1"
    assert "cannot be stored" in rejected.reason
    ids = {r["event_id"] for r in await pool.fetch("SELECT event_id FROM telephony_events")}
    assert ids == {"g1", "g2"}
    again = await store.record("generic", Parsed(events=[good, bad, also]), NOW)
    assert (again.new, again.duplicates, len(again.rejected)) == (0, 2, 1)
    assert await pool.fetchval("SELECT times FROM telephony_rejected") == 2
    source = await pool.fetchrow("SELECT events, duplicates FROM telephony_sources")
    assert source is not None
    assert (source["events"], source["duplicates"]) == (2, 2)

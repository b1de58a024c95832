"""The feed endpoints and the presence and statistics API, through the real aiohttp app."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer
from twilio.request_validator import RequestValidator

from bot import root
from bot.http.feeds import FeedConfig, register_feeds
from clock import FixedClock
from queues.models import AgentIn
from queues.roster import Roster
from tests.conftest import AUTH, TOKEN
from tests.support.samples import CONTACT, QUEUE, contact_record, load, twilio_callback

Client = TestClient[Any, Any]
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
PUBLIC = "https://blendbot.example.com"
FIREHOSE_KEY = "firehose-key-0123456789"
TWILIO_TOKEN = "12345678901234567890123456789012"


@pytest.fixture
async def feeds(pool: asyncpg.Pool) -> AsyncIterator[Client]:
    config = FeedConfig(
        public_url=PUBLIC,
        firehose_access_key=FIREHOSE_KEY,
        twilio_auth_token=TWILIO_TOKEN,
    )
    wired = root.Parts(feeds=config, clock=FixedClock(NOW))
    app = root.http_app(pool, wired, tokens=[TOKEN], max_body_bytes=256 * 1024)
    async with TestClient(TestServer(app.web)) as client:
        yield client


def generic_event(n: int, **extra: Any) -> dict[str, Any]:
    body = {
        "type": "call_arrived",
        "event_id": f"e{n}",
        "at": (NOW - timedelta(minutes=20) + timedelta(seconds=n)).isoformat(),
        "queue": "sales",
        "call_id": f"c{n}",
    }
    body.update(extra)
    return body


async def test_generic_feed_is_idempotent(feeds: Client, pool: asyncpg.Pool) -> None:
    body = [generic_event(n) for n in range(5)]
    first = await feeds.post("/feeds/generic/events", json=body, headers=AUTH)
    assert first.status == 200
    assert await first.json() == {"accepted": 5, "duplicates": 0, "ignored": {}, "rejected": []}
    again = await feeds.post("/feeds/generic/events", json=body, headers=AUTH)
    assert await again.json() == {"accepted": 0, "duplicates": 5, "ignored": {}, "rejected": []}
    queues = await (await feeds.get("/api/v1/queues", headers=AUTH)).json()
    assert queues["items"][0]["queue"] == "sales"
    assert queues["items"][0]["calls_waiting"] == 5
    intervals = await (
        await feeds.get(
            "/api/v1/queues/sales/intervals?from=2026-03-02T09:00:00Z&to=2026-03-02T10:00:00Z",
            headers=AUTH,
        )
    ).json()
    assert [i["offered"] for i in intervals["items"]] == [5]


async def test_generic_feed_sets_a_bad_event_aside_and_refuses_a_bad_body(
    feeds: Client, pool: asyncpg.Pool
) -> None:
    good = generic_event(1)
    bad = generic_event(2, type="call_exploded")
    response = await feeds.post("/feeds/generic/events", json=[good, bad], headers=AUTH)
    assert response.status == 200
    result = await response.json()
    assert result["accepted"] == 1
    assert [r["where"] for r in result["rejected"]] == ["event 1"]
    assert "call_exploded" in result["rejected"][0]["reason"]
    assert await pool.fetchval("SELECT count(*) FROM telephony_events") == 1
    broken = await feeds.post("/feeds/generic/events", data=b"[{", headers=AUTH)
    assert broken.status == 400
    assert (await feeds.post("/feeds/generic/events", json=[good])).status == 401
    assert await pool.fetchval("SELECT count(*) FROM telephony_events") == 1


def firehose_body(*records: Any) -> dict[str, Any]:
    return {
        "requestId": "ed4acda5-034f-9f42-bba1-f29aea6d7d8f",
        "timestamp": 1578090901599,
        "records": [{"data": base64.b64encode(json.dumps(r).encode()).decode()} for r in records],
    }


def firehose_headers(key: str = FIREHOSE_KEY) -> dict[str, str]:
    return {
        "X-Amz-Firehose-Protocol-Version": "1.0",
        "X-Amz-Firehose-Request-Id": "ed4acda5-034f-9f42-bba1-f29aea6d7d8f",
        "X-Amz-Firehose-Source-Arn": "arn:aws:firehose:us-east-1:123456789:deliverystream/c",
        "X-Amz-Firehose-Access-Key": key,
    }


async def test_firehose_delivery(feeds: Client, pool: asyncpg.Pool) -> None:
    body = firehose_body(
        load("amazon_connect_agent_event_state_change_acw_exit.json"),
        load("amazon_connect_contact_event_connected_to_agent_detail.json"),
    )
    response = await feeds.post(
        "/feeds/amazon-connect/firehose", json=body, headers=firehose_headers()
    )
    assert response.status == 200
    assert response.content_type == "application/json"
    reply = await response.json()
    assert reply["requestId"] == "ed4acda5-034f-9f42-bba1-f29aea6d7d8f"
    assert isinstance(reply["timestamp"], int)
    assert "errorMessage" not in reply
    assert await pool.fetchval("SELECT count(*) FROM telephony_events") == 2
    retried = await feeds.post(
        "/feeds/amazon-connect/firehose", json=body, headers=firehose_headers()
    )
    assert retried.status == 200
    assert await pool.fetchval("SELECT count(*) FROM telephony_events") == 2


async def test_firehose_wrong_key_and_bad_records(feeds: Client, pool: asyncpg.Pool) -> None:
    body = firehose_body(load("amazon_connect_agent_event_state_change_acw_exit.json"))
    wrong = await feeds.post(
        "/feeds/amazon-connect/firehose", json=body, headers=firehose_headers("nope")
    )
    assert wrong.status == 401
    reply = await wrong.json()
    assert reply["requestId"] == "ed4acda5-034f-9f42-bba1-f29aea6d7d8f"
    assert "Access-Key" in reply["errorMessage"]
    bad = firehose_body(load("amazon_connect_agent_event_state_change_acw_exit.json"), {"x": 1})
    stored = await feeds.post(
        "/feeds/amazon-connect/firehose", json=bad, headers=firehose_headers()
    )
    assert stored.status == 200
    assert "errorMessage" not in await stored.json()
    assert await pool.fetchval("SELECT count(*) FROM telephony_events") == 1
    reason = await pool.fetchval("SELECT reason FROM telephony_rejected")
    assert reason.startswith("record 1: a record is neither")
    envelope = await feeds.post(
        "/feeds/amazon-connect/firehose", json={"records": []}, headers=firehose_headers()
    )
    assert envelope.status == 400
    assert "requestId" in (await envelope.json())["errorMessage"]


def signed(form: dict[str, str], path: str = "/feeds/twilio/taskrouter") -> dict[str, str]:
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(f"{PUBLIC}{path}", form)
    return {
        "X-Twilio-Signature": signature,
        "Content-Type": "application/x-www-form-urlencoded",
    }


async def test_twilio_callback(feeds: Client, pool: asyncpg.Pool) -> None:
    await Roster(pool).put(
        "dana", AgentIn(name="Dana", telephony_ids={"twilio": "WKa0f24176fee1938e495760b1122995b6"})
    )
    form = twilio_callback(load("twilio_taskrouter_events_list_response.json")["events"][0])
    response = await feeds.post(
        "/feeds/twilio/taskrouter", data=urlencode(form), headers=signed(form)
    )
    assert response.status == 204
    presence = await (await feeds.get("/api/v1/presence", headers=AUTH)).json()
    assert presence["items"] == [
        {
            "agent_id": "dana",
            "state": "available",
            "since": "2015-07-31T23:36:33Z",
            "source": "twilio",
        }
    ]


async def test_twilio_bad_signature_is_403_and_writes_nothing(
    feeds: Client, pool: asyncpg.Pool
) -> None:
    form = twilio_callback(load("twilio_taskrouter_events_list_response.json")["events"][0])
    headers = signed(form)
    form["WorkerActivityName"] = "Offline"
    response = await feeds.post("/feeds/twilio/taskrouter", data=urlencode(form), headers=headers)
    assert response.status == 403
    missing = await feeds.post(
        "/feeds/twilio/taskrouter",
        data=urlencode(form),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert missing.status == 403
    assert await pool.fetchval("SELECT count(*) FROM telephony_events") == 0


async def test_twilio_malformed_but_signed_is_400_and_set_aside(
    feeds: Client, pool: asyncpg.Pool
) -> None:
    form = {"EventType": "task-queue.entered", "Timestamp": "1700000000"}
    response = await feeds.post(
        "/feeds/twilio/taskrouter", data=urlencode(form), headers=signed(form)
    )
    assert response.status == 400
    assert "TaskSid" in (await response.json())["error"]["message"]
    row = await pool.fetchrow("SELECT source, reason, record FROM telephony_rejected")
    assert row is not None
    assert row["source"] == "twilio"
    assert row["reason"] == "callback: task-queue.entered event without TaskSid"
    assert b"EventType=task-queue.entered" in row["record"]


async def test_schedule_api(feeds: Client, pool: asyncpg.Pool) -> None:
    await Roster(pool).put("dana", AgentIn(name="Dana"))
    body = {
        "items": [
            {"kind": "shift", "start": "2026-03-02T08:00:00Z", "end": "2026-03-02T16:00:00Z"},
            {"kind": "break", "start": "2026-03-02T09:15:00Z", "end": "2026-03-02T09:45:00Z"},
        ]
    }
    response = await feeds.put("/api/v1/agents/dana/schedule", json=body, headers=AUTH)
    assert response.status == 200
    assert len((await response.json())["items"]) == 2
    presence = await (await feeds.get("/api/v1/presence?agent_id=dana", headers=AUTH)).json()
    assert presence["items"][0]["state"] == "break"
    unknown = await feeds.put("/api/v1/agents/nobody/schedule", json=body, headers=AUTH)
    assert unknown.status == 404
    backwards = {
        "items": [{"kind": "shift", "start": "2026-03-02T16:00:00Z", "end": "2026-03-02T08:00:00Z"}]
    }
    invalid = await feeds.put("/api/v1/agents/dana/schedule", json=backwards, headers=AUTH)
    assert invalid.status == 422
    assert (await feeds.get("/api/v1/presence")).status == 401


async def test_interval_query_is_validated(feeds: Client) -> None:
    response = await feeds.get(
        "/api/v1/queues/sales/intervals?from=2026-03-02T10:00:00Z&to=2026-03-02T09:00:00Z",
        headers=AUTH,
    )
    assert response.status == 422
    naive = await feeds.get("/api/v1/queues/sales/intervals?from=2026-03-02T10:00:00", headers=AUTH)
    assert naive.status == 422


async def test_registering_twice_keeps_one_set_of_routes(pool: asyncpg.Pool) -> None:
    app = root.http_app(pool, tokens=[TOKEN], max_body_bytes=64 * 1024).web
    register_feeds(app, FeedConfig())
    count = len(list(app.router.routes()))
    register_feeds(app, FeedConfig(firehose_access_key=FIREHOSE_KEY))
    assert len(list(app.router.routes())) == count


def connect_contact_events() -> list[dict[str, Any]]:
    """Contact events QUEUED, CONNECTED_TO_AGENT and DISCONNECTED for the documented contact."""
    detail = load("amazon_connect_contact_event_connected_to_agent_detail.json")
    queued = {**detail, "eventType": "QUEUED"}
    del queued["agentInfo"]
    gone = {**detail, "eventType": "DISCONNECTED", "disconnectTimestamp": "2021-08-04T17:33:09Z"}
    return [queued, detail, gone]


@pytest.mark.parametrize("record_first", [False, True])
async def test_a_contact_seen_by_contact_events_and_its_record_counts_once(
    feeds: Client, pool: asyncpg.Pool, record_first: bool
) -> None:
    record = contact_record()
    deliveries = [firehose_body(*connect_contact_events()), firehose_body(record)]
    if record_first:
        deliveries.reverse()
    for body in [*deliveries, *deliveries]:
        response = await feeds.post(
            "/feeds/amazon-connect/firehose", json=body, headers=firehose_headers()
        )
        assert response.status == 200
        assert "errorMessage" not in await response.json()
    calls = await pool.fetch("SELECT * FROM telephony_calls")
    assert len(calls) == 1
    call = calls[0]
    assert (call["source"], call["call_id"], call["queue"]) == ("amazon_connect", CONTACT, QUEUE)
    assert call["agent"] == record["Agent"]["ARN"]
    assert (call["talk_seconds"], call["hold_seconds"], call["wrap_seconds"]) == (180, 60, 40)
    ids = {r["event_id"] for r in await pool.fetch("SELECT event_id FROM telephony_events")}
    assert ids == {
        f"{CONTACT}:{kind}"
        for kind in ("QUEUED", "CONNECTED_TO_AGENT", "DISCONNECTED", "CONTACT_RECORD")
    }
    intervals = await (
        await feeds.get(
            f"/api/v1/queues/{QUEUE}/intervals?from=2021-08-04T17:00:00Z&to=2021-08-04T18:00:00Z",
            headers=AUTH,
        )
    ).json()
    items = intervals["items"]
    assert [(i["offered"], i["answered"], i["abandoned"], i["handled"]) for i in items] == [
        (1, 1, 0, 1)
    ]
    assert items[0]["aht_seconds"] == 280.0


async def test_firehose_sets_a_malformed_contact_record_aside(
    feeds: Client, pool: asyncpg.Pool
) -> None:
    broken = contact_record()
    broken["Queue"] = {**broken["Queue"], "EnqueueTimestamp": "not a time"}
    body = firehose_body(load("amazon_connect_agent_event_state_change_acw_exit.json"), broken)
    delivered = await feeds.post(
        "/feeds/amazon-connect/firehose", json=body, headers=firehose_headers()
    )
    assert delivered.status == 200
    reply = await delivered.json()
    assert reply["requestId"] == "ed4acda5-034f-9f42-bba1-f29aea6d7d8f"
    assert "errorMessage" not in reply
    reason = await pool.fetchval("SELECT reason FROM telephony_rejected")
    assert reason.startswith("record 1: Queue.EnqueueTimestamp")
    assert await pool.fetchval("SELECT count(*) FROM telephony_events") == 1
    assert await pool.fetchval("SELECT count(*) FROM telephony_calls") == 0

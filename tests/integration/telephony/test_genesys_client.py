"""The Genesys notification client against a local aiohttp server on an ephemeral port.

The server plays the notification API: channels, subscriptions, the websocket (sending the
documented presence sample and heartbeats), the observation query (the documented response)
and the conversation details query, paged, over an analytics store the test fills with
calls shaped like the documented conversation (``genesys_conversation_details_blueprint.json``).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from blending.events import AgentStateChanged, Parsed, QueueSnapshot
from blending.telemetry_store import TelemetryStore
from clock import SYSTEM
from telephony_adapters.genesys_client import GenesysClient, queue_topics, user_topics
from tests.support.samples import load

QUEUE = "1d1af111-b11c-11f1-b111-1cf1c11111fc"


@dataclass
class FakeGenesys:
    lifetime: timedelta = timedelta(hours=24)
    channels: list[str] = field(default_factory=list)
    subscriptions: dict[str, list[str]] = field(default_factory=dict)
    sockets: dict[str, web.WebSocketResponse] = field(default_factory=dict)
    connected: asyncio.Queue[str] = field(default_factory=asyncio.Queue)
    queries: int = 0
    tokens: list[str] = field(default_factory=list)
    analytics: list[dict[str, Any]] = field(default_factory=list)
    details: list[dict[str, Any]] = field(default_factory=list)
    server: TestServer | None = None

    async def create_channel(self, request: web.Request) -> web.Response:
        self.tokens.append(request.headers["Authorization"])
        channel = f"streaming-{len(self.channels)}"
        self.channels.append(channel)
        assert self.server is not None
        uri = str(self.server.make_url(f"/channels/{channel}")).replace("http", "ws", 1)
        expires = datetime.now(UTC) + self.lifetime
        return web.json_response({"connectUri": uri, "id": channel, "expires": expires.isoformat()})

    async def subscribe(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.subscriptions[request.match_info["channel"]] = [t["id"] for t in body]
        return web.json_response({"entities": body})

    async def socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        channel = request.match_info["channel"]
        self.sockets[channel] = ws
        await ws.send_str(
            json.dumps(
                {"topicName": "channel.metadata", "eventBody": {"message": "WebSocket Heartbeat"}}
            )
        )
        self.connected.put_nowait(channel)
        async for _ in ws:
            pass
        return ws

    async def observations(self, request: web.Request) -> web.Response:
        body = await request.json()
        assert body["filter"]["predicates"] == [{"dimension": "queueId", "value": QUEUE}]
        self.queries += 1
        return web.json_response(load("genesys_analytics_queue_observation_query_response.json"))

    async def conversation_details(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.details.append(body)
        (segment_filter,) = body["segmentFilters"]
        queues = {p["value"] for p in segment_filter["predicates"]}
        hits = [
            c
            for c in self.analytics
            if any(
                s.get("queueId") in queues
                for p in c["participants"]
                for session in p["sessions"]
                for s in session["segments"]
            )
        ]
        size, number = body["paging"]["pageSize"], body["paging"]["pageNumber"]
        page = hits[(number - 1) * size : number * size]
        return web.json_response({"conversations": page, "totalHits": len(hits)} if hits else {})


@pytest.fixture
async def fake_genesys() -> AsyncIterator[tuple[FakeGenesys, str]]:
    fake = FakeGenesys()
    app = web.Application()
    app.router.add_post("/api/v2/notifications/channels", fake.create_channel)
    app.router.add_put("/api/v2/notifications/channels/{channel}/subscriptions", fake.subscribe)
    app.router.add_get("/channels/{channel}", fake.socket)
    app.router.add_post("/api/v2/analytics/queues/observations/query", fake.observations)
    app.router.add_post("/api/v2/analytics/conversations/details/query", fake.conversation_details)
    server = TestServer(app)
    fake.server = server
    await server.start_server()
    try:
        yield fake, str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


async def _token() -> str:
    return "token-1"


async def _client(
    fake: FakeGenesys,
    base: str,
    session: aiohttp.ClientSession,
    store: TelemetryStore | None = None,
    **kwargs: Any,
) -> tuple[GenesysClient, asyncio.Queue[Parsed]]:
    received: asyncio.Queue[Parsed] = asyncio.Queue()

    async def sink(parsed: Parsed) -> None:
        if store is not None:
            await store.record("genesys", parsed, datetime.now(UTC))
        received.put_nowait(parsed)

    client = GenesysClient(
        sink,
        session,
        api_url=base,
        token=_token,
        topics=user_topics(["9ed7d9f6-0c59-4360-ac54-40dd35eb9c2f"]) + queue_topics([QUEUE]),
        queue_ids=[QUEUE],
        clock=SYSTEM,
        backoff=(0.0, 0.0),
        **kwargs,
    )
    return client, received


async def test_subscribes_backfills_and_reads_notifications(
    fake_genesys: tuple[FakeGenesys, str],
) -> None:
    fake, base = fake_genesys
    beats: list[datetime] = []

    async def alive(at: datetime) -> None:
        beats.append(at)

    async with aiohttp.ClientSession() as session:
        client, received = await _client(fake, base, session, alive=alive)
        task = asyncio.create_task(client.run())
        try:
            async with asyncio.timeout(10):
                channel = await fake.connected.get()
                assert fake.tokens == ["Bearer token-1"]
                assert f"v2.analytics.queues.{QUEUE}.observations" in fake.subscriptions[channel]
                snapshot = (await received.get()).events[0]
                assert isinstance(snapshot, QueueSnapshot)
                assert snapshot.agents_on_calls == 2
                await fake.sockets[channel].send_str(
                    json.dumps(load("genesys_notification_v2_users_presence.json"))
                )
                (event,) = (await received.get()).events
                assert isinstance(event, AgentStateChanged)
                assert event.state == "available"
                await fake.sockets[channel].send_str("{not json")
                # The server goes away: the client opens a new channel and back-fills the gap.
                await fake.sockets[channel].close()
                assert await fake.connected.get() == "streaming-1"
                again = (await received.get()).events[0]
                assert isinstance(again, QueueSnapshot)
                assert fake.queries == 2
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    assert client.malformed == 1
    assert beats


async def test_renews_the_channel_before_it_expires_and_on_socket_closing(
    fake_genesys: tuple[FakeGenesys, str],
) -> None:
    fake, base = fake_genesys
    fake.lifetime = timedelta(seconds=30)
    async with aiohttp.ClientSession() as session:
        client, received = await _client(fake, base, session, renew_before=timedelta(seconds=29.8))
        task = asyncio.create_task(client.run())
        try:
            async with asyncio.timeout(10):
                assert await fake.connected.get() == "streaming-0"
                await received.get()
                # Renewed ahead of expiry: a new channel, no gap, so no back-fill.
                assert await fake.connected.get() == "streaming-1"
                assert fake.queries == 1
                fake.lifetime = timedelta(hours=24)
                assert await fake.connected.get() == "streaming-2"
                await fake.sockets["streaming-2"].send_str(
                    json.dumps({"topicName": "v2.system.socket_closing", "eventBody": {}})
                )
                assert await fake.connected.get() == "streaming-3"
                assert fake.queries == 1
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
AGENT = "9ed7d9f6-0c59-4360-ac54-40dd35eb9c2f"


def _at(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def _segment(kind: str, start: float, end: float, queue: str, **extra: str) -> dict[str, Any]:
    return {
        "segmentType": kind,
        "queueId": queue,
        "segmentStart": _at(start),
        "segmentEnd": _at(end),
        **extra,
    }


def _analytics_call(
    call: str, start: float, wait: float, talk: float | None, queue: str = QUEUE
) -> dict[str, Any]:
    """A voice call as the details query returns it: answered after ``wait`` seconds and
    talked ``talk`` seconds with 30 s of wrap-up, or abandoned (``talk`` None)."""
    how = "peer" if talk is None else "transfer"
    acd_segment = _segment("interact", start, start + wait, queue, disconnectType=how)
    acd: dict[str, Any] = {
        "participantId": f"{call}-acd",
        "purpose": "acd",
        "sessions": [
            {
                "mediaType": "voice",
                "segments": [acd_segment],
                "metrics": [{"name": "tAbandon", "value": wait * 1000}] if talk is None else [],
            }
        ],
    }
    customer = {
        "participantId": f"{call}-customer",
        "purpose": "customer",
        "sessions": [{"mediaType": "voice", "segments": [], "metrics": []}],
    }
    participants = [customer, acd]
    if talk is not None:
        answered = start + wait
        agent_segments = [
            _segment("interact", answered, answered + talk, queue, disconnectType="client"),
            _segment("wrapup", answered + talk, answered + talk + 30, queue),
        ]
        participants.append(
            {
                "participantId": f"{call}-agent",
                "purpose": "agent",
                "userId": AGENT,
                "sessions": [
                    {
                        "mediaType": "voice",
                        "segments": agent_segments,
                        "metrics": [
                            {"name": "tAnswered", "value": wait * 1000},
                            {"name": "tTalkComplete", "value": talk * 1000},
                            {"name": "tAcw", "value": 30000},
                        ],
                    }
                ],
            }
        )
    return {"conversationId": call, "conversationStart": _at(start), "participants": participants}


def _live_call(call: str, start: float, wait: float, talk: float) -> dict[str, Any]:
    """The same call on the ``v2.routing.queues.{id}.conversations`` topic."""
    return {
        "topicName": f"v2.routing.queues.{QUEUE}.conversations",
        "eventBody": {
            "id": call,
            "participants": [
                {"purpose": "customer", "connectedTime": _at(start)},
                {
                    "purpose": "acd",
                    "queueId": QUEUE,
                    "connectedTime": _at(start),
                    "endTime": _at(start + wait),
                },
                {
                    "purpose": "agent",
                    "userId": AGENT,
                    "connectedTime": _at(start + wait),
                    "endTime": _at(start + wait + talk),
                },
            ],
        },
    }


async def _settle(received: asyncio.Queue[Parsed], fake: FakeGenesys, pages: int) -> None:
    """Until the details query has been asked ``pages`` times and the sink is quiet."""
    while len(fake.details) < pages:
        await received.get()
    await asyncio.sleep(0.1)
    while not received.empty():
        received.get_nowait()


async def test_backfills_the_calls_of_a_gap_once(
    fake_genesys: tuple[FakeGenesys, str], pool: asyncpg.Pool
) -> None:
    fake, base = fake_genesys
    store = TelemetryStore(pool, interval_minutes=15, service_level_seconds=20)

    async def counts() -> tuple[int, int, int, int, float | None]:
        (interval,) = await store.intervals(QUEUE, T0, T0 + timedelta(minutes=15))
        return (
            interval.offered,
            interval.answered,
            interval.abandoned,
            interval.handled,
            interval.aht_seconds,
        )

    async with aiohttp.ClientSession() as session:
        client, received = await _client(fake, base, session, store, page_size=2)
        task = asyncio.create_task(client.run())
        try:
            async with asyncio.timeout(20):
                channel = await fake.connected.get()
                await received.get()  # the observation back-fill
                assert fake.details == []  # no look-back at the first connect
                # Call c1 comes live, answered and ended; then the socket is lost.
                await fake.sockets[channel].send_str(json.dumps(_live_call("c1", 0, 10, 200)))
                await received.get()
                last_message = datetime.now(UTC)
                await asyncio.sleep(0.01)
                # During the gap c1 is in the analytics store too, with c2 (answered), c3
                # (abandoned), c4 (answered) and a call of another queue.
                fake.analytics = [
                    _analytics_call("c1", 0, 10, 200),
                    _analytics_call("c2", 60, 15, 100),
                    _analytics_call("c3", 120, 40, None),
                    _analytics_call("c4", 180, 30, 50),
                    _analytics_call("other", 200, 5, 60, queue="another-queue"),
                ]
                await fake.sockets[channel].close()
                assert await fake.connected.get() == "streaming-1"
                await _settle(received, fake, pages=2)
                first, second = fake.details
                start, end = (
                    datetime.fromisoformat(t.replace("Z", "+00:00"))
                    for t in first["interval"].split("/")
                )
                assert start <= last_message < end
                assert [d["paging"] for d in fake.details] == [
                    {"pageSize": 2, "pageNumber": 1},
                    {"pageSize": 2, "pageNumber": 2},
                ]
                assert second["interval"] == first["interval"]
                # c1 (live and back-filled), c2, c4 answered and ended; c3 abandoned. c1
                # ended live (talk 200, no wrap); c2 and c4 bring talk and 30 s of wrap each.
                expected = (4, 3, 1, 3, (200 + 100 + 30 + 50 + 30) / 3)
                assert await counts() == expected
                assert client.calls_backfilled == 11  # c1, c2, c4: 3 events each; c3: 2
                # Another gap: the same calls come back from the details query, and c1 comes
                # live again; nothing counts twice.
                await fake.sockets["streaming-1"].close()
                assert await fake.connected.get() == "streaming-2"
                await _settle(received, fake, pages=4)
                await fake.sockets["streaming-2"].send_str(json.dumps(_live_call("c1", 0, 10, 200)))
                await received.get()
                assert await counts() == expected
                count = await pool.fetchval(
                    "SELECT count(*) FROM telephony_events WHERE source = 'genesys' "
                    "AND call_id IS NOT NULL"
                )
                assert count == 11
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


async def test_a_start_lookback_backfills_calls_at_the_first_connect(
    fake_genesys: tuple[FakeGenesys, str],
) -> None:
    fake, base = fake_genesys
    fake.analytics = [_analytics_call("c9", 0, 5, 20)]
    async with aiohttp.ClientSession() as session:
        client, received = await _client(fake, base, session, start_lookback=timedelta(minutes=15))
        task = asyncio.create_task(client.run())
        try:
            async with asyncio.timeout(10):
                await fake.connected.get()
                await received.get()  # the observation back-fill
                calls = (await received.get()).events
                assert [e.type for e in calls] == ["call_arrived", "call_answered", "call_ended"]
                (query,) = fake.details
                start, end = (
                    datetime.fromisoformat(t.replace("Z", "+00:00"))
                    for t in query["interval"].split("/")
                )
                assert end - start == pytest.approx(timedelta(minutes=15), abs=timedelta(seconds=5))
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

"""The Genesys notification client against a local aiohttp server on an ephemeral port.

The server plays the notification API: channels, subscriptions, the websocket (sending the
documented presence sample and heartbeats) and the observation query (the documented
response).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from blending.events import AgentStateChanged, Parsed, QueueSnapshot
from telephony_adapters.genesys_client import GenesysClient, queue_topics, user_topics
from tests.telephony.samples import load

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


@pytest.fixture
async def fake_genesys() -> AsyncIterator[tuple[FakeGenesys, str]]:
    fake = FakeGenesys()
    app = web.Application()
    app.router.add_post("/api/v2/notifications/channels", fake.create_channel)
    app.router.add_put("/api/v2/notifications/channels/{channel}/subscriptions", fake.subscribe)
    app.router.add_get("/channels/{channel}", fake.socket)
    app.router.add_post("/api/v2/analytics/queues/observations/query", fake.observations)
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
    fake: FakeGenesys, base: str, session: aiohttp.ClientSession, **kwargs: Any
) -> tuple[GenesysClient, asyncio.Queue[Parsed]]:
    received: asyncio.Queue[Parsed] = asyncio.Queue()

    async def sink(parsed: Parsed) -> None:
        received.put_nowait(parsed)

    client = GenesysClient(
        sink,
        session,
        api_url=base,
        token=_token,
        topics=user_topics(["9ed7d9f6-0c59-4360-ac54-40dd35eb9c2f"]) + queue_topics([QUEUE]),
        queue_ids=[QUEUE],
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

"""The Genesys Cloud notification client: a websocket channel, kept alive and renewed.

It creates a channel (``POST /api/v2/notifications/channels``), subscribes it to the topics
(``PUT .../subscriptions``) and reads the websocket. Before the channel expires, and when
Genesys announces ``v2.system.socket_closing``, it opens a new channel first and only then
leaves the old one, so nothing is missed. A lost connection is retried with exponential
backoff; after any gap, and at start, it back-fills the queues' live picture with an
observation query. Heartbeats keep the source alive for the presence heartbeat check.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp

from blending.events import Parsed
from telephony_adapters import genesys
from telephony_adapters._fields import timestamp
from telephony_adapters.errors import MalformedPayload, TransportError

log = logging.getLogger(__name__)

Sink = Callable[[Parsed], Awaitable[object]]
TokenProvider = Callable[[], Awaitable[str]]
OBSERVATION_METRICS = ("oUserRoutingStatuses", "oWaiting", "oInteracting")


def _now() -> datetime:
    return datetime.now(UTC)


def user_topics(user_ids: Sequence[str]) -> list[str]:
    return [f"v2.users.{u}.{kind}" for u in user_ids for kind in ("presence", "routingStatus")]


def queue_topics(queue_ids: Sequence[str]) -> list[str]:
    return [f"v2.routing.queues.{q}.conversations" for q in queue_ids] + [
        f"v2.analytics.queues.{q}.observations" for q in queue_ids
    ]


@dataclass
class Channel:
    id: str
    uri: str
    expires: datetime
    ws: aiohttp.ClientWebSocketResponse


async def client_credentials(
    session: aiohttp.ClientSession, login_url: str, client_id: str, secret: str
) -> str:
    """An access token by the OAuth client-credentials grant (``https://login.<region>``)."""
    async with session.post(
        f"{login_url}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=aiohttp.BasicAuth(client_id, secret),
    ) as response:
        if response.status != 200:
            raise TransportError(f"Genesys login refused: HTTP {response.status}")
        body = await response.json()
    token = body.get("access_token") if isinstance(body, dict) else None
    if not isinstance(token, str):
        raise TransportError("Genesys login answered without an access_token")
    return token


class GenesysClient:
    def __init__(
        self,
        sink: Sink,
        session: aiohttp.ClientSession,
        *,
        api_url: str,
        token: TokenProvider,
        topics: Sequence[str],
        queue_ids: Sequence[str] = (),
        clock: Callable[[], datetime] = _now,
        renew_before: timedelta = timedelta(hours=1),
        backoff: tuple[float, float] = (1.0, 60.0),
        alive: Callable[[datetime], Awaitable[object]] | None = None,
    ) -> None:
        self._sink = sink
        self._session = session
        self._api = api_url.rstrip("/")
        self._token = token
        self.topics = list(topics)
        self._queues = list(queue_ids)
        self._clock = clock
        self._renew_before = renew_before
        self._backoff = backoff
        self._alive = alive
        self.channels_opened = 0
        self.backfills = 0
        self.malformed = 0

    async def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {await self._token()}"}

    async def _open(self) -> Channel:
        headers = await self._headers()
        async with self._session.post(
            f"{self._api}/api/v2/notifications/channels", headers=headers
        ) as response:
            if response.status not in (200, 201):
                raise TransportError(f"channel not created: HTTP {response.status}")
            body = await response.json()
        try:
            channel_id, uri = str(body["id"]), str(body["connectUri"])
            expires = timestamp(genesys.SOURCE, body.get("expires"), "expires")
        except (KeyError, TypeError, MalformedPayload) as exc:
            raise TransportError(f"channel answer not understood: {exc}") from None
        subscriptions = [{"id": topic} for topic in self.topics]
        async with self._session.put(
            f"{self._api}/api/v2/notifications/channels/{channel_id}/subscriptions",
            json=subscriptions,
            headers=headers,
        ) as response:
            if response.status != 200:
                raise TransportError(f"subscription refused: HTTP {response.status}")
        ws = await self._session.ws_connect(uri, heartbeat=60)
        self.channels_opened += 1
        return Channel(channel_id, uri, expires, ws)

    async def backfill(self) -> None:
        """The queues' live picture now, by an observation query."""
        if not self._queues:
            return
        query = {
            "filter": {
                "type": "or",
                "predicates": [{"dimension": "queueId", "value": q} for q in self._queues],
            },
            "metrics": list(OBSERVATION_METRICS),
        }
        async with self._session.post(
            f"{self._api}/api/v2/analytics/queues/observations/query",
            json=query,
            headers=await self._headers(),
        ) as response:
            if response.status != 200:
                raise TransportError(f"observation query refused: HTTP {response.status}")
            body = await response.json()
        try:
            parsed = genesys.parse_observations(body, self._clock())
        except MalformedPayload as exc:
            self.malformed += 1
            log.warning("Genesys back-fill: %s", exc)
            return
        self.backfills += 1
        await self._sink(parsed)

    async def _pump(self, channel: Channel) -> str:
        """Read until the channel must be replaced: ``renew``, ``closing`` or ``lost``."""
        renew_at = channel.expires - self._renew_before
        while True:
            left = (renew_at - self._clock()).total_seconds()
            if left <= 0:
                return "renew"
            try:
                async with asyncio.timeout(left):
                    message = await channel.ws.receive()
            except TimeoutError:
                return "renew"
            if message.type in (
                aiohttp.WSMsgType.CLOSE,
                aiohttp.WSMsgType.CLOSING,
                aiohttp.WSMsgType.CLOSED,
                aiohttp.WSMsgType.ERROR,
            ):
                return "lost"
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            outcome = await self._handle(message.data)
            if outcome is not None:
                return outcome

    async def _handle(self, data: str) -> str | None:
        now = self._clock()
        try:
            decoded = genesys.decode(data)
            parsed = genesys.parse(decoded, now)
        except MalformedPayload as exc:
            self.malformed += 1
            log.warning("Genesys: %s", exc)
            return None
        topic = decoded.get("topicName")
        if self._alive is not None:
            await self._alive(now)
        if topic == genesys.CLOSING_TOPIC:
            return "closing"
        if parsed.events or parsed.ignored:
            await self._sink(parsed)
        return None

    async def run(self) -> None:
        """Run until cancelled."""
        delay = self._backoff[0]
        channel: Channel | None = None
        gap = True
        try:
            while True:
                try:
                    fresh = await self._open()
                except (TransportError, aiohttp.ClientError, OSError) as exc:
                    log.warning("Genesys: %s; retrying in %.0f s", exc, delay)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, self._backoff[1])
                    continue
                delay = self._backoff[0]
                if channel is not None:
                    await channel.ws.close()
                channel = fresh
                if gap:
                    try:
                        await self.backfill()
                    except (TransportError, aiohttp.ClientError, OSError) as exc:
                        log.warning("Genesys back-fill failed: %s", exc)
                reason = await self._pump(channel)
                gap = reason == "lost"
                if gap:
                    await channel.ws.close()
                    channel = None
                    await asyncio.sleep(self._backoff[0])
        finally:
            if channel is not None:
                await channel.ws.close()


def describe(client: GenesysClient) -> dict[str, Any]:
    return {
        "channels_opened": client.channels_opened,
        "backfills": client.backfills,
        "malformed": client.malformed,
        "topics": len(client.topics),
    }

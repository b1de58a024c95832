"""The Genesys Cloud notification client: a websocket channel, kept alive and renewed.

It creates a channel (``POST /api/v2/notifications/channels``), subscribes it to the topics
(``PUT .../subscriptions``) and reads the websocket. Before the channel expires, and when
Genesys announces ``v2.system.socket_closing``, it opens a new channel first and only then
leaves the old one, so nothing is missed. A lost connection is retried with exponential
backoff; after any gap, and at start, it back-fills the queues' live picture with an
observation query. After a lost connection it also back-fills the calls of the gap with a
conversation details query (``POST /api/v2/analytics/conversations/details/query``) from the
last message received before the loss (heartbeats included) until now, all pages of it; the
events carry the live topic's event ids, so a call reported both ways counts once. At the
first connect it back-fills calls only when given a ``start_lookback`` (none by default: what
came before the service started belongs to the interval import). Genesys filters a details
query by the conversations' start *day*, so calls that started earlier on the gap's first day
are included; one that started the day before and ended in the gap is not. Heartbeats keep
the source alive for the presence heartbeat check.
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
from clock import Clock
from telephony_adapters import genesys
from telephony_adapters._fields import timestamp
from telephony_adapters.errors import MalformedPayload, TransportError
from telephony_adapters.marks import StateMarks

log = logging.getLogger(__name__)

Sink = Callable[[Parsed], Awaitable[object]]
TokenProvider = Callable[[], Awaitable[str]]
OBSERVATION_METRICS = ("oUserRoutingStatuses", "oWaiting", "oInteracting")
DETAILS_PAGE_SIZE = 100
"""Genesys' largest page of a conversation details query."""


def iso(at: datetime) -> str:
    """``at`` as Genesys writes times: UTC, milliseconds, ``Z``."""
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


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


class LoginRefused(TransportError):
    """The login answered, and not with a token."""

    def __init__(self, status: int) -> None:
        super().__init__(f"Genesys login refused: HTTP {status}")
        self.status = status


@dataclass(frozen=True)
class Grant:
    token: str
    expires_in: float | None
    """Seconds, as the login said."""


async def grant(
    session: aiohttp.ClientSession, login_url: str, client_id: str, secret: str
) -> Grant:
    """An access token by the OAuth client-credentials grant (``https://login.<region>``)."""
    async with session.post(
        f"{login_url}/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": aiohttp.encode_basic_auth(client_id, secret)},
    ) as response:
        if response.status != 200:
            raise LoginRefused(response.status)
        body = await response.json()
    token = body.get("access_token") if isinstance(body, dict) else None
    if not isinstance(token, str):
        raise TransportError("Genesys login answered without an access_token")
    expires = body.get("expires_in")
    seconds = float(expires) if isinstance(expires, int | float) and expires > 0 else None
    return Grant(token, seconds)


async def client_credentials(
    session: aiohttp.ClientSession, login_url: str, client_id: str, secret: str
) -> str:
    """An access token by the OAuth client-credentials grant (``https://login.<region>``)."""
    return (await grant(session, login_url, client_id, secret)).token


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
        clock: Clock,
        renew_before: timedelta = timedelta(hours=1),
        backoff: tuple[float, float] = (1.0, 60.0),
        alive: Callable[[datetime], Awaitable[object]] | None = None,
        start_lookback: timedelta = timedelta(0),
        page_size: int = DETAILS_PAGE_SIZE,
        marks: StateMarks | None = None,
    ) -> None:
        self._sink = sink
        self._marks = marks
        self._session = session
        self._api = api_url.rstrip("/")
        self._token = token
        self.topics = list(topics)
        self._queues = list(queue_ids)
        self._clock = clock
        self._renew_before = renew_before
        self._backoff = backoff
        self._alive = alive
        self._start_lookback = start_lookback
        self._page_size = page_size
        self._seen: datetime | None = None
        self.channels_opened = 0
        self.backfills = 0
        self.calls_backfilled = 0
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
        self._seen = self._clock.now()
        return Channel(channel_id, uri, expires, ws)

    async def backfill(self, since: datetime | None = None) -> None:
        """The queues' live picture now, by an observation query; and the calls since
        ``since``, when given, by a conversation details query."""
        if not self._queues:
            return
        await self._observations()
        if since is not None:
            await self.backfill_calls(since)

    async def backfill_calls(self, since: datetime) -> None:
        """The followed queues' calls from ``since`` until now, every page of them."""
        until = self._clock.now()
        if since >= until or not self._queues:
            return
        followed = set(self._queues)
        page = read = 0
        while True:
            page += 1
            query = {
                "interval": f"{iso(since)}/{iso(until)}",
                "order": "asc",
                "orderBy": "conversationStart",
                "paging": {"pageSize": self._page_size, "pageNumber": page},
                "segmentFilters": [
                    {
                        "type": "or",
                        "predicates": [
                            {"type": "dimension", "dimension": "queueId", "value": q}
                            for q in self._queues
                        ],
                    }
                ],
            }
            async with self._session.post(
                f"{self._api}/api/v2/analytics/conversations/details/query",
                json=query,
                headers=await self._headers(),
            ) as response:
                if response.status != 200:
                    raise TransportError(
                        f"conversation details query refused: HTTP {response.status}"
                    )
                body = await response.json()
            try:
                parsed = genesys.parse_conversation_details(body, self._clock.now())
            except MalformedPayload as exc:
                self.malformed += 1
                log.warning("Genesys call back-fill: %s", exc)
                return
            conversations = body.get("conversations") or []
            total = body.get("totalHits")
            read += len(conversations)
            parsed.events = [e for e in parsed.events if getattr(e, "queue", None) in followed]
            if parsed.events or parsed.ignored:
                self.calls_backfilled += len(parsed.events)
                await self._sink(parsed)
            if not conversations or not isinstance(total, int) or read >= total:
                return

    async def _observations(self) -> None:
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
            parsed = genesys.parse_observations(body, self._clock.now())
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
            left = (renew_at - self._clock.now()).total_seconds()
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
            self._seen = self._clock.now()
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            outcome = await self._handle(message.data)
            if outcome is not None:
                return outcome

    async def _handle(self, data: str) -> str | None:
        now = self._clock.now()
        try:
            decoded = genesys.decode(data)
            parsed = genesys.parse(decoded, now, self._marks)
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
        since = self._clock.now() - self._start_lookback if self._start_lookback else None
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
                        await self.backfill(since)
                        since = None
                    except (TransportError, aiohttp.ClientError, OSError) as exc:
                        # ``since`` is kept: the next back-fill covers this gap too.
                        log.warning("Genesys back-fill failed: %s", exc)
                reason = await self._pump(channel)
                gap = reason == "lost"
                if gap:
                    if since is None or (self._seen is not None and self._seen < since):
                        since = self._seen
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
        "calls_backfilled": client.calls_backfilled,
        "malformed": client.malformed,
        "topics": len(client.topics),
    }

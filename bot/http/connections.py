"""Connection hygiene: no client can hold the server's connections or memory for free.

aiohttp reads request heads and bodies for as long as a client cares to drip them, and lets one
address open any number of connections. So the listening site (:class:`GuardedSite`) wraps each
connection's protocol in a :class:`_Guard` that

* refuses a connection beyond ``per_client`` open ones from the same address;
* closes a connection whose request head is not complete within ``head_seconds`` of its first
  byte (or of the connection opening): slow-drip heads, and connections opened and left silent;

and :func:`body_middleware` refuses a declared ``Content-Length`` over the limit at once (413)
and gives a body ``body_seconds`` to arrive (408). Idle keep-alive connections close after
``keepalive_seconds``. A client that goes away mid-request is one DEBUG line, not a traceback.

At a stop, :class:`InFlight` lets the requests being served finish: aiohttp's own shutdown
stops reading the connections at once, so a request whose body is still arriving would never
be answered.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.http.errors import ApiError, error_response
from bot.http.keys import MAX_BODY

log = logging.getLogger(__name__)

HEAD_LIMIT = 64 * 1024
"""A request head longer than this is aiohttp's to refuse; the guard stops following it."""
_END = b"\r\n\r\n"


@dataclass(frozen=True)
class ConnectionLimits:
    head_seconds: float = 10.0
    """A request head must be complete this long after its first byte."""
    body_seconds: float = 30.0
    """A request body must have arrived this long after its head."""
    per_client: int = 64
    """Open connections from one address."""
    keepalive_seconds: float = 15.0
    """An idle kept-alive connection is closed after this."""


class _Guard(asyncio.Protocol):
    """Wraps aiohttp's protocol for one connection; passes everything through, and follows the
    byte stream only far enough to know where each request head begins and ends."""

    def __init__(
        self, inner: asyncio.Protocol, limits: ConnectionLimits, open_by: Counter[str]
    ) -> None:
        self._inner = inner
        self._limits = limits
        self._open_by = open_by
        self._client: str | None = None
        self._transport: asyncio.Transport | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._head = bytearray()
        self._in_head = False
        self._body_left = 0
        self._following = True
        """False once a body's length is unknown (chunked): the body timeout still holds."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        peer = transport.get_extra_info("peername")
        client = str(peer[0]) if isinstance(peer, tuple) and peer else "unknown"
        if self._open_by[client] >= self._limits.per_client:
            log.debug("refused a connection from %s: %d open", client, self._open_by[client])
            transport.abort()
            return
        self._client = client
        self._open_by[client] += 1
        self._transport = transport
        self._arm()
        self._in_head = True
        self._inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if self._transport is None:
            return
        if self._following:
            self._follow(data)
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        if self._transport is None:
            return None
        return self._inner.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        if self._client is not None:
            self._open_by[self._client] -= 1
            if self._open_by[self._client] <= 0:
                del self._open_by[self._client]
            self._client = None
        if self._transport is not None:
            self._transport = None
            self._inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()

    def _follow(self, data: bytes) -> None:
        view = memoryview(data)
        while view and self._following:
            if self._body_left:
                taken = min(self._body_left, len(view))
                self._body_left -= taken
                view = view[taken:]
                continue
            if not self._in_head:
                self._in_head = True
                self._arm()
            start = max(0, len(self._head) - 3)
            self._head += view
            end = self._head.find(_END, start)
            if end < 0:
                if len(self._head) > HEAD_LIMIT:
                    self._stop_following()
                return
            rest = bytes(self._head[end + len(_END) :])
            self._head_done(bytes(self._head[:end]))
            view = memoryview(rest)

    def _head_done(self, head: bytes) -> None:
        self._disarm()
        self._in_head = False
        self._head.clear()
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"transfer-encoding":
                self._stop_following()
                return
            if name == b"content-length":
                try:
                    length = int(value.strip())
                except ValueError:
                    self._stop_following()  # aiohttp answers 400 to it
                    return
        self._body_left = max(0, length)

    def _stop_following(self) -> None:
        self._following = False
        self._disarm()
        self._head.clear()

    def _arm(self) -> None:
        self._disarm()
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(self._limits.head_seconds, self._too_slow)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _too_slow(self) -> None:
        self._timer = None
        if self._transport is not None:
            log.debug(
                "closed a connection from %s: no request head within %g s",
                self._client,
                self._limits.head_seconds,
            )
            self._transport.abort()


class GuardedSite(web.TCPSite):
    """A TCP site whose connections are guarded by ``limits``."""

    def __init__(
        self, runner: web.BaseRunner, host: str, port: int, limits: ConnectionLimits
    ) -> None:
        super().__init__(runner, host, port)
        self._limits = limits
        self._open_by: Counter[str] = Counter()

    async def start(self) -> None:
        await web.BaseSite.start(self)
        server = self._runner.server
        assert server is not None
        factory: Callable[[], asyncio.Protocol] = lambda: _Guard(  # noqa: E731
            server(), self._limits, self._open_by
        )
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(factory, self._host, self._port)
        self._bound_port = self._server.sockets[0].getsockname()[1]


def runner(app: web.Application, limits: ConnectionLimits) -> web.AppRunner:
    """The app's runner, with idle kept-alive connections closed after the limit."""
    return web.AppRunner(app, access_log=None, keepalive_timeout=limits.keepalive_seconds)


BODY_SECONDS = web.AppKey("body_seconds", float)


class InFlight:
    """The requests being served, counted by its middleware, so that a stop can wait for them
    after the listener has closed (:meth:`drained`). Event streams are not counted: they run
    until the app's shutdown ends them, and their clients reconnect elsewhere."""

    def __init__(self) -> None:
        self.count = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @web.middleware
    async def middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if request.headers.get("Accept") == "text/event-stream":
            stream: web.StreamResponse = await handler(request)
            return stream
        self.count += 1
        self._idle.clear()
        try:
            response: web.StreamResponse = await handler(request)
            return response
        finally:
            self.count -= 1
            if self.count == 0:
                self._idle.set()

    async def drained(self, within: float) -> bool:
        """Wait until no request is being served, at most ``within`` seconds; whether none is."""
        try:
            async with asyncio.timeout(within):
                await self._idle.wait()
        except TimeoutError:
            return False
        return True


IN_FLIGHT = web.AppKey("in_flight", InFlight)

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


@web.middleware
async def body_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    """Refuse a declared body over the limit before reading it; read the rest within the body
    timeout, so that handlers find it read; a client gone mid-body is a DEBUG line."""
    if request.method in _BODY_METHODS and request.body_exists:
        limit = request.app[MAX_BODY]
        declared = request.content_length
        if declared is not None and declared > limit:
            message = f"request body too large: the limit is {limit} bytes"
            return error_response(ApiError(413, "too_large", message), {"Connection": "close"})
        try:
            async with asyncio.timeout(request.app.get(BODY_SECONDS, 30.0)):
                await request.read()
        except TimeoutError:
            message = "the request body did not arrive in time"
            return error_response(ApiError(408, "timeout", message), {"Connection": "close"})
        except ConnectionResetError as exc:
            log.debug("client %s went away mid-body: %s", request.remote, exc)
            return error_response(ApiError(400, "bad_request", "the client went away"))
    response: web.StreamResponse = await handler(request)
    return response

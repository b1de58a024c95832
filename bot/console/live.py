"""Live updates: a feed event that changes agents' states (the telemetry store's listeners)
or the passing of time re-renders the Now board once, and every open console receives it as
a server-sent event: no page reloads, one rendering however many consoles are open."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
import weakref
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp_sse import EventSourceResponse, sse_response

EVERY_SECONDS = 10.0
"""With no event, the board is sent again this often (waits and durations grow)."""
FRESH_SECONDS = 0.5
"""A rendering this young is shared by the consoles that ask for the same version."""
_LINE_BREAKS = re.compile(r"[ \t]*(?:\r\n|\r|\n)\s*")
"""Server-sent events frame each line of the data on its own: the board goes as one line,
framed for a hundred consoles in the time one took (a break is a space in HTML)."""


class Live:
    def __init__(self, render: Callable[[], Awaitable[str]]) -> None:
        self._render = render
        self.version = 0
        self.closed = False
        self._changed = asyncio.Event()
        self._lock = asyncio.Lock()
        self._cached: tuple[int, float, str] | None = None
        self._streams: weakref.WeakSet[EventSourceResponse] = weakref.WeakSet()

    def kick(self, *_: object) -> None:
        """Something changed (a listener of the telemetry store: called after commit)."""
        self.version += 1
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def wait(self, seen: int, quiet: float = EVERY_SECONDS) -> int:
        """The version after ``seen``, or ``seen`` again after ``quiet`` seconds of none."""
        if self.version == seen:
            changed = self._changed
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(quiet):
                    await changed.wait()
        return self.version

    async def html(self, version: int) -> str:
        """The board for ``version``, rendered once for every console that asks at once."""
        async with self._lock:
            cached = self._cached
            fresh = cached is not None and time.monotonic() - cached[1] < FRESH_SECONDS
            if cached is not None and fresh and cached[0] == version:
                return cached[2]
            text = _LINE_BREAKS.sub(" ", await self._render())
            self._cached = (version, time.monotonic(), text)
            return text

    async def stream(self, request: web.Request, since: int) -> EventSourceResponse:
        """Send the board as ``now`` events until the console goes away or the app stops."""
        async with sse_response(request) as events:
            self._streams.add(events)
            seen = since
            if seen != self.version:  # an event came between the page and this stream
                seen = self.version
                await events.send(await self.html(seen), event="now")
            while events.is_connected():
                seen = await self.wait(seen)
                if self.closed:
                    break
                await events.send(await self.html(seen), event="now")
        return events

    async def close(self, _: web.Application) -> None:
        """End every stream (an ``on_shutdown`` hook): a console reconnects to the next
        instance by itself."""
        self.closed = True
        self.kick()
        for events in list(self._streams):
            events.stop_streaming()

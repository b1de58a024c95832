"""Live updates: a feed event that changes agents' states (the telemetry store's listeners),
a decision or work claimed or completed (both learnt from PostgreSQL,
:mod:`bot.console.changes`) or the passing of time re-renders the Now board once, and every
open Now page receives it as a server-sent event: no page reloads, one rendering however many
consoles are open. The other pages listen on the same channel without the board: a
``changed`` event names what changed (``decisions``, ``work``, ``states``, or ``time`` when
nothing did for a while), and the page fetches its own figures again when they are today's.
Each console receives at most one event every ``GAP_SECONDS``: what happens meanwhile goes
as one, so a busy center does not have every open page asking again all the time."""

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
GAP_SECONDS = 1.0
"""The least time between two events to one console."""
FRESH_SECONDS = 0.5
"""A rendering this young is shared by the consoles that ask for the same version."""
_LINE_BREAKS = re.compile(r"[ \t]*(?:\r\n|\r|\n)\s*")
"""Server-sent events frame each line of the data on its own: the board goes as one line,
framed for a hundred consoles in the time one took (a break is a space in HTML)."""


def _gone_quietly() -> contextlib.AbstractContextManager[None]:
    """A console that closes its page while an update is on its way is gone, not an error."""
    return contextlib.suppress(ConnectionResetError)


class Live:
    def __init__(self, render: Callable[[], Awaitable[str]]) -> None:
        self._render = render
        self.version = 0
        self.decided = 0
        """How many decisions were heard: a change of version with it is a decision."""
        self.worked = 0
        """How many notices of work claimed or completed were heard."""
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

    def decision(self, *_: object) -> None:
        """A decision was recorded (by any instance)."""
        self.decided += 1
        self.kick()

    def work(self, *_: object) -> None:
        """Work was claimed or completed (by any instance)."""
        self.worked += 1
        self.kick()

    def heard(self, _: str) -> None:
        """A notice on the changes channel: decisions were recorded."""
        self.decision()

    async def wait(self, seen: int, quiet: float = EVERY_SECONDS) -> int:
        """The version after ``seen``, or ``seen`` again after ``quiet`` seconds of none."""
        if self.version == seen:
            changed = self._changed
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(quiet):
                    await changed.wait()
        return self.version

    async def next(self, seen: int, sent: float) -> int:
        """As :meth:`wait`, but not before ``GAP_SECONDS`` after ``sent`` (a monotonic time):
        the versions that come meanwhile are one."""
        await self.wait(seen)
        early = sent + GAP_SECONDS - time.monotonic()
        if early > 0 and not self.closed:
            await asyncio.sleep(early)
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

    async def stream(
        self, request: web.Request, since: int, *, board: bool = True
    ) -> EventSourceResponse:
        """Send the board as ``now`` events until the console goes away or the app stops;
        without the ``board``, only what changed as ``changed`` events."""
        if not board:
            return await self._changes(request)
        async with sse_response(request) as events:
            self._streams.add(events)
            seen, sent = since, -GAP_SECONDS
            with _gone_quietly():
                if seen != self.version:  # an event came between the page and this stream
                    seen, sent = self.version, time.monotonic()
                    await events.send(await self.html(seen), event="now")
                while events.is_connected():
                    seen = await self.next(seen, sent)
                    if self.closed:
                        break
                    sent = time.monotonic()
                    await events.send(await self.html(seen), event="now")
        return events

    async def _changes(self, request: web.Request) -> EventSourceResponse:
        async with sse_response(request) as events:
            self._streams.add(events)
            seen, decided, worked = self.version, self.decided, self.worked
            sent = -GAP_SECONDS
            with _gone_quietly():
                while events.is_connected():
                    version = await self.next(seen, sent)
                    if self.closed:
                        break
                    what = "time" if version == seen else "states"
                    if self.worked != worked:
                        what = "work"
                    if self.decided != decided:
                        what = "decisions"
                    seen, decided, worked = version, self.decided, self.worked
                    sent = time.monotonic()
                    await events.send(what, event="changed")
        return events

    async def close(self, _: web.Application) -> None:
        """End every stream (an ``on_shutdown`` hook): a console reconnects to the next
        instance by itself."""
        self.closed = True
        self.kick()
        for events in list(self._streams):
            events.stop_streaming()

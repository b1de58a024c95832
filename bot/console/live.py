"""Live updates: a feed event that changes agents' states (the telemetry store's listeners),
a decision or work claimed or completed (both learnt from PostgreSQL,
:mod:`bot.console.changes`) or the passing of time re-renders the Now board once for all the
open Now pages (one task, :meth:`Live._publish`, at most once every ``GAP_SECONDS``), and each
receives what changed as a server-sent event: ``patch``, the rows changed,
added or removed since the rendering that console shows (:func:`bot.console.fragments.diff`,
worked out once per pair of renderings, not per console), or ``now``, the whole board, for a
console that shows none of the renderings kept or when the board's shape changed. Each event
carries its rendering's number as its id, so a console that reconnects says what it shows
(``Last-Event-ID``). No page reloads, one rendering however many consoles are open.

The other pages listen on the same channel without the board: a ``changed`` event names what
changed (``decisions``, ``work``, ``states``, or ``time`` when nothing did for a while), and
the page fetches its own figures again when they are today's. Each console receives at most
one event every ``GAP_SECONDS``: what happens meanwhile goes as one, so a busy center does
not have every open page asking again all the time."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
import weakref
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web
from aiohttp_sse import EventSourceResponse, sse_response

from bot.console.fragments import Rendered, diff

log = logging.getLogger(__name__)

EVERY_SECONDS = 10.0
"""With no event, the board is rendered again this often (the stamp, the service levels and
the work due soon move with time)."""
GAP_SECONDS = 1.0
"""The least time between two events to one console."""
FRESH_SECONDS = 0.5
"""A rendering this young is shared by the pages that open and the live updates at the same
version."""
KEPT = 8
"""The renderings kept: a console showing one of them is sent a patch from it."""


def _gone_quietly() -> contextlib.AbstractContextManager[None]:
    """A console that closes its page while an update is on its way is gone, not an error."""
    return contextlib.suppress(ConnectionResetError)


@dataclass(frozen=True)
class Rendering:
    number: int
    version: int
    """The version it shows (at least): the changes heard before it began."""
    made: float
    """When, as a monotonic time."""
    parts: Rendered
    html: str = field(repr=False)


def _last_event(request: web.Request, since: int) -> int:
    """The rendering a console shows: the last event's id it received if it reconnects,
    else ``since`` (the page's own)."""
    try:
        return int(request.headers.get("Last-Event-ID", since))
    except ValueError:
        return -1


class Live:
    def __init__(self, render: Callable[[], Awaitable[Rendered]]) -> None:
        self._render = render
        self.version = 0
        self.decided = 0
        """How many decisions were heard: a change of version with it is a decision."""
        self.worked = 0
        """How many notices of work claimed or completed were heard."""
        self.closed = False
        self._changed = asyncio.Event()
        self._lock = asyncio.Lock()
        self._made = secrets.randbits(48)
        """The last rendering's number: from a random start, so that a console reconnecting
        to another instance is not taken to show that one's rendering of the same number."""
        self._kept: OrderedDict[int, Rendering] = OrderedDict()
        self._patches: dict[tuple[int, int], str | None] = {}
        self._streams: weakref.WeakSet[EventSourceResponse] = weakref.WeakSet()
        self._latest: Rendering | None = None
        """The rendering last sent to the Now pages."""
        self._published = asyncio.Event()
        self._watching = 0
        """The Now pages' streams open: while there is one, :meth:`_publish` runs."""
        self._publisher: asyncio.Task[None] | None = None

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

    async def rendering(self, version: int) -> Rendering:
        """The board at ``version`` or later, rendered once for every console that asks at
        once, and kept with the few before it."""
        async with self._lock:
            last = next(reversed(self._kept.values()), None)
            if (
                last is not None
                and last.version >= version
                and time.monotonic() - last.made < FRESH_SECONDS
            ):
                return last
            at = self.version
            parts = await self._render()
            self._made += 1
            made = Rendering(self._made, at, time.monotonic(), parts, parts.html())
            self._kept[made.number] = made
            while len(self._kept) > KEPT:
                gone, _ = self._kept.popitem(last=False)
                self._patches = {k: v for k, v in self._patches.items() if gone not in k}
            return made

    async def page(self) -> tuple[int, str]:
        """The board for a page that opens, and its rendering's number (its stream's
        ``since``)."""
        made = await self.rendering(self.version)
        return made.number, made.html

    def update(self, shown: int, to: Rendering) -> tuple[str, str] | None:
        """The event that takes a console showing rendering ``shown`` to ``to``: a patch
        from a rendering kept (worked out once for all the consoles showing it), else the
        whole board; ``None`` if it shows ``to`` already."""
        if shown == to.number:
            return None
        was = self._kept.get(shown)
        if was is not None:
            key = (shown, to.number)
            if key not in self._patches:
                self._patches[key] = diff(was.parts, to.parts)
            patch = self._patches[key]
            if patch is not None:
                return "patch", patch
        return "now", to.html

    async def stream(
        self, request: web.Request, since: int, *, board: bool = True
    ) -> EventSourceResponse:
        """Send the board's changes as ``patch`` (or the board as ``now``) events until the
        console goes away or the app stops; without the ``board``, only what changed as
        ``changed`` events."""
        if not board:
            return await self._changes(request)
        shown = _last_event(request, since)
        self._watching += 1
        if self._publisher is None or self._publisher.done():
            self._publisher = asyncio.create_task(self._publish(), name="console board")
        try:
            async with sse_response(request) as events:
                self._streams.add(events)
                with _gone_quietly():
                    while events.is_connected() and not self.closed:
                        published = self._published
                        latest = self._latest
                        if latest is not None and (
                            shown not in self._kept or shown < latest.number
                        ):
                            found = self.update(shown, latest)
                            if found is not None:
                                await events.send(found[1], id=str(latest.number), event=found[0])
                            shown = latest.number
                            continue
                        await published.wait()
        finally:
            self._watching -= 1
        return events

    async def _publish(self) -> None:
        """Render the board on a change (or after ``EVERY_SECONDS`` of none), at most once
        every ``GAP_SECONDS``, for all the Now pages open, until none is."""
        seen, made = -1, -GAP_SECONDS
        while self._watching and not self.closed:
            seen = await self.next(seen, made)
            if self.closed or not self._watching:
                break
            try:
                latest = await self.rendering(seen)
            except Exception as exc:  # an outage or else: the next change tries again
                log.warning("the Now board was not rendered: %s", exc)
                made = time.monotonic()
                continue
            seen, made = latest.version, time.monotonic()
            self._latest = latest
            published, self._published = self._published, asyncio.Event()
            published.set()
        self._latest = None  # the next page to open is not sent a board of long ago

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
        self._published.set()
        for events in list(self._streams):
            events.stop_streaming()

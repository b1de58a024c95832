"""The Asterisk manager interface client, on panoramisk (a maintained asyncio AMI library).

It logs in, asks for ``QueueStatus`` after every (re)login so that the members' states are
known at once and after a gap, and hands every queue event to the sink. Events are stamped on
arrival (unless Asterisk sends ``Timestamp``) and written in batches by one writer, in order;
a message that cannot be read is logged and counted, never fatal. panoramisk reconnects on a
lost connection and pings the server, which keeps the source alive for the heartbeat check.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from panoramisk import Manager

from blending.events import Parsed
from clock import Clock
from telephony_adapters import asterisk
from telephony_adapters.errors import MalformedPayload
from telephony_adapters.marks import StateMarks

log = logging.getLogger(__name__)

Sink = Callable[[Parsed], Awaitable[object]]
BATCH = 500


class _Manager(Manager):  # type: ignore[misc]
    """panoramisk's manager, which does not reconnect once it is being closed (panoramisk
    retries a failed connection for ever, on a timer that closing does not stop)."""

    stopping = False

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.stopping:
            super().connection_lost(exc)

    def connect(self, *args: Any, **kwargs: Any) -> Any:
        if self.stopping:
            return None
        return super().connect(*args, **kwargs)

    def connection_made(self, f: asyncio.Future[Any]) -> None:
        if not self.stopping:
            super().connection_made(f)
        elif not f.cancelled() and f.exception() is None:
            transport, _ = f.result()
            transport.close()


class AmiClient:
    def __init__(
        self,
        sink: Sink,
        *,
        host: str,
        port: int,
        username: str,
        secret: str,
        clock: Clock,
        reconnect_seconds: int = 2,
        ping_seconds: int = 10,
        alive: Callable[[datetime], Awaitable[object]] | None = None,
        marks: StateMarks | None = None,
    ) -> None:
        self._sink = sink
        self._marks = marks
        self._alive = alive
        self._ping_seconds = ping_seconds
        self._keepalive: asyncio.Task[None] | None = None
        self._clock = clock
        self._queue: asyncio.Queue[Parsed] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None
        self._pending: set[asyncio.Task[None]] = set()
        self.logins = 0
        self.malformed = 0
        self.logged_in = asyncio.Event()
        self._manager = _Manager(
            host=host,
            port=port,
            username=username,
            secret=secret,
            ping_delay=ping_seconds,
            ping_interval=ping_seconds,
            reconnect_timeout=reconnect_seconds,
            on_login=self._on_login,
            on_disconnect=self._on_disconnect,
        )
        self._manager.register_event("*", self._on_event)

    async def start(self) -> None:
        self._manager.loop = asyncio.get_running_loop()
        self._writer = asyncio.create_task(self._write())
        if self._alive is not None:
            self._keepalive = asyncio.create_task(self._ping())
        await self._manager.connect()

    async def close(self) -> None:
        self._manager.stopping = True
        self._manager.close()
        for task in list(self._pending):
            task.cancel()
        await asyncio.gather(*self._pending, return_exceptions=True)
        await self._queue.join()
        for job in (self._writer, self._keepalive):
            if job is not None:
                job.cancel()
                await asyncio.gather(job, return_exceptions=True)

    async def _ping(self) -> None:
        """Tell ``alive`` whenever Asterisk answers a ping: a quiet PBX is not a dead feed."""
        assert self._alive is not None
        while True:
            await self.logged_in.wait()
            try:
                async with asyncio.timeout(self._ping_seconds):
                    reply = await self._manager.send_action({"Action": "Ping"})
                if reply.success:
                    await self._alive(self._clock.now())
            except Exception as exc:  # a lost connection fails the pending action
                log.debug("AMI ping failed: %s", exc)
            await asyncio.sleep(self._ping_seconds)

    def _take(self, message: Any) -> None:
        try:
            parsed = asterisk.parse(dict(message.items()), self._clock.now(), self._marks)
        except MalformedPayload as exc:
            self.malformed += 1
            log.warning("AMI: %s", exc)
            return
        if parsed.events or parsed.ignored:
            self._queue.put_nowait(parsed)

    def _on_event(self, manager: Manager, message: Any) -> None:
        self._take(message)

    def _on_login(self, manager: Manager) -> None:
        self.logins += 1
        self.logged_in.set()
        task = asyncio.ensure_future(self._backfill())
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    def _on_disconnect(self, manager: Manager, exc: Exception | None) -> None:
        self.logged_in.clear()
        log.warning("AMI connection lost (%s); reconnecting", exc)

    async def _backfill(self) -> None:
        """Every queue member's state now: after a gap, events may have been missed."""
        try:
            replies = await self._manager.send_action({"Action": "QueueStatus"}, as_list=True)
        except Exception as exc:  # a lost connection fails the pending action
            log.warning("AMI QueueStatus failed: %s", exc)
            return
        for reply in replies if isinstance(replies, list) else [replies]:
            if str(reply.get("Event", "")) == "QueueMember":
                self._take(reply)

    async def _write(self) -> None:
        while True:
            batch = Parsed()
            first = await self._queue.get()
            batch.extend(first)
            taken = 1
            while not self._queue.empty() and len(batch.events) < BATCH:
                batch.extend(self._queue.get_nowait())
                taken += 1
            try:
                await self._sink(batch)
            except Exception:
                log.exception("AMI: %d events could not be stored", len(batch.events))
            finally:
                for _ in range(taken):
                    self._queue.task_done()

"""Decisions and work heard from PostgreSQL, whichever instance made them, so every open
console shows them at once.

Decisions (a few per tick): a trigger (migration 0035) announces each statement that records
lends, holds, recalls, offers and expiries on ``console_changes`` at commit, and one pooled
connection per instance listens. Work (claims and completions, many a second in a busy
center) is not announced: a ``NOTIFY`` takes a lock that serializes every committing
transaction that sent one, which cost the claim path a fifth of its throughput. Instead, each
instance reads the task log's last id twice a second (one read of a sequence) and tells the
live channel when it moved."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import asyncpg
from aiohttp import web

log = logging.getLogger(__name__)

CHANNEL = "console_changes"
RETRY_SECONDS = 1.0
WORK_SECONDS = 0.5
"""How often the task log's last id is read while a console is open."""
LAST_EVENT = "SELECT pg_sequence_last_value(pg_get_serial_sequence('task_events', 'id'))"


async def listen(pool: asyncpg.Pool, heard: Callable[[str], None]) -> None:
    """Listen on :data:`CHANNEL` until cancelled, again after a lost connection."""
    failing = False
    while True:
        try:
            await _listen(pool, heard)
            failing = False
        except Exception as exc:  # an outage or else: the board's own refresh still runs
            if not failing:
                log.warning("not listening for the console's changes: %s", exc)
            failing = True
        await asyncio.sleep(RETRY_SECONDS)


async def _listen(pool: asyncpg.Pool, heard: Callable[[str], None]) -> None:
    lost = asyncio.Event()

    def notified(_: Any, __: int, ___: str, payload: object) -> None:
        heard(str(payload))

    async with pool.acquire() as conn:
        conn.add_termination_listener(lambda _: lost.set())
        await conn.add_listener(CHANNEL, notified)
        try:
            while not lost.is_set():
                try:
                    await asyncio.wait_for(lost.wait(), timeout=30)
                except TimeoutError:  # a connection that died quietly fails this query
                    await conn.execute("SELECT 1", timeout=10)
        finally:
            if not conn.is_closed():
                await conn.remove_listener(CHANNEL, notified)


async def watch_work(
    pool: asyncpg.Pool, worked: Callable[[], None], *, every: float = WORK_SECONDS
) -> None:
    """Call ``worked`` when the task log grew, checking every ``every`` seconds until
    cancelled (one read of a sequence: it runs whether or not a console is open, so a change
    made as a page opens is not taken for the starting point). An event logged and rolled
    back also moves the id: the pages then fetch the same figures once more."""
    read = False
    last: int | None = None  # none before the first event ever
    failing = False
    while True:
        try:
            now = await pool.fetchval(LAST_EVENT, timeout=10)
            failing = False
        except Exception as exc:  # an outage or else: the pages' own refresh still runs
            if not failing:
                log.warning("not reading the task log's last id: %s", exc)
            failing = True
        else:
            if read and now != last:
                worked()
            read, last = True, now
        await asyncio.sleep(every)


def listening(
    pool: asyncpg.Pool,
    heard: Callable[[str], None],
    worked: Callable[[], None],
) -> Callable[[web.Application], AsyncIterator[None]]:
    """A ``cleanup_ctx``: listen for decisions and watch the work while the app runs."""

    async def run(_: web.Application) -> AsyncIterator[None]:
        tasks = [
            asyncio.create_task(listen(pool, heard), name="console changes"),
            asyncio.create_task(watch_work(pool, worked), name="console work"),
        ]
        yield
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return run

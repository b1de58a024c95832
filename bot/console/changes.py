"""Decisions and work heard from PostgreSQL: triggers announce each statement that records
lends, holds, recalls, offers and expiries (migration 0035) or work claimed or completed
(0038) on ``console_changes`` at commit, named by its table, whichever instance made it; one
pooled connection per instance listens and tells the live channel, so every open console
shows the change at once."""

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


def listening(
    pool: asyncpg.Pool, heard: Callable[[str], None]
) -> Callable[[web.Application], AsyncIterator[None]]:
    """A ``cleanup_ctx``: listen while the app runs."""

    async def run(_: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(listen(pool, heard), name="console changes")
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return run

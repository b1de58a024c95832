"""Changes of the sources' configuration, heard from PostgreSQL, so that every instance may keep
a copy of each source instead of reading it on every delivery.

A trigger (migration 0026) announces each change of a ``sources`` row on ``source_changes``
with the source's name, on commit; :class:`SourceChanges` keeps one connection listening and
drops that source's copy in the catalog. The catalog keeps copies only while the connection
listens: when it is lost (an outage, a restart of the server), every copy is dropped and the
configuration is read per delivery again until it listens anew.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

import asyncpg

log = logging.getLogger(__name__)

CHANNEL = "source_changes"


class Cache(Protocol):
    def listening(self, on: bool) -> None:
        """Keep copies from now on (``True``), or drop them all and keep none."""
        ...

    def forget(self, name: str) -> None:
        """Drop the copy of one source."""
        ...


class SourceChanges:
    """One pooled connection listening on :data:`CHANNEL` while :meth:`run` runs."""

    def __init__(self, pool: asyncpg.Pool, cache: Cache, *, retry_seconds: float = 1.0) -> None:
        self._pool = pool
        self._cache = cache
        self._retry_seconds = retry_seconds

    async def run(self) -> None:
        failing = False
        while True:
            try:
                await self._listen()
                failing = False
            except Exception as exc:  # an outage or else: copies are dropped, and it tries again
                if not failing:
                    log.warning("not listening for changes of the sources: %s", exc)
                failing = True
            finally:
                self._cache.listening(False)
            await asyncio.sleep(self._retry_seconds)

    async def _listen(self) -> None:
        lost = asyncio.Event()

        def heard(_: Any, __: int, ___: str, name: object) -> None:
            self._cache.forget(str(name))

        async with self._pool.acquire() as conn:
            conn.add_termination_listener(lambda _: lost.set())
            await conn.add_listener(CHANNEL, heard)
            self._cache.listening(True)
            try:
                while not lost.is_set():
                    try:
                        await asyncio.wait_for(lost.wait(), timeout=30)
                    except TimeoutError:  # a connection that died quietly fails this query
                        await conn.execute("SELECT 1", timeout=10)
            finally:
                self._cache.listening(False)
                if not conn.is_closed():
                    await conn.remove_listener(CHANNEL, heard)

"""While the database cannot be reached, requests get 503 with ``Retry-After``, at once.

The first failure of an outage is logged once (not once per request); then, rather than
every request waiting for a connection that will not come, the database is probed at most
once a second, and requests get 503 until a probe answers. Recovery needs no restart: the pool
opens new connections as soon as the server is back, and one line says it is.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import asyncpg
from aiohttp import web

from bot.database import UNREACHABLE
from bot.http.errors import ApiError, error_response

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
UNGUARDED = frozenset({"/healthz", "/metrics"})
"""Routes that report on the outage themselves."""


class Outage:
    """The database as the handlers last found it."""

    def __init__(self, pool: asyncpg.Pool, *, probe_seconds: float = 1.0) -> None:
        self._pool = pool
        self._probe_seconds = probe_seconds
        self._probed_at = 0.0
        self.down_since: float | None = None
        self.error: str | None = None

    @property
    def down(self) -> bool:
        return self.down_since is not None

    def failed(self, exc: BaseException) -> None:
        """A call could not reach the database: the outage starts (logged once) or goes on."""
        if self.down_since is None:
            self.down_since = self._probed_at = time.monotonic()
            log.warning(
                "the database cannot be reached (%s: %s): answering 503 until it is back",
                type(exc).__name__,
                exc,
            )
        self.error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__

    async def confirm(self, exc: BaseException) -> bool:
        """A handler raised ``exc``, which an outage raises, but so may a client gone away or
        another server: it is an outage only if the database does not answer a probe now."""
        if self.down_since is not None:
            return True
        try:
            async with asyncio.timeout(self._probe_seconds):
                await self._pool.fetchval("SELECT 1")
        except UNREACHABLE:
            self.failed(exc)
            return True
        return False

    async def reachable(self) -> bool:
        """True unless an outage is on and the probe (at most once a second) still fails."""
        if self.down_since is None:
            return True
        now = time.monotonic()
        if now - self._probed_at < self._probe_seconds:
            return False
        self._probed_at = now
        try:
            async with asyncio.timeout(self._probe_seconds):
                await self._pool.fetchval("SELECT 1")
        except UNREACHABLE as exc:
            self.failed(exc)
            return False
        log.warning("the database is reachable again after %.0f s", now - self.down_since)
        self.down_since = self.error = None
        return True


def unavailable(outage: Outage) -> web.Response:
    error = ApiError(503, "unavailable", "the database cannot be reached: retry in a few seconds")
    return error_response(error, {"Retry-After": str(RETRY_AFTER_SECONDS)})


OUTAGE = web.AppKey("outage", Outage)


@web.middleware
async def outage_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    if request.path in UNGUARDED:
        response: web.StreamResponse = await handler(request)
        return response
    outage = request.app[OUTAGE]
    if not await outage.reachable():
        return unavailable(outage)
    try:
        response = await handler(request)
    except UNREACHABLE as exc:
        if not await outage.confirm(exc):
            raise
        return unavailable(outage)
    return response

"""What the ticketing stand-ins share: scripted answers, a rate limit, and the requests they
took."""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from standins.answers import LOST, Answer


@dataclass
class Taken:
    method: str
    path: str
    body: dict[str, Any]


@dataclass
class VendorApi:
    """A vendor's API: ``script`` answers the next well-formed requests (then success);
    ``taken`` is every change it applied, ``reads`` the path of every read it answered,
    ``refused`` the count of the requests it refused.

    With ``rate_limit``, at most that many requests are taken per ``rate_window`` seconds
    (fixed windows, as Zendesk counts its per-minute limit); the others are answered 429 with
    ``Retry-After`` in whole seconds until the window ends, and counted in ``throttled``."""

    script: list[Answer] = field(default_factory=list)
    taken: list[Taken] = field(default_factory=list)
    reads: list[str] = field(default_factory=list)
    refused: int = 0
    rate_limit: int | None = None
    rate_window: float = 60.0
    throttled: int = 0
    taken_at: list[float] = field(default_factory=list)
    """When each request in ``taken`` was taken (``time.monotonic``)."""
    _window: tuple[float, int] = (0.0, 0)

    def app(self) -> web.Application:
        """The vendor's routes (each stand-in adds its own)."""
        raise NotImplementedError

    def refuse(self, status: int, message: str) -> web.Response:
        self.refused += 1
        return web.json_response({"error": message}, status=status)

    async def body(self, request: web.Request) -> dict[str, Any] | None:
        if request.content_type != "application/json":
            return None
        try:
            body = json.loads(await request.read())
        except ValueError:
            return None
        return body if isinstance(body, dict) else None

    def _over_limit(self) -> web.Response | None:
        if self.rate_limit is None:
            return None
        now = time.monotonic()
        started, count = self._window
        if now - started >= self.rate_window:
            started, count = now, 0
        if count >= self.rate_limit:
            self.throttled += 1
            wait = math.ceil(started + self.rate_window - now)
            return web.json_response(
                {"error": "APIRateLimitExceeded"},
                status=429,
                headers={"Retry-After": str(max(1, wait))},
            )
        self._window = (started, count + 1)
        return None

    def answer(
        self, request: web.Request, body: dict[str, Any], *, read: bool = False
    ) -> web.Response | None:
        """The rate limit's 429 or the scripted answer, if one is due; else the request is
        taken (a scripted answer ``applied`` is kept for :func:`~standins.answers.lost_or`)."""
        limited = self._over_limit()
        if limited is not None:
            return limited
        if self.script:
            scripted = self.script.pop(0)
            if scripted.applied:
                request[LOST] = scripted
            elif scripted.drop or not 200 <= scripted.status < 300:
                return scripted.response(request)
        if read:
            self.reads.append(request.path)
            return None
        self.taken.append(Taken(request.method, request.path, body))
        self.taken_at.append(time.monotonic())
        return None

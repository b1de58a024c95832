"""Scripted answers of the vendor stand-ins: what the next requests get instead of success."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from aiohttp import web

LOST = "standins.lost"
"""The request key under which a handler finds the answer that replaces its success."""


@dataclass
class Answer:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    applied: bool = False
    """The request is applied as if it succeeded, and this answer is sent instead: the vendor
    made the change but its answer was lost on the way back (a 500, a proxy's 504)."""
    drop: bool = False
    """The connection is closed with no answer at all (after applying the request when
    ``applied``)."""
    wait: float = 0.0
    """With ``applied``: seconds the answer takes after the change was made (the caller may
    give up, or stop, before it comes)."""

    def response(self, request: web.Request) -> web.Response:
        """This answer to ``request``: its status, or a connection closed without one."""
        if self.drop and request.transport is not None:
            request.transport.close()
        return web.Response(status=self.status, text=self.body, headers=self.headers)


async def lost_or(request: web.Request, success: web.Response) -> web.Response:
    """``success``, unless the scripted answer of ``request`` replaces it (``applied``)."""
    lost = request.get(LOST)
    if not isinstance(lost, Answer):
        return success
    await asyncio.sleep(lost.wait)
    return success if 200 <= lost.status < 300 and not lost.drop else lost.response(request)

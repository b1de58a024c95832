"""What the ticketing stand-ins share: scripted answers, and the requests they took."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from standins.answers import Answer


@dataclass
class Taken:
    method: str
    path: str
    body: dict[str, Any]


@dataclass
class VendorApi:
    """A vendor's API: ``script`` answers the next well-formed requests (then success);
    ``taken`` is every request it applied, ``refused`` the count of those it refused."""

    script: list[Answer] = field(default_factory=list)
    taken: list[Taken] = field(default_factory=list)
    refused: int = 0

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

    def answer(self, request: web.Request, body: dict[str, Any]) -> web.Response | None:
        """The scripted answer, if one is due; else the request is taken."""
        if self.script:
            scripted = self.script.pop(0)
            if not 200 <= scripted.status < 300:
                return web.Response(
                    status=scripted.status, text=scripted.body, headers=scripted.headers
                )
        self.taken.append(Taken(request.method, request.path, body))
        return None

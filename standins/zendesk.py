"""A stand-in for Zendesk Support's Tickets API, for the tests: ``PUT /api/v2/tickets/{id}``
checked as Zendesk documents it — basic authentication as ``{email}/token`` with the API token,
a JSON body ``{"ticket": {...}}`` whose ``status`` (if any) is one of Zendesk's and whose
``comment`` has a ``body`` (``public: false`` for an internal note). Unknown tickets are 404."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

from aiohttp import web

from standins.vendor_api import VendorApi

STATUSES = frozenset({"new", "open", "pending", "hold", "solved", "closed"})


@dataclass
class Zendesk(VendorApi):
    email: str = "agent@example.com"
    api_token: str = "zd-token"  # noqa: S105 (the stand-in's own test token)
    tickets: dict[str, dict[str, object]] = field(default_factory=dict)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_put("/api/v2/tickets/{id}", self._update)
        return app

    async def _update(self, request: web.Request) -> web.Response:
        wanted = base64.b64encode(f"{self.email}/token:{self.api_token}".encode()).decode()
        if request.headers.get("Authorization") != f"Basic {wanted}":
            return self.refuse(401, "Couldn't authenticate you")
        ticket_id = request.match_info["id"].removesuffix(".json")
        body = await self.body(request)
        ticket = body.get("ticket") if body else None
        if not isinstance(ticket, dict) or body is None:
            return self.refuse(400, "expected {ticket: {...}}")
        status = ticket.get("status")
        comment = ticket.get("comment")
        if status is not None and status not in STATUSES:
            return self.refuse(422, f"invalid status {status!r}")
        if comment is not None and not (isinstance(comment, dict) and comment.get("body")):
            return self.refuse(422, "a comment needs a body")
        if ticket_id not in self.tickets:
            return self.refuse(404, "RecordNotFound")
        scripted = self.answer(request, body)
        if scripted is not None:
            return scripted
        if status:
            self.tickets[ticket_id]["status"] = status
        return web.json_response({"ticket": {"id": int(ticket_id), **self.tickets[ticket_id]}})

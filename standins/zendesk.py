"""A stand-in for Zendesk Support's Tickets API, for the tests, checked as Zendesk documents it,
with basic authentication as ``{email}/token`` with the API token:

- ``PUT /api/v2/tickets/{id}``: a JSON body ``{"ticket": {...}}`` whose ``status`` (if any) is
  one of Zendesk's and whose ``comment`` has a ``body`` (``public: false`` for an internal
  note); the comment is added to the ticket's.
- ``GET /api/v2/tickets/{id}/comments``: the ticket's comments, oldest first or as
  ``sort_order`` (``asc``, ``desc``) says, with cursor pagination (``page[size]`` at most 100,
  ``page[after]``; the answer's ``meta.has_more``, ``meta.after_cursor`` and ``links.next``).

Unknown tickets are 404."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from standins.answers import lost_or
from standins.vendor_api import VendorApi

STATUSES = frozenset({"new", "open", "pending", "hold", "solved", "closed"})


@dataclass
class Zendesk(VendorApi):
    email: str = "agent@example.com"
    api_token: str = "zd-token"  # noqa: S105 (the stand-in's own test token)
    tickets: dict[str, dict[str, object]] = field(default_factory=dict)
    comments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """Each ticket's comments (``id``, ``body``, ``plain_body``, ``public``), oldest first."""

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_put("/api/v2/tickets/{id}", self._update)
        app.router.add_get("/api/v2/tickets/{id}/comments", self._comments)
        return app

    def _allowed(self, request: web.Request) -> bool:
        wanted = base64.b64encode(f"{self.email}/token:{self.api_token}".encode()).decode()
        return request.headers.get("Authorization") == f"Basic {wanted}"

    async def _update(self, request: web.Request) -> web.Response:
        if not self._allowed(request):
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
        if isinstance(comment, dict):
            made = sum(len(c) for c in self.comments.values()) + 1
            text = str(comment["body"])
            self.comments.setdefault(ticket_id, []).append(
                {
                    "id": made,
                    "body": text,
                    "plain_body": text,
                    "public": comment.get("public", True),
                }
            )
        answer = {"ticket": {"id": int(ticket_id), **self.tickets[ticket_id]}}
        return await lost_or(request, web.json_response(answer))

    async def _comments(self, request: web.Request) -> web.Response:
        if not self._allowed(request):
            return self.refuse(401, "Couldn't authenticate you")
        ticket_id = request.match_info["id"]
        query = request.query
        order = query.get("sort_order", "asc")
        try:
            size = int(query.get("page[size]", "100"))
            after = int(query.get("page[after]", "0"))
        except ValueError:
            return self.refuse(400, "page[size] is a number, page[after] a cursor given by us")
        if order not in ("asc", "desc") or not 1 <= size <= 100 or after < 0:
            return self.refuse(400, "sort_order is asc or desc; page[size] 1 to 100")
        if ticket_id not in self.tickets:
            return self.refuse(404, "RecordNotFound")
        scripted = self.answer(request, {}, read=True)
        if scripted is not None:
            return scripted
        comments = list(self.comments.get(ticket_id, []))
        if order == "desc":
            comments.reverse()
        page = comments[after : after + size]
        more = after + size < len(comments)
        cursor = str(after + size)
        following = request.url.update_query({"page[after]": cursor}) if more else None
        return web.json_response(
            {
                "comments": page,
                "meta": {"has_more": more, "after_cursor": cursor if more else None},
                "links": {"next": str(following) if following else None},
            }
        )

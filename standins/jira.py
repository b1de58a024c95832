"""A stand-in for Jira Cloud's REST API v3, for the tests, as Atlassian documents it, with basic
authentication (email and API token):

- ``POST /rest/api/3/issue/{key}/comment``: the body in Atlassian Document Format; answers 201
  with the comment's ``id``.
- ``GET /rest/api/3/issue/{key}/comment``: the issue's comments, paged (``startAt``,
  ``maxResults``; the answer's ``startAt``, ``maxResults``, ``total``, ``comments``), oldest
  first or as ``orderBy`` says (``created``, ``+created``, ``-created``); each body in ADF.
- ``POST .../transitions``: ``{"transition": {"id"}}`` among the issue's transitions; 204.

Unknown issues are 404; a transition the issue lacks is 400; other query values are 400."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from standins.answers import lost_or
from standins.vendor_api import VendorApi

ORDERS = {"created": False, "+created": False, "-created": True}
"""Each ``orderBy`` Jira takes for comments, and whether it is newest first."""


def adf(text: str) -> dict[str, Any]:
    return {
        "type": "doc",
        "version": 1,
        "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": line}]}
            for line in text.splitlines()
            if line
        ],
    }


@dataclass
class Jira(VendorApi):
    email: str = "bot@example.com"
    api_token: str = "jira-token"  # noqa: S105 (the stand-in's own test token)
    issues: dict[str, str] = field(default_factory=dict)
    """Each issue's status, by key."""
    transitions: dict[str, str] = field(default_factory=lambda: {"21": "In Progress", "31": "Done"})
    comments: dict[str, list[str]] = field(default_factory=dict)
    """Each issue's comments' text (one line per paragraph), oldest first."""
    page_size: int = 100
    """The most comments one page holds, whatever ``maxResults`` asks."""

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/rest/api/3/issue/{key}/comment", self._comment)
        app.router.add_get("/rest/api/3/issue/{key}/comment", self._comments)
        app.router.add_post("/rest/api/3/issue/{key}/transitions", self._transition)
        return app

    def _allowed(self, request: web.Request) -> bool:
        wanted = base64.b64encode(f"{self.email}:{self.api_token}".encode()).decode()
        return request.headers.get("Authorization") == f"Basic {wanted}"

    async def _comment(self, request: web.Request) -> web.Response:
        if not self._allowed(request):
            return self.refuse(401, "Client must be authenticated")
        key = request.match_info["key"]
        body = await self.body(request)
        doc = body.get("body") if body else None
        if body is None or not isinstance(doc, dict) or doc.get("type") != "doc":
            return self.refuse(400, "Comment body is not valid Atlassian Document Format")
        if key not in self.issues:
            return self.refuse(404, "Issue does not exist")
        scripted = self.answer(request, body)
        if scripted is not None:
            return scripted
        text = "\n".join(
            part["text"] for para in doc.get("content", []) for part in para.get("content", [])
        )
        self.comments.setdefault(key, []).append(text)
        made = {"id": str(len(self.comments[key])), "body": doc}
        return await lost_or(request, web.json_response(made, status=201))

    async def _comments(self, request: web.Request) -> web.Response:
        if not self._allowed(request):
            return self.refuse(401, "Client must be authenticated")
        key = request.match_info["key"]
        query = request.query
        try:
            start = int(query.get("startAt", "0"))
            most = int(query.get("maxResults", "5000"))
        except ValueError:
            return self.refuse(400, "startAt and maxResults are integers")
        order = query.get("orderBy", "created")
        if start < 0 or most < 0 or order not in ORDERS:
            return self.refuse(400, f"Invalid paging or orderBy {order!r}")
        if key not in self.issues:
            return self.refuse(404, "Issue does not exist")
        scripted = self.answer(request, {}, read=True)
        if scripted is not None:
            return scripted
        texts = self.comments.get(key, [])
        numbered = [(str(n + 1), text) for n, text in enumerate(texts)]
        if ORDERS[order]:
            numbered.reverse()
        size = min(most, self.page_size)
        page = numbered[start : start + size]
        return web.json_response(
            {
                "startAt": start,
                "maxResults": size,
                "total": len(numbered),
                "comments": [{"id": cid, "body": adf(text)} for cid, text in page],
            }
        )

    async def _transition(self, request: web.Request) -> web.Response:
        if not self._allowed(request):
            return self.refuse(401, "Client must be authenticated")
        key = request.match_info["key"]
        body = await self.body(request)
        transition = body.get("transition") if body else None
        if body is None or not isinstance(transition, dict):
            return self.refuse(400, "transition is required")
        if key not in self.issues:
            return self.refuse(404, "Issue does not exist")
        if str(transition.get("id")) not in self.transitions:
            return self.refuse(400, "Transition id is not valid for this issue")
        scripted = self.answer(request, body)
        if scripted is not None:
            return scripted
        self.issues[key] = self.transitions[str(transition["id"])]
        return await lost_or(request, web.Response(status=204))

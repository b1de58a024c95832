"""A stand-in for Jira Cloud's REST API v3, for the tests: ``POST /rest/api/3/issue/{key}/
comment`` (the body in Atlassian Document Format) and ``POST .../transitions`` (``{"transition":
{"id"}}`` among the issue's transitions), with basic authentication (email and API token), as
Atlassian documents them. Unknown issues are 404; a transition the issue lacks is 400."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

from aiohttp import web

from standins.vendor_api import VendorApi


@dataclass
class Jira(VendorApi):
    email: str = "bot@example.com"
    api_token: str = "jira-token"  # noqa: S105 (the stand-in's own test token)
    issues: dict[str, str] = field(default_factory=dict)
    """Each issue's status, by key."""
    transitions: dict[str, str] = field(default_factory=lambda: {"21": "In Progress", "31": "Done"})
    comments: dict[str, list[str]] = field(default_factory=dict)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/rest/api/3/issue/{key}/comment", self._comment)
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
        return web.json_response({"id": str(len(self.comments[key])), "body": doc}, status=201)

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
        return web.Response(status=204)

"""A local stand-in for Twilio TaskRouter's Worker resource, for tests.

``POST /v1/Workspaces/{WorkspaceSid}/Workers/{Sid}``, form-encoded, authenticated with HTTP
Basic (the account SID and its auth token: 401, code 20003, otherwise). It checks what Twilio
checks: the SIDs' shapes (``WS``, ``WK``, ``WA`` and 32 hex digits), the workspace and worker
(404, code 20404), the activity (400, code 20001), a body that is a form, and
``RejectPendingReservations`` given only with an unavailable activity (400, code 20001). It
answers the Worker as Twilio does (``sid``, ``activity_sid``, ``activity_name``,
``available``, ...). Errors have Twilio's body: ``{"code", "message", "more_info", "status"}``.

``GET /v1/Workspaces/{WorkspaceSid}/Workers`` lists the workers a page at a time
(``PageSize`` 1 to 1000, default 50; ``Page`` and the ``PageToken`` the last page handed out,
else 400 code 20001), as ``{"workers": [...], "meta": {"page", "page_size", "first_page_url",
"previous_page_url", "url", "next_page_url", "key"}}``, ``next_page_url`` null on the last
page; each worker with its ``attributes`` as a JSON string.

Tests shape the answers with :meth:`TwilioStandIn.fail_next` (a status, a code and an optional
``Retry-After``) and ``no_change`` (200, and nothing changes), and read the calls, each
worker's activity, or the ``worker.activity.update`` event callback TaskRouter would send
(:meth:`TwilioStandIn.activity_event`).
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

_SID = re.compile(r"^(?P<prefix>[A-Z]{2})[0-9a-f]{32}$")


def sid(prefix: str) -> str:
    """A new SID of the kind ``prefix`` names (``WS``, ``WK``, ``WA`` ...)."""
    return prefix + secrets.token_hex(16)


@dataclass(frozen=True)
class Activity:
    sid: str
    name: str
    available: bool


@dataclass(frozen=True)
class Call:
    path: str
    form: dict[str, str]
    status: int
    at: float


@dataclass
class TwilioStandIn:
    account_sid: str = field(default_factory=lambda: "AC" + secrets.token_hex(16))
    auth_token: str = field(default_factory=lambda: secrets.token_hex(16))
    workspace_sid: str = field(default_factory=lambda: sid("WS"))
    activities: dict[str, Activity] = field(default_factory=dict)
    workers: dict[str, str] = field(default_factory=dict)
    """WorkerSid → their current ActivitySid."""
    attributes: dict[str, dict[str, Any]] = field(default_factory=dict)
    """WorkerSid → their attributes (e.g. ``email``, ``contact_uri``)."""
    names: dict[str, str] = field(default_factory=dict)
    """WorkerSid → their FriendlyName."""
    no_change: bool = False
    calls: list[Call] = field(default_factory=list)
    _failures: deque[tuple[int, int, float | None]] = field(default_factory=deque)
    _page_tokens: dict[str, int] = field(default_factory=dict)

    def activity(self, name: str, available: bool) -> Activity:
        found = Activity(sid("WA"), name, available)
        self.activities[found.sid] = found
        return found

    def fail_next(
        self, status: int, code: int, times: int = 1, retry_after: float | None = None
    ) -> None:
        self._failures.extend([(status, code, retry_after)] * times)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/Workspaces/{workspace}/Workers/{worker}", self._update)
        app.router.add_get("/v1/Workspaces/{workspace}/Workers", self._list)
        return app

    async def _list(self, request: web.Request) -> web.Response:
        auth = basic_auth(request.headers.get("Authorization", ""))
        refused: web.Response | None = None
        if auth is None or auth != (self.account_sid, self.auth_token):
            refused = self._error(401, 20003, "Authenticate")
        elif request.match_info["workspace"] != self.workspace_sid:
            refused = self._error(404, 20404, "The requested resource was not found")
        query = request.query
        size = page = 0
        if refused is None:
            try:
                size = int(query.get("PageSize", "50"))
                page = int(query.get("Page", "0"))
            except ValueError:
                size = 0
            token = query.get("PageToken")
            if not 1 <= size <= 1000 or page < 0:
                refused = self._error(400, 20001, "Invalid PageSize or Page")
            elif page > 0 and self._page_tokens.get(token or "") != page:
                refused = self._error(400, 20001, "Invalid PageToken")
        if refused is None and self._failures:
            status, code, retry_after = self._failures.popleft()
            extra = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
            refused = self._error(status, code, f"scripted error {code}", **extra)
        status = refused.status if refused is not None else 200
        self.calls.append(Call(request.path_qs, dict(query), status, time.monotonic()))
        if refused is not None:
            return refused
        ids = sorted(self.workers)
        chosen = ids[page * size : (page + 1) * size]
        base = f"https://taskrouter.twilio.com/v1/Workspaces/{self.workspace_sid}/Workers"
        next_url = None
        if (page + 1) * size < len(ids):
            token = "PA" + secrets.token_hex(8)
            self._page_tokens[token] = page + 1
            next_url = f"{base}?PageSize={size}&Page={page + 1}&PageToken={token}"
        return web.json_response(
            {
                "workers": [self._worker(w) for w in chosen],
                "meta": {
                    "page": page,
                    "page_size": size,
                    "first_page_url": f"{base}?PageSize={size}&Page=0",
                    "previous_page_url": None,
                    "url": f"{base}?PageSize={size}&Page={page}",
                    "next_page_url": next_url,
                    "key": "workers",
                },
            }
        )

    def activity_event(self, worker: str, at: float | None = None) -> dict[str, str]:
        """The ``worker.activity.update`` event callback for the worker's activity now."""
        activity = self.activities[self.workers[worker]]
        stamp = time.time() if at is None else at
        return {
            "AccountSid": self.account_sid,
            "WorkspaceSid": self.workspace_sid,
            "EventType": "worker.activity.update",
            "EventDescription": f"Worker changed activity to {activity.name}",
            "ResourceType": "worker",
            "ResourceSid": worker,
            "Sid": sid("EV"),
            "Timestamp": str(int(stamp)),
            "TimestampMs": str(int(stamp * 1000)),
            "WorkerSid": worker,
            "WorkerActivitySid": activity.sid,
            "WorkerActivityName": activity.name,
        }

    @staticmethod
    def _error(status: int, code: int, message: str, **headers: str) -> web.Response:
        body = {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        }
        return web.json_response(body, status=status, headers=headers)

    def _refusal(self, request: web.Request, form: dict[str, str]) -> web.Response | None:
        auth = basic_auth(request.headers.get("Authorization", ""))
        if auth is None or auth != (self.account_sid, self.auth_token):
            return self._error(401, 20003, "Authenticate")
        if request.content_type != "application/x-www-form-urlencoded":
            return self._error(400, 20001, "The request body must be form-encoded")
        workspace, worker = request.match_info["workspace"], request.match_info["worker"]
        if not _is(workspace, "WS") or not _is(worker, "WK"):
            return self._error(404, 20404, "The requested resource was not found")
        if workspace != self.workspace_sid or worker not in self.workers:
            return self._error(404, 20404, "The requested resource was not found")
        activity_sid = form.get("ActivitySid")
        if activity_sid is not None and (
            not _is(activity_sid, "WA") or activity_sid not in self.activities
        ):
            return self._error(400, 20001, f"Invalid ActivitySid {activity_sid}")
        reject = form.get("RejectPendingReservations")
        if reject is not None:
            if reject.lower() not in ("true", "false"):
                return self._error(400, 20001, "RejectPendingReservations must be a boolean")
            target = self.activities.get(activity_sid or self.workers[worker])
            if reject.lower() == "true" and target is not None and target.available:
                return self._error(
                    400,
                    20001,
                    "RejectPendingReservations is only valid with an unavailable activity",
                )
        if self._failures:
            status, code, retry_after = self._failures.popleft()
            extra = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
            return self._error(status, code, f"scripted error {code}", **extra)
        return None

    async def _update(self, request: web.Request) -> web.Response:
        form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
        refused = self._refusal(request, form)
        status = refused.status if refused is not None else 200
        self.calls.append(Call(request.path, form, status, time.monotonic()))
        if refused is not None:
            return refused
        worker = request.match_info["worker"]
        if "ActivitySid" in form and not self.no_change:
            self.workers[worker] = form["ActivitySid"]
        return web.json_response(self._worker(worker))

    def _worker(self, worker: str) -> dict[str, Any]:
        activity = self.activities[self.workers[worker]]
        return {
            "sid": worker,
            "account_sid": self.account_sid,
            "workspace_sid": self.workspace_sid,
            "activity_sid": activity.sid,
            "activity_name": activity.name,
            "available": activity.available,
            "friendly_name": self.names.get(worker, worker),
            "attributes": json.dumps(self.attributes.get(worker, {})),
            "url": f"https://taskrouter.twilio.com/v1/Workspaces/{self.workspace_sid}"
            f"/Workers/{worker}",
        }


def _is(value: str, prefix: str) -> bool:
    found = _SID.match(value)
    return found is not None and found["prefix"] == prefix


def basic_auth(header: str) -> tuple[str, str] | None:
    """HTTP Basic credentials: ``(user, password)``, or ``None`` if the header is not that."""
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, sep, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return (user, password) if sep else None

"""A local stand-in for Genesys Cloud's login and presence API, for tests.

* ``POST /oauth/token``: the client-credentials grant, the client id and secret in HTTP Basic
  (``invalid_client`` 401 otherwise), a bearer token with ``expires_in``.
* ``GET /api/v2/presence/definitions``: the organization's presence definitions
  (``{"entities": [...], "total"}``), each with ``id``, ``type`` (``System`` or ``User``),
  ``languageLabels``, ``systemPresence`` and ``deactivated``; needs
  ``presence:presenceDefinition:view``.
* ``PATCH /api/v2/users/{userId}/presences/purecloud``: ``{"presenceDefinition": {"id"}}``
  (400 ``bad.request`` without it, 404 for an unknown user or an unknown or deactivated
  presence); changing another user's presence needs ``presence:userPresence:edit`` (403
  ``missing.permissions``). It answers the user's presence, as ``UserPresence``.

* ``GET /api/v2/users``: the organization's users a page at a time (``pageSize`` 1 to 500,
  default 25; ``pageNumber`` from 1; ``state`` ``active`` by default, or ``inactive``,
  ``deleted``, ``any``; 400 ``bad.request`` otherwise), as ``{"entities", "pageSize",
  "pageNumber", "total", "pageCount", "selfUri", "firstUri", "lastUri", "nextUri"}``; each
  user with ``id``, ``name``, ``email``, ``state``; needs ``directory:user:view``.

Every API call needs a valid bearer token (401 ``bad.credentials``) and counts against its
token's quota: 300 requests in any 60 seconds, then 429 ``too.many.requests`` with
``Retry-After``. Errors have Genesys' body: ``{"message", "code", "status", "contextId"}``.

Tests shape the answers with :meth:`GenesysStandIn.fail_next`, ``no_change`` (200, and nothing
changes), :meth:`GenesysStandIn.expire_tokens`, and read the calls, each user's presence, or
the presence notification the websocket would send (:meth:`GenesysStandIn.notification`).
"""

from __future__ import annotations

import base64
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

DEFINITION_VIEW = "presence:presenceDefinition:view"
USER_VIEW = "directory:user:view"
PRESENCE_EDIT = "presence:userPresence:edit"


@dataclass(frozen=True)
class Definition:
    id: str
    label: str
    system_presence: str
    """As the definitions list spells it: ``Available``, ``Busy``, ``On Queue`` ..."""
    type: str = "User"
    deactivated: bool = False

    def entity(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "languageLabels": {"en_US": self.label},
            "systemPresence": self.system_presence,
            "divisionId": "*",
            "deactivated": self.deactivated,
            "selfUri": f"/api/v2/presence/definitions/{self.id}",
        }


def system_definitions() -> list[Definition]:
    """The system presences every organization has."""
    return [
        Definition(str(uuid.uuid4()), label, label, type="System")
        for label in (
            "Available",
            "Away",
            "Break",
            "Busy",
            "Meal",
            "Meeting",
            "Offline",
            "On Queue",
            "Training",
        )
    ]


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    body: Any
    status: int
    token: str | None
    at: float


def _wall() -> datetime:
    return datetime.fromtimestamp(time.time(), UTC)


@dataclass
class GenesysStandIn:
    clients: dict[str, str] = field(default_factory=dict)
    """OAuth client id → secret."""
    permissions: dict[str, set[str]] = field(default_factory=dict)
    """OAuth client id → its role's permissions (all, when not listed)."""
    definitions: list[Definition] = field(default_factory=system_definitions)
    users: dict[str, str] = field(default_factory=dict)
    """User id → their current presence definition id."""
    people: dict[str, dict[str, str]] = field(default_factory=dict)
    """User id → ``name``, ``email``, ``state`` (``active`` unless said), for the user list."""
    limit: int = 300
    period: float = 60.0
    token_seconds: int = 86_400
    no_change: bool = False
    now: Callable[[], datetime] = field(default=lambda: _wall())
    calls: list[Call] = field(default_factory=list)
    tokens: dict[str, str] = field(default_factory=dict)
    """Token → the client it was given to."""
    _spent: dict[str, deque[float]] = field(default_factory=dict)
    _failures: deque[tuple[int, str, float | None]] = field(default_factory=deque)

    def define(self, label: str, system_presence: str, **extra: Any) -> Definition:
        definition = Definition(str(uuid.uuid4()), label, system_presence, **extra)
        self.definitions.append(definition)
        return definition

    def named(self, label: str) -> Definition:
        return next(d for d in self.definitions if d.label == label)

    def fail_next(
        self, status: int, code: str, times: int = 1, retry_after: float | None = None
    ) -> None:
        """Answer the next ``times`` API calls with ``status`` and Genesys' ``code``."""
        self._failures.extend([(status, code, retry_after)] * times)

    def expire_tokens(self) -> None:
        self.tokens.clear()

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/oauth/token", self._token)
        app.router.add_get("/api/v2/presence/definitions", self._definitions)
        app.router.add_patch("/api/v2/users/{user}/presences/purecloud", self._patch)
        app.router.add_get("/api/v2/users", self._users)
        return app

    async def _users(self, request: web.Request) -> web.Response:
        refused = self._guard(request, USER_VIEW)
        if refused is not None:
            self._record(request, dict(request.query), refused.status)
            return refused
        query = request.query
        try:
            size = int(query.get("pageSize", "25"))
            number = int(query.get("pageNumber", "1"))
        except ValueError:
            size = number = 0
        state = query.get("state", "active")
        if (
            not 1 <= size <= 500
            or number < 1
            or state
            not in (
                "active",
                "inactive",
                "deleted",
                "any",
            )
        ):
            self._record(request, dict(query), 400)
            return self._error(400, "bad.request", "pageSize, pageNumber or state is not valid")
        chosen = [
            (user, p)
            for user, p in sorted(self.people.items())
            if state == "any" or p.get("state", "active") == state
        ]
        count = max(1, -(-len(chosen) // size))
        page = chosen[(number - 1) * size : number * size]

        def uri(n: int) -> str:
            return f"/api/v2/users?pageSize={size}&pageNumber={n}&state={state}"

        body: dict[str, Any] = {
            "entities": [
                {
                    "id": user,
                    "name": p.get("name", ""),
                    "email": p.get("email"),
                    "state": p.get("state", "active"),
                    "username": p.get("email"),
                    "version": 1,
                    "selfUri": f"/api/v2/users/{user}",
                }
                for user, p in page
            ],
            "pageSize": size,
            "pageNumber": number,
            "total": len(chosen),
            "pageCount": count,
            "selfUri": uri(number),
            "firstUri": uri(1),
            "lastUri": uri(count),
        }
        if number < count:
            body["nextUri"] = uri(number + 1)
        self._record(request, dict(query), 200)
        return web.json_response(body)

    def presence_of(self, user: str) -> Definition:
        return next(d for d in self.definitions if d.id == self.users[user])

    def notification(self, user: str, at: datetime | None = None) -> dict[str, Any]:
        """The ``v2.users.{id}.presence`` message for the user's presence now."""
        definition = self.presence_of(user)
        stamp = (at or self.now()).isoformat(timespec="milliseconds")
        return {
            "topicName": f"v2.users.{user}.presence",
            "version": "2",
            "eventBody": {
                "source": "PURECLOUD",
                "presenceDefinition": {
                    "id": definition.id,
                    "systemPresence": definition.system_presence.upper().replace(" ", "_"),
                },
                "primary": True,
                "message": "",
                "modifiedDate": stamp.replace("+00:00", "Z"),
            },
            "metadata": {"CorrelationId": str(uuid.uuid4())},
        }

    @staticmethod
    def _error(status: int, code: str, message: str, **headers: str) -> web.Response:
        body = {
            "message": message,
            "code": code,
            "status": status,
            "contextId": str(uuid.uuid4()),
            "details": [],
            "errors": [],
        }
        return web.json_response(body, status=status, headers=headers)

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        auth = basic_auth(request.headers.get("Authorization", ""))
        if form.get("grant_type") != "client_credentials":
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        if auth is None or self.clients.get(auth[0]) != auth[1]:
            return web.json_response(
                {"error": "invalid_client", "description": "client not found"}, status=401
            )
        token = uuid.uuid4().hex
        self.tokens[token] = auth[0]
        return web.json_response(
            {"access_token": token, "token_type": "bearer", "expires_in": self.token_seconds}
        )

    def _guard(self, request: web.Request, permission: str) -> web.Response | None:
        """Authentication, the token's quota, scripted failures, the permission."""
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        client = self.tokens.get(token) if scheme.lower() == "bearer" else None
        if client is None:
            return self._error(401, "bad.credentials", "Invalid login credentials.")
        now = time.monotonic()
        spent = self._spent.setdefault(token, deque())
        while spent and spent[0] <= now - self.period:
            spent.popleft()
        if len(spent) >= self.limit:
            wait = max(1, int(spent[0] + self.period - now) + 1)
            return self._error(
                429,
                "too.many.requests",
                f"Rate limit exceeded the maximum. [{self.limit}] requests for "
                f"[{int(self.period)}] seconds",
                **{"Retry-After": str(wait)},
            )
        spent.append(now)
        if self._failures:
            status, code, retry_after = self._failures.popleft()
            extra = {"Retry-After": str(retry_after)} if retry_after is not None else {}
            return self._error(status, code, f"scripted {code}", **extra)
        granted = self.permissions.get(client)
        if granted is not None and permission not in granted:
            return self._error(
                403,
                "missing.permissions",
                f"Unable to perform the requested action. "
                f"You must have the following permission: {permission}",
            )
        return None

    def _record(self, request: web.Request, body: Any, status: int) -> None:
        token = request.headers.get("Authorization", "").partition(" ")[2] or None
        self.calls.append(Call(request.method, request.path, body, status, token, time.monotonic()))

    async def _definitions(self, request: web.Request) -> web.Response:
        refused = self._guard(request, DEFINITION_VIEW)
        if refused is not None:
            self._record(request, None, refused.status)
            return refused
        include_deactivated = request.query.get("deactivated", "false").lower() == "true"
        entities = [
            d.entity() for d in self.definitions if include_deactivated or not d.deactivated
        ]
        self._record(request, dict(request.query), 200)
        return web.json_response({"entities": entities, "total": len(entities)})

    async def _patch(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            body = None
        refused = self._guard(request, PRESENCE_EDIT)
        if refused is not None:
            self._record(request, body, refused.status)
            return refused
        user = request.match_info["user"]
        wanted = body.get("presenceDefinition") if isinstance(body, dict) else None
        presence = wanted.get("id") if isinstance(wanted, dict) else None
        answer: web.Response | None = None
        if not isinstance(presence, str) or not presence:
            answer = self._error(400, "bad.request", "presenceDefinition.id is required")
        elif user not in self.users:
            answer = self._error(404, "not.found", f"user {user} not found")
        elif not any(d.id == presence and not d.deactivated for d in self.definitions):
            answer = self._error(404, "not.found", f"presence definition {presence} not found")
        if answer is not None:
            self._record(request, body, answer.status)
            return answer
        assert isinstance(presence, str)
        if not self.no_change:
            self.users[user] = presence
        self._record(request, body, 200)
        current = self.presence_of(user)
        return web.json_response(
            {
                "id": "PURECLOUD",
                "source": "PURECLOUD",
                "primary": True,
                "presenceDefinition": {
                    "id": current.id,
                    "systemPresence": current.system_presence,
                },
                "message": "",
                "modifiedDate": self.now().isoformat(timespec="milliseconds"),
            }
        )


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

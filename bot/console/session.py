"""Who is looking: the session cookie (encrypted, HttpOnly, SameSite=Lax), the viewer's role
worked out again on every request, and the CSRF token every form carries."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any, Literal

from aiohttp import web
from aiohttp_session import Session, get_session, new_session
from aiohttp_session.cookie_storage import EncryptedCookieStorage

from bot.console.config import ConsoleConfig
from bot.http.keys import STORES, TOKENS
from bot.slack.auth import Supervisors
from bot.stores import Stores

Role = Literal["supervisor", "agent"]
COOKIE = "blendbot_console"
CONFIG = web.AppKey("console_config", ConsoleConfig)


def storage(config: ConsoleConfig) -> EncryptedCookieStorage:
    """The cookie store: Fernet-encrypted and timestamped, so a cookie older than a sign-in's
    life is refused even when the browser kept it."""
    return EncryptedCookieStorage(
        config.key,
        cookie_name=COOKIE,
        max_age=config.session_seconds,
        path="/console",
        secure=config.secure_cookies,
        httponly=True,
        samesite="Lax",
    )


@dataclass(frozen=True)
class Viewer:
    actor: str
    """``slack:<user id>`` or ``token:<fingerprint>``: the audit log's name for them."""
    name: str
    role: Role
    agent_id: str | None = None
    """The agent on the roster (for an agent: whose day they see)."""

    @property
    def supervisor(self) -> bool:
        return self.role == "supervisor"


def fingerprint(token: str) -> str:
    """An API token as the audit log names it (never the token)."""
    return "token:" + hashlib.sha256(token.encode()).hexdigest()[:12]


def token_ok(request: web.Request, token: str) -> bool:
    """Whether ``token`` is one of the service's API tokens, compared in constant time."""
    given = token.strip().encode()
    return any(hmac.compare_digest(given, str(t).encode()) for t in request.config_dict[TOKENS])


async def slack_role(
    stores: Stores, config: ConsoleConfig, user_id: str
) -> tuple[Role | None, str | None, str | None]:
    """A Slack user's role (none: refused), their agent id and name on the roster: the
    supervisors Slack knows (configured ids, the synced group) see everything; an agent on
    the roster sees their own day."""
    person = await stores.views.person_by_slack_user(user_id)
    supervisors = Supervisors(stores.slack, None, config.supervisors, config.supervisor_group)
    agent_id = person.agent_id if person else None
    name = person.name if person else None
    if await supervisors.allows(user_id):
        return "supervisor", agent_id, name
    if person is not None:
        return "agent", agent_id, name
    return None, None, None


async def csrf_token(request: web.Request) -> str:
    """The session's CSRF token, made on first use (a visitor not yet signed in has one too:
    the sign-in form is protected as well)."""
    session = await get_session(request)
    token = session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


async def sign_in(request: web.Request, *, actor: str, name: str) -> Session:
    """A fresh session for who signed in (never the visitor's old one: no fixation)."""
    session = await new_session(request)
    session["actor"] = actor
    session["name"] = name
    session["csrf"] = secrets.token_urlsafe(32)
    return session


async def viewer(request: web.Request) -> Viewer | None:
    """Who is signed in, with their role as blendbot knows it now; ``None``: nobody, or
    someone who lost their role since they signed in."""
    session = await get_session(request)
    actor = session.get("actor")
    name = str(session.get("name") or "")
    if not isinstance(actor, str):
        return None
    if actor.startswith("token:"):
        return Viewer(actor, name, "supervisor")
    if actor.startswith("slack:"):
        config = request.app[CONFIG]
        role, agent_id, known = await slack_role(
            request.config_dict[STORES], config, actor.removeprefix("slack:")
        )
        if role is None:
            return None
        return Viewer(actor, known or name, role, agent_id)
    return None


@web.middleware
async def csrf_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    """Refuse every POST whose form does not carry the session's CSRF token."""
    if request.method == "POST":
        session = await get_session(request)
        expected = session.get("csrf")
        form = await request.post()
        given = form.get("csrf")
        if not (
            isinstance(expected, str)
            and isinstance(given, str)
            and hmac.compare_digest(given.encode(), expected.encode())
        ):
            raise web.HTTPForbidden(
                reason="This form has no valid security token: reload the page and try again."
            )
    response: web.StreamResponse = await handler(request)
    return response

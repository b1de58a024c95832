"""Sign in with Slack in the Slack stand-in: OpenID Connect as Slack documents it.

``GET /openid/connect/authorize`` (``response_type=code``, a ``scope`` with ``openid``, a known
``client_id``, a registered ``redirect_uri``, the caller's ``state``) is where a person
approves: the stand-in approves as :attr:`OpenIdStandIn.signed_in` (the user this browser is
signed in to Slack as) and sends them back with a one-time code. ``openid.connect.token``
trades the code for a user token (the client's id and secret as HTTP Basic or as arguments;
the ``redirect_uri``, required when the authorize step had one, must match) and
``openid.connect.userInfo`` tells, for that token, who the user is.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from yarl import URL

CODE_SECONDS = 600
METHODS = frozenset({"openid.connect.token", "openid.connect.userInfo"})
"""Methods called with the app's client credentials or a user token, not the bot token."""


class OpenIdError(Exception):
    """Slack's ``ok: false`` with this error code."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


@dataclass(frozen=True)
class Client:
    secret: str
    redirect_uris: tuple[str, ...]
    """Registered redirect URLs: a ``redirect_uri`` must start with one of them."""


@dataclass(frozen=True)
class _Grant:
    client_id: str
    user: str
    redirect_uri: str | None
    nonce: str | None
    expires: float


@dataclass
class OpenIdStandIn:
    team_id: str = "T0STANDIN"
    team_name: str = "Stand-in"
    clients: dict[str, Client] = field(default_factory=dict)
    signed_in: str | None = None
    """The Slack user who approves at the authorize page (``None``: nobody signed in, the
    approval is refused with ``access_denied``)."""
    names: dict[str, str] = field(default_factory=dict)
    _codes: dict[str, _Grant] = field(default_factory=dict)
    _tokens: dict[str, str] = field(default_factory=dict)

    async def authorize(self, request: web.Request) -> web.Response:
        q = request.query
        client = self.clients.get(q.get("client_id", ""))
        redirect_uri = q.get("redirect_uri")
        if client is None:
            return web.Response(status=400, text="invalid_client_id")
        if redirect_uri is None or not redirect_uri.startswith(client.redirect_uris):
            return web.Response(status=400, text="bad_redirect_uri")
        back = URL(redirect_uri)
        scopes = q.get("scope", "").replace(",", " ").split()
        if q.get("response_type") != "code":
            raise web.HTTPFound(back.update_query(error="unsupported_response_type"))
        if "openid" not in scopes:
            raise web.HTTPFound(back.update_query(error="invalid_scope"))
        state = q.get("state")
        extra = {"state": state} if state is not None else {}
        if self.signed_in is None:
            raise web.HTTPFound(back.update_query(error="access_denied", **extra))
        code = secrets.token_urlsafe(24)
        self._codes[code] = _Grant(
            q["client_id"],
            self.signed_in,
            redirect_uri,
            q.get("nonce"),
            time.monotonic() + CODE_SECONDS,
        )
        raise web.HTTPFound(back.update_query(code=code, **extra))

    def call(self, method: str, args: dict[str, Any], authorization: str) -> dict[str, Any]:
        """One of :data:`METHODS`; raises :class:`OpenIdError` for Slack's ``ok: false``."""
        if method == "openid.connect.token":
            return self._token(args, authorization)
        return self._user_info(authorization)

    def _token(self, args: dict[str, Any], authorization: str) -> dict[str, Any]:
        client_id, secret = str(args.get("client_id", "")), str(args.get("client_secret", ""))
        scheme, _, encoded = authorization.partition(" ")
        if scheme.lower() == "basic":
            try:
                client_id, _, secret = base64.b64decode(encoded).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                raise OpenIdError("invalid_client_id") from None
        client = self.clients.get(client_id)
        if client is None:
            raise OpenIdError("invalid_client_id")
        if not secrets.compare_digest(secret, client.secret):
            raise OpenIdError("bad_client_secret")
        if args.get("grant_type", "authorization_code") != "authorization_code":
            raise OpenIdError("invalid_grant_type")
        grant = self._codes.pop(str(args.get("code", "")), None)
        if grant is None or grant.client_id != client_id or grant.expires < time.monotonic():
            raise OpenIdError("invalid_code")
        if grant.redirect_uri is not None and args.get("redirect_uri") != grant.redirect_uri:
            raise OpenIdError("bad_redirect_uri")
        token = "xoxp-" + secrets.token_hex(16)
        self._tokens[token] = grant.user
        now = int(time.time())
        claims = {
            "iss": "https://slack.com",
            "sub": grant.user,
            "aud": client_id,
            "exp": now + 3600,
            "iat": now,
            "auth_time": now,
            "https://slack.com/user_id": grant.user,
            "https://slack.com/team_id": self.team_id,
            **({"nonce": grant.nonce} if grant.nonce else {}),
        }
        return {
            "access_token": token,
            "token_type": "Bearer",
            "id_token": _unsigned_jwt(claims),
        }

    def _user_info(self, authorization: str) -> dict[str, Any]:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise OpenIdError("not_authed")
        user = self._tokens.get(token.strip())
        if user is None:
            raise OpenIdError("invalid_auth")
        name = self.names.get(user, user)
        return {
            "sub": user,
            "https://slack.com/user_id": user,
            "https://slack.com/team_id": self.team_id,
            "https://slack.com/team_name": self.team_name,
            "name": name,
            "given_name": name.split()[0] if name.split() else name,
            "locale": "en-US",
        }


def _segment(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def _unsigned_jwt(claims: dict[str, Any]) -> str:
    """An ID token's shape (Slack's are signed; nothing here checks the signature)."""
    return f"{_segment({'alg': 'none', 'typ': 'JWT'})}.{_segment(claims)}."

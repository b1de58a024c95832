"""Signing in: an API token through a form (a local install), or Sign in with Slack (OpenID
Connect: Slack's authorize page, then ``openid.connect.token`` and ``openid.connect.userInfo``
on the Web API). Every attempt is written to the audit log."""

from __future__ import annotations

import secrets
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp_session import get_session
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from yarl import URL

from bot.console.config import ConsoleConfig, SlackSignIn
from bot.console.render import page
from bot.console.session import CONFIG, csrf_token, fingerprint, sign_in, slack_role, token_ok
from bot.http.keys import STORES

CALLBACK = "/console/auth/slack/callback"
USER_ID = "https://slack.com/user_id"
TEAM_ID = "https://slack.com/team_id"


async def sign_in_page(request: web.Request, *, error: str | None = None) -> web.Response:
    config = request.app[CONFIG]
    await csrf_token(request)
    return await page(
        request,
        "sign_in.html",
        {"slack": config.slack is not None, "error": error},
        status=401 if error else 200,
        viewer=None,
    )


async def show_sign_in(request: web.Request) -> web.Response:
    return await sign_in_page(request)


async def token_sign_in(request: web.Request) -> web.Response:
    form = await request.post()
    token = form.get("token")
    given = token if isinstance(token, str) else ""
    allowed = bool(given.strip()) and token_ok(request, given)
    actor = fingerprint(given.strip())
    await request.config_dict[STORES].slack.audit(actor, "console_sign_in", allowed, via="token")
    if not allowed:
        return await sign_in_page(request, error="That is not one of this service's API tokens.")
    await sign_in(request, actor=actor, name="API token " + actor.removeprefix("token:")[:6])
    raise web.HTTPSeeOther("/console/")


async def sign_out(request: web.Request) -> web.Response:
    session = await get_session(request)
    session.invalidate()
    raise web.HTTPSeeOther("/console/sign-in")


def _redirect_uri(request: web.Request, config: ConsoleConfig) -> str:
    base = config.public_url or str(request.url.origin())
    return base.rstrip("/") + CALLBACK


def _slack(config: ConsoleConfig) -> SlackSignIn:
    if config.slack is None:
        raise web.HTTPNotFound(reason="Sign in with Slack is not set up on this service.")
    return config.slack


async def slack_start(request: web.Request) -> web.Response:
    """Off to Slack's authorize page, with a state that only this browser's session knows."""
    config = request.app[CONFIG]
    slack = _slack(config)
    state = secrets.token_urlsafe(24)
    session = await get_session(request)
    session["oidc_state"] = state
    query = {
        "response_type": "code",
        "scope": "openid profile",
        "client_id": slack.client_id,
        "state": state,
        "redirect_uri": _redirect_uri(request, config),
    }
    if slack.team_id:
        query["team"] = slack.team_id
    raise web.HTTPFound(URL(slack.authorize_url).with_query(query))


async def _identity(slack: SlackSignIn, code: str, redirect_uri: str) -> dict[str, Any]:
    """Who approved, as Slack tells it: the code traded for a token, the token for the user."""
    client = AsyncWebClient(base_url=slack.api_url)
    # The client's credentials go as arguments, which Slack accepts as well as HTTP Basic.
    tokens = await client.api_call(
        "openid.connect.token",
        data={
            "client_id": slack.client_id,
            "client_secret": slack.client_secret,
            "code": code,
            "redirect_uri": redirect_uri,
            "grant_type": "authorization_code",
        },
    )
    user = AsyncWebClient(token=str(tokens["access_token"]), base_url=slack.api_url)
    info = await user.openid_connect_userInfo()
    return dict(info.data) if isinstance(info.data, dict) else {}


async def slack_callback(request: web.Request) -> web.Response:
    config = request.app[CONFIG]
    slack = _slack(config)
    session = await get_session(request)
    expected = session.pop("oidc_state", None)
    if request.query.get("error"):
        return await sign_in_page(request, error="Slack sign-in was cancelled.")
    state, code = request.query.get("state", ""), request.query.get("code", "")
    if not isinstance(expected, str) or not code or not secrets.compare_digest(state, expected):
        return await sign_in_page(request, error="That Slack sign-in has expired: try again.")
    try:
        info = await _identity(slack, code, _redirect_uri(request, config))
    except SlackApiError as exc:
        error = exc.response.get("error", "error") if exc.response is not None else "error"
        return await sign_in_page(request, error=f"Slack refused the sign-in ({error}).")
    except (aiohttp.ClientError, TimeoutError):
        return await sign_in_page(request, error="Slack could not be reached: try again.")
    user, team = str(info.get(USER_ID) or ""), str(info.get(TEAM_ID) or "")
    stores = request.config_dict[STORES]
    if not user or (slack.team_id and team != slack.team_id):
        await stores.slack.audit(user or "?", "console_sign_in", False, via="slack", team=team)
        return await sign_in_page(request, error="That Slack workspace is not this service's.")
    role, _, name = await slack_role(stores, config, user)
    await stores.slack.audit(user, "console_sign_in", role is not None, via="slack", role=role)
    if role is None:
        return await sign_in_page(
            request,
            error="You are neither a supervisor nor an agent on the roster: ask a supervisor.",
        )
    await sign_in(request, actor="slack:" + user, name=name or str(info.get("name") or user))
    raise web.HTTPSeeOther("/console/")

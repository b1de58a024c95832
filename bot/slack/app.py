"""The Bolt app, and ``register_slack``, which mounts it at ``/slack/events``.

Events API, interactivity and the slash command share one path. Each request's signature and
timestamp are checked on its bytes before anything reads it (``bot/slack/signing.py``: a
forged or stale one gets 401 and reaches no listener), then Bolt checks them again and runs
the listener before answering (``process_before_response``), so that the change a click
asks for is committed when Slack sees the ack.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.signature import SignatureVerifier

from bot.acd import STEERING
from bot.http.keys import STORES
from bot.slack import agent, commands, home, supervisor
from bot.slack.auth import Supervisors
from bot.slack.context import Context, SlackConfig
from bot.slack.notify import Notifier
from bot.slack.outbox import Outbox, web_client
from bot.slack.signing import signed_by_slack, unreadable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Slack:
    """Everything ``register_slack`` built: the tick and ``serve`` reach Slack through it."""

    bolt: AsyncApp
    context: Context
    notifier: Notifier

    @property
    def outbox(self) -> Outbox:
        return self.context.outbox


SLACK = web.AppKey("slack", Slack)


def build(context: Context) -> AsyncApp:
    config = context.config
    bolt = AsyncApp(
        client=context.client,
        signing_secret=config.signing_secret,
        process_before_response=True,
        logger=logging.getLogger("bot.slack.bolt"),
    )

    async def dedupe(body: dict[str, Any], next: Callable[[], Awaitable[None]]) -> Any:
        """Slack retries an event it thinks we missed: handle each event id once."""
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id and not await context.stores.slack.first_sight(str(event_id)):
            return BoltResponse(status=200, body="")
        return await next()

    bolt.middleware(dedupe)
    agent.register(bolt, context)
    supervisor.register(bolt, context)
    commands.register(bolt, context)
    home.register(bolt, context)
    return bolt


def register_slack(app: web.Application, config: SlackConfig) -> Slack:
    """Mount ``/slack/events`` on an app built by ``create_app``, and start the outbox with it."""
    stores = app[STORES]
    client = web_client(config.bot_token, config.api_url)
    outbox = Outbox(stores.pool, client)
    supervisors = Supervisors(stores.slack, client, config.supervisors, config.supervisor_group)
    steering = app.get(STEERING)
    context = Context(stores.pool, stores, client, outbox, supervisors, config, steering=steering)
    slack = Slack(build(context), context, Notifier(context))
    if steering is not None:
        steering.notifier = slack.notifier
    app[SLACK] = slack

    verifier = SignatureVerifier(config.signing_secret)

    async def events(request: web.Request) -> web.Response:
        raw = await request.read()
        if not signed_by_slack(verifier, request.headers, raw):
            return web.json_response({"error": "invalid request"}, status=401)
        body = raw.decode("utf-8")
        problem = unreadable(body, request.content_type)
        if problem is not None:
            return web.json_response({"error": f"malformed body: {problem}"}, status=400)
        bolt_request = AsyncBoltRequest(
            body=body,
            query=request.query_string,
            headers=request.headers,  # type: ignore[arg-type]
        )
        bolt_response = await slack.bolt.async_dispatch(bolt_request)
        return await to_aiohttp_response(bolt_response)

    async def background(_: web.Application) -> AsyncIterator[None]:
        # One HTTP session for every Web API call while the app runs (the client would
        # otherwise open one per call).
        session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=client.timeout))
        client.session = session
        tasks: list[asyncio.Task[None]] = []
        if config.run_outbox:
            tasks.append(asyncio.create_task(outbox.run(), name="slack-outbox"))
        if config.supervisor_group:
            tasks.append(asyncio.create_task(_sync_forever(context), name="slack-group-sync"))
        yield
        await context.settle()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        client.session = None
        await session.close()

    app.router.add_post("/slack/events", events)
    app.cleanup_ctx.append(background)
    return slack


async def _sync_forever(context: Context) -> None:
    while True:
        try:
            count = await context.supervisors.sync()
            if count is not None:
                log.info("supervisor group synced: %d members", count)
        except OSError as exc:
            log.warning("supervisor group sync failed: %s", exc)
        await asyncio.sleep(context.config.group_sync_seconds)

"""Socket Mode: with ``SLACK_APP_TOKEN`` set, the app connects out to Slack's websocket (the
stand-in's), takes slash commands, clicks and events in envelopes, and acks each one."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import root
from bot.settings import load_settings
from bot.slack.app import Slack
from bot.slack.socket import run_socket_mode
from standins.slack import StandIn
from tests.conftest import TOKEN
from tests.support.slack import (
    BOT_TOKEN,
    DANA,
    SECRET,
    SUPERVISOR,
    action_payload,
    command_payload,
    seed,
)

APP_TOKEN = "xapp-1-A0STANDIN-0001-socket"


@dataclass
class Connected:
    standin: StandIn
    slack: Slack
    pool: asyncpg.Pool


@pytest.fixture
async def connected(
    pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> AsyncIterator[Connected]:
    """The service as ``blendbot serve`` builds it from the environment, in Socket Mode."""
    standin = StandIn(token=BOT_TOKEN, app_token=APP_TOKEN, users={DANA: "Dana Levi"})
    api = TestServer(standin.app())
    await api.start_server()
    monkeypatch.chdir(tmp_path)  # no .env file of the developer's
    for name in list(os.environ):
        if name.startswith(("BLENDBOT_", "SLACK_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SECRET)
    monkeypatch.setenv("SLACK_APP_TOKEN", APP_TOKEN)
    monkeypatch.setenv("BLENDBOT_SLACK_API_URL", str(api.make_url("/api/")))
    monkeypatch.setenv("BLENDBOT_SUPERVISORS", SUPERVISOR)
    settings = load_settings()
    config = root.slack_config(settings, root.parts(settings))
    assert config is not None
    assert settings.slack_app_token == APP_TOKEN
    app = root.http_app(pool, root.parts(settings), tokens=[TOKEN], slack=config)
    slack = app.slack
    assert slack is not None
    try:
        async with TestClient(TestServer(app.web)):
            socket = asyncio.create_task(run_socket_mode(slack, settings.slack_app_token))
            try:
                yield Connected(standin, slack, pool)
            finally:
                socket.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await socket
    finally:
        await api.close()


async def _deliver(c: Connected, kind: Any, payload: dict[str, Any]) -> dict[str, Any]:
    async with asyncio.timeout(10):
        return await c.standin.socket.deliver(
            kind, payload, accepts_response_payload=kind != "events_api"
        )


async def test_commands_clicks_and_events_arrive_over_the_socket(connected: Connected) -> None:
    c = connected
    (task_id,) = await seed(c.pool)
    async with asyncio.timeout(10):
        await c.standin.socket.connected()
    (opened,) = c.standin.calls_to("apps.connections.open", ok=True)
    assert opened.args == {}  # the app-level token went in the Authorization header

    help_ack = await _deliver(c, "slash_commands", command_payload(SUPERVISOR, "help"))
    (envelope,) = c.standin.socket.envelopes
    assert help_ack["envelope_id"] == envelope.envelope_id
    assert "/blend forecast [queue]" in str(help_ack["payload"]["blocks"])  # supervisor's help

    next_ack = await _deliver(c, "slash_commands", command_payload(DANA, "next"))
    assert f"Task #{task_id} is waiting" in next_ack["payload"]["text"]
    async with asyncio.timeout(10):
        (posted,) = await c.standin.wait_for("chat.postMessage")
    assert posted.args["channel"] == c.standin.dm_of(DANA)
    (offer,) = c.standin.messages.values()
    assert "claim" in str(offer.blocks)

    click = action_payload(DANA, "claim", str(task_id), block_id=f"offer:{task_id}", ts=offer.ts)
    claim_ack = await _deliver(c, "interactive", click)
    assert claim_ack == {"envelope_id": c.standin.socket.envelopes[-1].envelope_id}
    status = await c.pool.fetchval("SELECT status FROM tasks WHERE id = $1", task_id)
    assert status == "in_progress"  # committed before the ack
    async with asyncio.timeout(10):
        (updated,) = await c.standin.wait_for("chat.update")
    assert updated.args["ts"] == offer.ts
    assert "complete" in str(offer.blocks)
    assert offer.updates == 1

    home = {
        "type": "event_callback",
        "event_id": "Ev0SOCKET01",
        "event": {"type": "app_home_opened", "user": DANA, "channel": "D0DANA", "tab": "home"},
    }
    home_ack = await _deliver(c, "events_api", home)
    assert set(home_ack) == {"envelope_id"}
    async with asyncio.timeout(10):
        await c.standin.wait_for("views.publish")
    assert "Your current task" in str(c.standin.homes[DANA]["blocks"])

    assert [e.type for e in c.standin.socket.envelopes] == [
        "slash_commands",
        "slash_commands",
        "interactive",
        "events_api",
    ]
    assert all(e.ack is not None for e in c.standin.socket.envelopes)
    assert c.standin.socket.refused == []


async def test_connections_open_wants_the_app_level_token(connected: Connected) -> None:
    client = AsyncWebClient(base_url=connected.slack.context.client.base_url)
    with pytest.raises(SlackApiError) as bot_token:
        await client.apps_connections_open(app_token=BOT_TOKEN)
    assert bot_token.value.response["error"] == "not_allowed_token_type"
    with pytest.raises(SlackApiError) as wrong:
        await client.apps_connections_open(app_token="xapp-1-wrong")
    assert wrong.value.response["error"] == "invalid_auth"

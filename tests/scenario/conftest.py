"""The Slack harness fixture: the real app with ``register_slack``, the Web API stand-in on an
ephemeral port, and requests signed exactly as Slack signs them (``tests/support/slack.py``)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.http.app import create_app
from bot.slack import SlackConfig, register_slack
from standins.slack import StandIn
from tests.conftest import TOKEN
from tests.support.slack import BEN, BOT_TOKEN, CHANNEL, DANA, SECRET, SUPERVISOR, Harness


@pytest.fixture
async def slack(pool: asyncpg.Pool) -> AsyncIterator[Harness]:
    standin = StandIn(
        token=BOT_TOKEN,
        channels={CHANNEL},
        users={DANA: "Dana Levi", BEN: "Ben Ito", SUPERVISOR: "Sam Cho"},
        groups={"S0SUPERS": [SUPERVISOR]},
    )
    api = TestServer(standin.app())
    await api.start_server()
    config = SlackConfig(
        bot_token=BOT_TOKEN,
        signing_secret=SECRET,
        api_url=str(api.make_url("/api/")),
        supervisor_channel=CHANNEL,
        supervisors=frozenset({SUPERVISOR}),
        run_outbox=False,
    )
    app = create_app(pool, api_tokens=[TOKEN], max_body_bytes=256 * 1024)
    slack_app = register_slack(app, config)
    try:
        async with TestClient(TestServer(app)) as client:
            yield Harness(client, standin, slack_app, pool)
    finally:
        await api.close()

"""The Slack harness fixture: the real app as the root builds it, the Web API stand-in on an
ephemeral port, and requests signed exactly as Slack signs them (``tests/support/slack.py``)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot import root
from bot.slack.context import SlackConfig
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
    app = root.http_app(pool, tokens=[TOKEN], max_body_bytes=256 * 1024, slack=config)
    assert app.slack is not None
    try:
        async with TestClient(TestServer(app.web)) as client:
            yield Harness(client, standin, app.slack, pool)
    finally:
        await api.close()

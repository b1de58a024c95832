"""The console's live channel sends one console at most one event a second: the completions
of a busy center that come meanwhile go as one, named by what changed."""

from __future__ import annotations

import asyncio
import time

import pytest
from aiohttp import web
from aiohttp.client_exceptions import ClientConnectionResetError
from aiohttp.test_utils import TestClient, TestServer
from aiohttp_sse import EventSourceResponse

from bot.console import live
from bot.console.fragments import Rendered, rendered
from bot.console.live import Live


async def _nothing() -> Rendered:
    return rendered("", {})


async def test_changes_within_the_gap_go_as_one_event_after_it() -> None:
    channel = Live(_nothing)
    sent = time.monotonic()
    waiting = asyncio.create_task(channel.next(channel.version, sent))
    for _ in range(20):
        channel.work()
        await asyncio.sleep(0.01)
    version = await waiting
    assert time.monotonic() - sent >= live.GAP_SECONDS
    assert version == channel.version == 20
    assert channel.worked == 20
    assert channel.decided == 0


async def test_a_change_after_a_quiet_gap_goes_at_once() -> None:
    channel = Live(_nothing)
    sent = time.monotonic() - live.GAP_SECONDS
    waiting = asyncio.create_task(channel.next(channel.version, sent))
    await asyncio.sleep(0)
    started = time.monotonic()
    channel.heard("blending_events")
    assert await waiting == 1
    assert time.monotonic() - started < live.GAP_SECONDS / 2
    assert channel.decided == 1


async def test_a_console_gone_while_an_update_is_sent_ends_its_stream_quietly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The page closed while the board was on its way: the write fails with the connection
    # reset, and the stream ends there instead of raising into the error page's handler.
    async def gone(self: EventSourceResponse, *_: object, **__: object) -> None:
        raise ClientConnectionResetError("Cannot write to closing transport")

    monkeypatch.setattr(EventSourceResponse, "send", gone)
    channel = Live(_nothing)
    channel.kick()
    ended: list[bool] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        response = await channel.stream(request, since=0)
        ended.append(True)
        return response

    app = web.Application()
    app.router.add_get("/live", handler)
    async with TestClient(TestServer(app)) as client:
        answer = await client.get("/live")
        assert answer.status == 200
        await answer.read()
    assert ended == [True]

"""The console's live channel sends one console at most one event a second: the completions
of a busy center that come meanwhile go as one, named by what changed."""

from __future__ import annotations

import asyncio
import time

from bot.console import live
from bot.console.live import Live


async def _nothing() -> str:
    return ""


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

"""The state commands' outbox against a platform that throttles, fails, refuses, or says yes and
does nothing; and commands that overtake each other. The webhook platform stand-in answers as
scripted; the clock is moved by hand."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import asyncpg

from standins.acd_webhook import Answer
from tests.support.acd import CONFIRM_SECONDS, Rig, rig, seed_agents
from tests.support.slack import CHANNEL, DANA


def _steps(items: list[dict[str, Any]]) -> list[str]:
    return [i["event"] for i in reversed(items) if i["kind"] == "command"]


def _channel_texts(r: Rig) -> list[str]:
    """The supervisors' channel's messages, as their text and blocks."""
    return [
        m.text + json.dumps(m.blocks)
        for (channel, _), m in r.slack.standin.messages.items()
        if channel == CHANNEL
    ]


async def test_a_throttled_command_waits_out_retry_after_and_an_unreachable_one_backs_off(
    pool: asyncpg.Pool,
) -> None:
    await seed_agents(pool)
    async with rig(pool) as r:
        r.platform.script = [
            Answer(429, {"Retry-After": "7"}, "slow down"),
            Answer(503, {}, "maintenance"),
        ]
        await r.lend("dana")
        await r.send()
        (command,) = await r.commands("dana")
        assert command["status"] == "pending"
        assert command["next_at"] == r.clock.now() + timedelta(seconds=7)
        assert command["failures"] == 0  # throttling is not a failure
        assert len(r.platform.received) == 1

        await r.later(6.5)
        assert len(r.platform.received) == 1  # not before Retry-After
        await r.later(0.5)
        assert len(r.platform.received) == 2  # the 503
        (command,) = await r.commands("dana")
        assert (command["status"], command["failures"]) == ("pending", 1)
        assert command["next_at"] == r.clock.now() + timedelta(seconds=1)

        await r.later(1)
        assert len(r.platform.received) == 3
        (command,) = await r.commands("dana")
        assert command["status"] == "confirmed"
        steps = _steps((await r.timeline("dana"))["items"])
        assert steps == ["queued", "throttled", "unreachable", "sent", "confirmed"]
        assert await r.metric("blendbot_acd_commands_sent_total") == 1


async def test_a_refused_command_fails_at_once_and_the_supervisors_are_told(
    pool: asyncpg.Pool,
) -> None:
    await seed_agents(pool)
    async with rig(pool) as r:
        r.platform.script = [Answer(403, {}, "agent ext-dana may not be changed")]
        await r.lend("dana")
        await r.send()
        (command,) = await r.commands("dana")
        assert command["status"] == "failed"
        assert "403" in command["last_error"]
        await r.later(60)
        assert len(r.platform.received) == 1  # never tried again
        await r.slack.drain()
        (told,) = _channel_texts(r)
        assert "Dana Levi" in told
        dms = [json.dumps(m.blocks) for m in await _dm(r, DANA)]
        assert sum("please set it to *Back office* yourself" in m for m in dms) == 1
        assert await r.metric("blendbot_acd_commands_failed_total") == 1


async def _dm(r: Rig, user: str) -> list[Any]:
    dm = r.slack.standin.dm_of(user)
    return [m for (channel, _), m in r.slack.standin.messages.items() if channel == dm]


async def test_a_platform_that_says_yes_but_never_changes_the_state_is_retried_then_reported(
    pool: asyncpg.Pool,
) -> None:
    await seed_agents(pool)
    async with rig(pool, follow=False) as r:
        await r.lend("dana")
        await r.send()
        (command,) = await r.commands("dana")
        assert command["status"] == "sent"
        await r.later(CONFIRM_SECONDS - 1)
        assert len(r.platform.received) == 1  # still within the confirmation time
        await r.later(1)
        assert len(r.platform.received) == 2  # unconfirmed: sent again
        await r.later(CONFIRM_SECONDS)
        assert len(r.platform.received) == 3
        (command,) = await r.commands("dana")
        assert command["status"] == "sent"
        await r.later(CONFIRM_SECONDS)
        assert len(r.platform.received) == 3  # three sends, then it fails
        (command,) = await r.commands("dana")
        assert command["status"] == "failed"
        assert "the feed shows nothing, not back_office" in command["last_error"]
        await r.slack.drain()
        (told,) = _channel_texts(r)
        assert "Could not make *Dana Levi* not routable" in told
        steps = _steps((await r.timeline("dana"))["items"])
        assert steps == [
            "queued",
            "sent",
            "unconfirmed",
            "sent",
            "unconfirmed",
            "sent",
            "unconfirmed",
            "failed",
        ]
        first = r.platform.received[0]["command_id"]
        assert all(c["command_id"] == first for c in r.platform.received)
        assert await r.metric("blendbot_acd_commands_failed_total") == 1
        assert await r.metric("blendbot_acd_commands_sent_total") == 3


async def test_a_command_to_back_office_waits_while_the_agent_is_on_a_call(
    pool: asyncpg.Pool,
) -> None:
    """Platforms (Amazon Connect) apply a status change to an agent on a contact after it."""
    await seed_agents(pool)
    async with rig(pool, follow=False) as r:
        await r.feed("ext-dana", "available", ago=60)
        await r.lend("dana")
        await r.feed("ext-dana", "on_call")  # a call reached her before the command
        await r.send()
        await r.later(CONFIRM_SECONDS * 4)
        (command,) = await r.commands("dana")
        assert (command["status"], command["sends"]) == ("sent", 1)
        await r.feed("ext-dana", "back_office")
        await r.send()
        (command,) = await r.commands("dana")
        assert command["status"] == "confirmed"


async def test_a_lend_still_waiting_is_dropped_once_a_recall_follows_it(pool: asyncpg.Pool) -> None:
    await seed_agents(pool)
    async with rig(pool) as r:
        r.platform.script = [Answer(429, {"Retry-After": "30"})]
        await r.lend("dana")
        await r.send()
        await r.recall("dana")
        await r.send()
        assert [c["state"] for c in r.platform.received] == ["backoffice", "available"]
        assert [c["state"] for c in r.platform.applied] == ["available"]
        await r.later(60)
        assert [c["state"] for c in r.platform.received] == ["backoffice", "available"]
        statuses = [(c["state"], c["status"]) for c in await r.commands("dana")]
        assert statuses == [("backoffice", "superseded"), ("available", "confirmed")]


async def test_lend_recall_and_a_late_lend_confirmation_keep_the_agent_available(
    pool: asyncpg.Pool,
) -> None:
    await seed_agents(pool)
    async with rig(pool, follow=False) as r:
        await r.lend("dana")
        await r.send()
        r.clock.advance(timedelta(seconds=2))
        await r.recall("dana")
        await r.send()
        assert [c["state"] for c in r.platform.received] == ["backoffice", "available"]
        # The platform's report of the lend arrives late, after the recall was sent.
        await r.feed("ext-dana", "back_office", ago=1.5)
        await r.send()
        statuses = [(c["state"], c["status"]) for c in await r.commands("dana")]
        assert statuses == [("backoffice", "superseded"), ("available", "sent")]
        await r.feed("ext-dana", "available", ago=0.5)
        await r.send()
        statuses = [(c["state"], c["status"]) for c in await r.commands("dana")]
        assert statuses == [("backoffice", "superseded"), ("available", "confirmed")]
        # A report older still changes nothing: the feed keeps the latest state.
        await r.feed("ext-dana", "back_office", ago=1.8)
        await r.tick()
        line = await pool.fetchval(
            "SELECT state FROM telephony_presence WHERE external_id = 'ext-dana'"
        )
        assert line == "available"
        assert len(await r.commands("dana")) == 2
        assert len(r.platform.received) == 2

"""Every pull from Slack is fitted: `/blend next` and the App Home button name no minutes, so
they use the agent's window from the engine, offer only a task that fits it, and without a
window say why and when to ask again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg

from blending.telemetry_store import TelemetryStore
from queues.catalog import Catalog
from queues.models import TaskIn, TaskTypeIn
from queues.tasks import Tasks
from telephony_adapters import generic
from tests.support.slack import BEN, DANA, Harness, seed
from tests.support.windows import lend


async def _long_and_short(pool: asyncpg.Pool) -> tuple[int, int]:
    """A 90-minute review that ranks first, and a 10-minute refund check (``seed``'s type)."""
    await seed(pool, tasks=0, window=None)
    await Catalog(pool).put(
        "review",
        TaskTypeIn(skills=["billing"], sla_minutes=600, handle_minutes=90, base_priority=500),
    )
    items = [
        TaskIn(source="s", external_id="long", type="review", title="Annual review"),
        TaskIn(source="s", external_id="short", type="billing", title="Refund check"),
    ]
    made = await Tasks(pool).create_many(items, "test")
    long, short = (r.task.id for r in made if r.task is not None)
    return long, short


def _ephemerals(slack: Harness, user: str) -> list[str]:
    return [
        str(c.args.get("text"))
        for c in slack.standin.calls_to("chat.postEphemeral", ok=True)
        if c.args.get("user") == user
    ]


async def test_blend_next_uses_the_window_and_offers_only_what_fits(slack: Harness) -> None:
    long, short = await _long_and_short(slack.pool)
    now = datetime.now(UTC)
    await lend(slack.pool, "dana", minutes=40, now=now)
    reply = await slack.command(DANA, "next")
    assert f"Task #{short} is waiting for you" in reply["text"]
    rows = await slack.pool.fetch("SELECT id, status FROM tasks")
    statuses = {r["id"]: r["status"] for r in rows}
    assert statuses == {long: "queued", short: "offered"}
    why = await slack.pool.fetchval(
        "SELECT data ->> 'why' FROM task_events WHERE task_id = $1 AND event = 'offered'", short
    )
    end = now + timedelta(minutes=40)
    assert f"min until the lull ends at {end:%H:%M}" in why
    await slack.drain()
    (card,) = slack.card(DANA)
    assert f"until the lull ends at {end:%H:%M}" in str(card["blocks"])

    # With a window too short for anything waiting, nothing is offered.
    await slack.pool.execute("UPDATE tasks SET status = 'cancelled' WHERE id = $1", short)
    await lend(slack.pool, "ben", minutes=30, now=now)
    refused = await slack.command(BEN, "next")
    assert "Nothing for you right now" in refused["text"]
    assert "fits in your 29 min until the lull ends at" in refused["text"]
    assert await slack.pool.fetchval("SELECT status FROM tasks WHERE id = $1", long) == "queued"


async def test_blend_next_without_a_window_says_why_and_when_to_ask_again(
    slack: Harness,
) -> None:
    await _long_and_short(slack.pool)
    await lend(slack.pool, reason="the calls need every available agent now")
    # The feeds show Dana available: the engine saw her and lent her nothing.
    await slack.pool.execute(
        "INSERT INTO agent_telephony_ids (agent_id, source, external_id)"
        " VALUES ('dana', 'generic', '7')"
    )
    now = datetime.now(UTC)
    event = {"type": "agent_state", "event_id": "s1", "at": now.isoformat(), "agent_id": "7"}
    await TelemetryStore(slack.pool).record(
        "generic", generic.parse([{**event, "state": "available"}]), now
    )
    reply = await slack.command(DANA, "next")
    assert reply["text"] == (
        "Nothing for you right now: no usable window for you now: the calls need every "
        "available agent now; ask again in a few minutes or ask your supervisor."
    )
    # Ben is not seen by the phone system: that is why he has no window.
    reply = await slack.command(BEN, "next")
    assert "the phone system shows you offline" in reply["text"]
    assert "ask again in a few minutes" in reply["text"]
    assert await slack.pool.fetchval("SELECT count(*) FROM tasks WHERE status = 'queued'") == 2


async def test_the_home_button_is_fitted_too(slack: Harness) -> None:
    long, short = await _long_and_short(slack.pool)
    assert await slack.click(BEN, "next", None, block_id="home") == 200
    await slack.drain()
    (refusal,) = _ephemerals(slack, BEN)
    assert "no usable window for you now: the phone system shows you offline" in refusal

    await lend(slack.pool, "ben", minutes=15)
    assert await slack.click(BEN, "next", None, block_id="home") == 200
    await slack.drain()
    assert f"Task #{short} is waiting for you" in _ephemerals(slack, BEN)[-1]
    assert await slack.pool.fetchval("SELECT holder FROM tasks WHERE id = $1", short) == "ben"
    assert await slack.pool.fetchval("SELECT status FROM tasks WHERE id = $1", long) == "queued"

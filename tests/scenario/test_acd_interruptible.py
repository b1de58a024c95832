"""Interruptible mode: the agent stays routable; a call routed to them (the feed shows them on
a call) pauses their back-office task, the Slack card says so, and the task resumes when their
wrap-up ends. Only pausable task types are lent in this mode; no state command is sent."""

from __future__ import annotations

import asyncio
import json
import time

import asyncpg

from queues.catalog import Catalog
from queues.models import TaskIn, TaskTypeIn
from queues.tasks import Tasks
from tests.conftest import AUTH
from tests.support.acd import Rig, rig, seed_agents
from tests.support.slack import DANA


async def _status(pool: asyncpg.Pool, task_id: int) -> str:
    return str(await pool.fetchval("SELECT status FROM tasks WHERE id = $1", task_id))


async def _card(r: Rig, task_id: int) -> str:
    await r.slack.drain()
    (card,) = [c for c in r.slack.card(DANA) if f"#{task_id}" in c["text"]]
    return str(card["text"]) + json.dumps(card["blocks"])


async def test_a_call_pauses_the_task_and_the_end_of_wrap_up_resumes_it(
    pool: asyncpg.Pool,
) -> None:
    (task_id,) = await seed_agents(pool)
    async with rig(pool, "interruptible") as r:
        await r.feed("ext-dana", "available", ago=30)
        lent = await r.lend("dana")
        assert lent["offer"]["task_id"] == task_id
        assert lent["command"] is None  # she stays routable
        claim = await r.client.post(
            f"/api/v1/tasks/{task_id}/claim", json={"agent_id": "dana"}, headers=AUTH
        )
        assert claim.status == 200

        await r.feed("ext-dana", "on_call")
        await r.tick()
        assert await _status(pool, task_id) == "paused"
        event = await pool.fetchrow(
            "SELECT actor, reason, data FROM task_events WHERE task_id = $1 ORDER BY id DESC",
            task_id,
        )
        assert event is not None
        assert event["actor"] == "blendbot"
        assert "a call came in" in event["reason"]
        assert event["data"] == {"interrupted_by": "call"}
        assert "A call came in: this task is paused" in await _card(r, task_id)

        await r.feed("ext-dana", "after_call_work")
        await r.tick()
        assert await _status(pool, task_id) == "paused"  # wrap-up is part of the call

        await r.feed("ext-dana", "available")
        await r.tick()
        assert await _status(pool, task_id) == "in_progress"
        assert "You are working on this" in await _card(r, task_id)
        await r.tick()
        assert await _status(pool, task_id) == "in_progress"

        assert r.platform.received == []
        assert await r.commands("dana") == []
        assert await r.metric("blendbot_interruptions_total") == 2
        events = [i["event"] for i in (await r.timeline("dana"))["items"]]
        assert events.count("interrupted") == 2


async def test_work_paused_by_the_agent_is_not_resumed_for_them(pool: asyncpg.Pool) -> None:
    (task_id,) = await seed_agents(pool)
    async with rig(pool, "interruptible") as r:
        await r.lend("dana")
        await r.client.post(
            f"/api/v1/tasks/{task_id}/claim", json={"agent_id": "dana"}, headers=AUTH
        )
        await r.client.post(
            f"/api/v1/tasks/{task_id}/pause",
            json={"agent_id": "dana", "reason": "lunch"},
            headers=AUTH,
        )
        await r.feed("ext-dana", "available")
        await r.tick()
        assert await _status(pool, task_id) == "paused"


async def test_only_pausable_task_types_are_lent_in_interruptible_mode(
    pool: asyncpg.Pool,
) -> None:
    await seed_agents(pool, tasks=0)
    await Catalog(pool).put(
        "dispute", TaskTypeIn(skills=["billing"], sla_minutes=60, handle_minutes=5, pausable=False)
    )
    task = TaskIn(source="crm", external_id="D-1", type="dispute", title="Card dispute")
    dispute, _ = await Tasks(pool).create(task, "test")
    async with rig(pool, "interruptible", groups={"loans": "control"}) as r:
        lent = await r.lend("dana")
        assert lent["offer"] is None
        assert "no queued task" in lent["reason"]
        pulled = await r.client.post("/api/v1/agents/ben/next", json={"minutes": 30}, headers=AUTH)
        assert (await pulled.json())["offer"] is None
        # Ben answers the loans queue, which is in control mode: he may take it.
        await pool.execute("UPDATE agents SET queue = 'loans' WHERE agent_id = 'ben'")
        pulled = await r.client.post("/api/v1/agents/ben/next", json={"minutes": 30}, headers=AUTH)
        assert (await pulled.json())["offer"]["task_id"] == dispute.id


async def _until(pool: asyncpg.Pool, task_id: int, status: str, within: float = 3.0) -> float:
    """Seconds until the task has ``status``, no tick running (fails after ``within``)."""
    started = time.perf_counter()
    while await _status(pool, task_id) != status:
        assert time.perf_counter() - started < within, f"task still {await _status(pool, task_id)}"
        await asyncio.sleep(0.02)
    return time.perf_counter() - started


async def test_the_feed_event_itself_pauses_and_resumes_the_task_without_waiting_for_a_tick(
    pool: asyncpg.Pool,
) -> None:
    """As in the service: no tick runs here; the delivery that shows her on a call pauses her
    work within a second, and the one that shows her wrap-up over resumes it."""
    (task_id,) = await seed_agents(pool)
    async with rig(pool, "interruptible", running=True) as r:
        await r.feed("ext-dana", "available", ago=30)
        await r.lend("dana")
        claim = await r.client.post(
            f"/api/v1/tasks/{task_id}/claim", json={"agent_id": "dana"}, headers=AUTH
        )
        assert claim.status == 200

        await r.feed("ext-dana", "on_call")
        assert await _until(pool, task_id, "paused") < 1.0
        await r.feed("ext-dana", "after_call_work")
        await asyncio.sleep(0.2)
        assert await _status(pool, task_id) == "paused"
        await r.feed("ext-dana", "available")
        assert await _until(pool, task_id, "in_progress") < 1.0
        for _ in range(50):  # counted just after the change is committed
            if await r.metric("blendbot_interruptions_total") == 2:
                break
            await asyncio.sleep(0.02)
        assert await r.metric("blendbot_interruptions_total") == 2


async def test_the_same_delivery_twice_pauses_once(pool: asyncpg.Pool) -> None:
    (task_id,) = await seed_agents(pool)
    async with rig(pool, "interruptible", running=True) as r:
        await r.lend("dana")
        await r.client.post(
            f"/api/v1/tasks/{task_id}/claim", json={"agent_id": "dana"}, headers=AUTH
        )
        await r.feed("ext-dana", "on_call")
        await _until(pool, task_id, "paused")
        await r.tick()  # the tick's watch finds nothing more to do
        paused = await pool.fetchval(
            "SELECT count(*) FROM task_events WHERE task_id = $1 AND event = 'paused'", task_id
        )
        assert paused == 1

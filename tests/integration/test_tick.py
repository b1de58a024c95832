"""Leader election of the tick: one leader, replaced when it dies."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import asyncpg

from bot.tick import Tick
from clock import SYSTEM
from queues.catalog import Catalog
from queues.dispatch import Dispatcher, Offer
from queues.models import AgentIn, TaskIn, TaskTypeIn
from queues.roster import Roster
from queues.tasks import Tasks


async def test_one_leader_and_a_dead_leader_is_replaced(db_url: str, pool: asyncpg.Pool) -> None:
    first, second = (
        Tick(db_url, pool, clock=SYSTEM, interval=0.05),
        Tick(db_url, pool, clock=SYSTEM, interval=0.05),
    )
    await first.step()
    await second.step()
    assert (first.is_leader, second.is_leader) == (True, False)
    await first._drop()  # what a killed instance's closed connection does
    await second.step()
    assert second.is_leader
    await second._drop()


async def test_a_killed_instances_offers_come_back_to_the_queue(
    db_url: str, pool: asyncpg.Pool
) -> None:
    await Catalog(pool).put("billing", TaskTypeIn(skills=[], sla_minutes=60, handle_minutes=5))
    await Roster(pool).put("ana", AgentIn(name="Ana"))
    await Tasks(pool).create(TaskIn(source="s", external_id="1", type="billing", title="t"), "t")
    offer = await Dispatcher(pool).next_for("ana", 60, datetime.now(UTC))
    assert isinstance(offer, Offer)
    await pool.execute("UPDATE tasks SET offer_expires_at = now()")
    survivor = Tick(db_url, pool, clock=SYSTEM, interval=0.05)
    runner = asyncio.create_task(survivor.run())
    try:
        for _ in range(100):
            if await pool.fetchval("SELECT status FROM tasks") == "queued":
                break
            await asyncio.sleep(0.05)
        assert await pool.fetchval("SELECT status FROM tasks") == "queued"
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)

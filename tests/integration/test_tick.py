"""Leader election of the tick: one leader, replaced when it dies."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import asyncpg
from aiohttp.test_utils import TestClient, TestServer

from blending.policy import BlendPolicy
from blending.switch import BlendingState
from bot import root
from bot.blending_round import Blender
from bot.metrics import Metrics
from bot.tick import JobHealth, Tick
from clock import SYSTEM
from queues.catalog import Catalog
from queues.dispatch import Dispatcher, DispatchSettings, Offer
from queues.models import AgentIn, TaskIn, TaskTypeIn
from queues.priority_store import RuleIn, RuleStore
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
    offer = await Dispatcher(pool).next_for("ana", None, datetime.now(UTC))
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


async def test_a_job_failing_every_round_does_not_stop_the_others(
    db_url: str, pool: asyncpg.Pool
) -> None:
    """The report: a call "arrived" in year 1 made every blending round raise, and the tick
    died with it, silently. Such a row can no longer be stored (the feeds refuse it, the
    database's constraint too); here it is put back by hand, as on a database written before,
    and the tick goes on: offers still lapse, rules still apply, the failure is counted."""
    await Catalog(pool).put("billing", TaskTypeIn(skills=[], sla_minutes=60, handle_minutes=5))
    await Roster(pool).put("ana", AgentIn(name="Ana"))
    for n in ("1", "2"):
        await Tasks(pool).create(TaskIn(source="s", external_id=n, type="billing", title="t"), "t")
    offer = await Dispatcher(pool).next_for("ana", 30, datetime.now(UTC))
    assert isinstance(offer, Offer)
    await pool.execute("UPDATE tasks SET offer_expires_at = now() WHERE status = 'offered'")
    await _a_call_from_year_one(pool)
    metrics = Metrics()
    blender = Blender(pool, BlendingState(pool), BlendPolicy(), DispatchSettings())
    tick = Tick(db_url, pool, clock=SYSTEM, interval=0.02, blender=blender, metrics=metrics)
    runner = asyncio.create_task(tick.run())
    try:
        await RuleStore(pool).put(
            "all-billing",
            RuleIn(when='type == "billing"', boost=50, author="lead"),
            datetime.now(UTC),
        )
        for _ in range(200):
            lapsed = await pool.fetchval("SELECT count(*) FROM tasks WHERE status = 'queued'")
            boosted = await pool.fetchval("SELECT count(*) FROM tasks WHERE rule_boost = 50")
            if lapsed == 2 and boosted == 2 and tick.jobs.get("blending", JobHealth()).failures:
                break
            await asyncio.sleep(0.05)
        assert (lapsed, boosted) == (2, 2)
        health = tick.jobs["blending"]
        assert health.failures >= 1
        assert "TypeError" in (health.last_error or "")
        assert tick.jobs["timers"].ok
        assert tick.jobs["rank"].ok
        assert not runner.done()
        sample = metrics.registry.get_sample_value(
            "blendbot_tick_errors_total", {"job": "blending"}
        )
        assert sample is not None
        assert sample >= 1
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)


async def test_a_failing_job_backs_off_and_recovers(db_url: str, pool: asyncpg.Pool) -> None:
    """A job that fails is retried after 1, 2, 4 ... rounds, and runs every round once it
    works again."""
    await _a_call_from_year_one(pool)
    blender = Blender(pool, BlendingState(pool), BlendPolicy(), DispatchSettings())
    tick = Tick(db_url, pool, clock=SYSTEM, interval=0.02, blender=blender)
    failures = []
    try:
        for _ in range(8):
            await tick.step()
            failures.append(tick.jobs["blending"].failures)
        assert failures == [1, 2, 2, 3, 3, 3, 3, 4]  # tried in rounds 0, 1, 3, 7
        assert list(tick.failing()) == ["blending"]
        await pool.execute("DELETE FROM telephony_calls")
        for _ in range(8):
            await tick.step()
        assert tick.jobs["blending"].ok
        assert tick.failing() == {}
    finally:
        await tick._drop()


async def _a_call_from_year_one(pool: asyncpg.Pool) -> None:
    """What the generic feed stored of the reported event, before times were bounded."""
    await pool.execute("ALTER TABLE telephony_calls DROP CONSTRAINT telephony_calls_sane_times")
    await pool.execute(
        "INSERT INTO telephony_calls (source, call_id, queue, arrived_at)"
        " VALUES ('generic', 'c-y1', 'q', '-infinity')"
    )
    await pool.execute(
        "INSERT INTO interval_stats (queue, interval_start, minutes, offered)"
        " VALUES ('q', date_trunc('hour', now()), 15, 1)"
    )


async def test_health_says_which_job_of_the_tick_is_failing(
    db_url: str, pool: asyncpg.Pool
) -> None:
    await _a_call_from_year_one(pool)
    app = root.http_app(pool, tokens=["t" * 32], max_body_bytes=1024)
    tick = root.tick(db_url, pool, root.Parts(), app)
    try:
        await tick.step()
    finally:
        await tick._drop()
    async with TestClient(TestServer(app.web)) as client:
        health = await (await client.get("/healthz")).json()
    assert health["status"] == "degraded"
    assert health["database"] == "ok"
    assert "TypeError" in health["jobs"]["blending"]

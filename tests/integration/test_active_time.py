"""Time on tasks is active time: work is recorded as segments, pauses are not work, and paused
work that is not resumed goes back to the queue (or to the supervisors) by itself.

Each test runs on a database whose clock is set by the test (``simulation.database_clock``),
so that "paused for 8 s" or "an hour later" is exact and nothing sleeps.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from blending import decision_store
from blending.policy import Decision, GroupDecision
from blending.windows import UsableWindow
from bot.database import open_pool
from bot.migrate import migrate_url
from queues.catalog import Catalog
from queues.dispatch import HELD_WHY, Dispatcher, DispatchSettings, Offer
from queues.errors import InvalidTransition
from queues.lifecycle import Lifecycle
from queues.models import AgentIn, TaskIn, TaskTypeIn
from queues.roster import Roster
from queues.tasks import Tasks
from queues.timers import TimerSettings, run_timers
from queues.views import Views
from simulation.database_clock import SimClock, install_sql
from tests.conftest import create_database, drop_database, with_database

START = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
async def clocked_template(server_url: str) -> AsyncIterator[str]:
    """A migrated database whose ``now()`` is a row the test sets."""
    name = await create_database(server_url)
    conn = await asyncpg.connect(with_database(server_url, name))
    try:
        for statement in install_sql(name, START):
            await conn.execute(statement)
    finally:
        await conn.close()
    await migrate_url(with_database(server_url, name))
    yield name
    await drop_database(server_url, name)


@dataclass
class Clocked:
    pool: asyncpg.Pool
    clock: SimClock
    at: datetime

    async def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)
        await self.clock.set(self.at)


@pytest.fixture
async def t(server_url: str, clocked_template: str) -> AsyncIterator[Clocked]:
    name = await create_database(server_url, clocked_template)
    # A database's settings are not copied from its template: the clone needs its own.
    (_, search_path) = install_sql(name, START)
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(search_path)
    finally:
        await admin.close()
    try:
        async with open_pool(with_database(server_url, name), min_size=1, max_size=6) as pool:
            clock = SimClock(pool, START)
            await clock.set(START)
            await Catalog(pool).put(
                "billing", TaskTypeIn(skills=["billing"], sla_minutes=600, handle_minutes=10)
            )
            for agent in ("ana", "ben"):
                await Roster(pool).put(agent, AgentIn(name=agent.title(), skills={"billing": 3}))
            yield Clocked(pool, clock, START)
    finally:
        await drop_database(server_url, name)


async def add_task(t: Clocked, key: str = "1", **fields: Any) -> int:
    item = TaskIn(source="s", external_id=key, type="billing", title=f"Task {key}", **fields)
    (result,) = await Tasks(t.pool).create_many([item], "test")
    assert result.task is not None
    return result.task.id


async def claimed(t: Clocked, agent: str = "ana", key: str = "1", **fields: Any) -> int:
    task_id = await add_task(t, key, **fields)
    life = Lifecycle(t.pool)
    await life.offer(task_id, agent, t.at + timedelta(seconds=90), "test", [])
    await life.claim(task_id, agent)
    return task_id


async def offered_to(t: Clocked, agent: str) -> int:
    """Offer the agent the next task; its id."""
    offer = await Dispatcher(t.pool).next_for(agent, 60, t.at)
    assert isinstance(offer, Offer)
    return offer.task.id


async def segments(t: Clocked, task_id: int) -> list[tuple[str, float | None, str, str | None]]:
    """(agent, seconds or None while open, how it began, how it ended), in order."""
    rows = await t.pool.fetch(
        "SELECT agent_id, extract(epoch FROM ended_at - started_at)::float8 AS seconds,"
        " started_by, ended_by FROM task_segments WHERE task_id = $1 ORDER BY id",
        task_id,
    )
    return [(r["agent_id"], r["seconds"], r["started_by"], r["ended_by"]) for r in rows]


async def test_a_pause_is_not_work(t: Clocked) -> None:
    """The report: claimed, paused 8 s, resumed and completed recorded the pause as work."""
    task_id = await claimed(t)
    life = Lifecycle(t.pool)
    await t.advance(100)
    await life.pause(task_id, "ana", "recalled to the phones")
    await t.advance(8)
    await life.resume(task_id, "ana")
    await t.advance(20)
    await life.pause(task_id, "ana", "recalled again")
    await t.advance(3000)
    await life.resume(task_id, "ana")
    working = await Tasks(t.pool).get(task_id, t.at)
    assert working.worked_seconds == pytest.approx(120)
    await t.advance(30)
    done = await life.complete(task_id, "ana", "ok", None)
    assert done.status == "done"
    worked = await t.pool.fetchval(
        "SELECT (data ->> 'worked_seconds')::float8 FROM task_events WHERE event = 'completed'"
    )
    assert worked == pytest.approx(150)
    learnt = await t.pool.fetchrow("SELECT total_seconds, day_seconds FROM handle_times")
    assert learnt is not None
    assert (learnt["total_seconds"], learnt["day_seconds"]) == (pytest.approx(150),) * 2
    assert await segments(t, task_id) == [
        ("ana", 100, "claimed", "paused"),
        ("ana", 20, "resumed", "paused"),
        ("ana", 30, "resumed", "completed"),
    ]
    activity = await Views(t.pool).activity(START)
    assert activity.minutes == pytest.approx(2.5)
    assert [(a.agent_id, round(a.minutes, 6)) for a in activity.top] == [("ana", 2.5)]


async def test_work_resumed_after_a_long_pause_is_not_nudged_or_escalated_at_once(
    t: Clocked,
) -> None:
    """Handle time 10 min: nudged past 15 min of work, escalated past 30, pauses aside."""
    task_id = await claimed(t)
    life = Lifecycle(t.pool)
    await t.advance(8 * 60)
    await life.pause(task_id, "ana", "recalled to the phones")
    await t.advance(50 * 60)
    await life.resume(task_id, "ana")
    report = await run_timers(t.pool)
    assert (report.nudged, report.escalated) == ([], [])
    await t.advance(6 * 60)  # 14 minutes of work
    assert (await run_timers(t.pool)).nudged == []
    await t.advance(2 * 60)  # 16
    assert (await run_timers(t.pool)).nudged == [(task_id, "ana")]
    await life.pause(task_id, "ana")
    await t.advance(40 * 60)
    await life.resume(task_id, "ana")
    assert (await run_timers(t.pool)).escalated == []
    await t.advance(15 * 60)  # 31
    assert (await run_timers(t.pool)).escalated == [(task_id, "ana")]
    assert await segments(t, task_id) == [
        ("ana", 8 * 60, "claimed", "paused"),
        ("ana", 8 * 60, "resumed", "paused"),
        ("ana", 15 * 60, "resumed", "escalated"),
    ]
    task = await Tasks(t.pool).get(task_id, t.at)
    assert (task.status, task.active_since, task.worked_seconds) == ("escalated", None, 31 * 60)


async def test_every_end_of_work_closes_its_segment_and_offers_are_not_work(t: Clocked) -> None:
    life = Lifecycle(t.pool)
    ends: dict[str, int] = {}
    ends["released"] = await claimed(t, key="r")
    await t.advance(10)
    await life.release(ends["released"], "ana")
    ends["escalated"] = await claimed(t, key="e")
    await t.advance(10)
    await life.escalate(ends["escalated"], "ana", "stuck")
    await t.advance(10)
    await life.requeue(ends["escalated"], "sam")
    ends["cancelled"] = await claimed(t, key="c")
    await t.advance(10)
    await life.cancel(ends["cancelled"], "sam")
    ends["reassigned"] = await claimed(t, key="a")
    await t.advance(10)
    await life.reassign(ends["reassigned"], "ben", "sam")
    await t.advance(5)
    await life.pause(ends["reassigned"], "ben")
    await t.advance(5)
    await life.reassign(ends["reassigned"], "ana", "sam")  # paused work is not running
    await t.advance(5)
    await life.cancel(ends["reassigned"], "sam")
    assert await segments(t, ends["released"]) == [("ana", 10, "claimed", "released")]
    assert await segments(t, ends["escalated"]) == [("ana", 10, "claimed", "escalated")]
    assert await segments(t, ends["cancelled"]) == [("ana", 10, "claimed", "cancelled")]
    assert await segments(t, ends["reassigned"]) == [
        ("ana", 10, "claimed", "reassigned"),
        ("ben", 5, "reassigned", "paused"),
        ("ana", 5, "reassigned", "cancelled"),
    ]
    # Offers lapse, are skipped and are withdrawn without any work recorded.
    before = await t.pool.fetchval("SELECT count(*) FROM task_segments")
    await add_task(t, "o")
    offer = await Dispatcher(t.pool).next_for("ben", 60, t.at)
    assert isinstance(offer, Offer)
    await t.advance(120)
    assert (await run_timers(t.pool)).expired == [(offer.task.id, "ben")]
    offer = await Dispatcher(t.pool).next_for("ben", 60, t.at)
    assert isinstance(offer, Offer)
    acted = await decision_store.act(
        t.pool,
        Decision({"calls": GroupDecision("calls", recall=["ben"], reason="calls")}),
        t.at,
        DispatchSettings(),
        {},
    )
    assert [w.task.id for w in acted.withdrawn] == [offer.task.id]
    await life.skip(await offered_to(t, "ben"), "ben", "busy")
    assert await t.pool.fetchval("SELECT count(*) FROM task_segments") == before
    open_rows = await t.pool.fetch(
        "SELECT id, status, active_seconds, active_since FROM tasks"
        " WHERE active_since IS NOT NULL OR active_seconds <> 0"
    )
    assert open_rows == []
    assert await t.pool.fetchval("SELECT count(*) FROM task_segments WHERE ended_at IS NULL") == 0


async def test_a_reassigned_task_counts_each_holders_own_time(t: Clocked) -> None:
    task_id = await claimed(t)
    life = Lifecycle(t.pool)
    await t.advance(100)
    await life.reassign(task_id, "ben", "sam")
    await t.advance(30)
    await life.complete(task_id, "ben", "ok", None)
    worked = await t.pool.fetchval(
        "SELECT (data ->> 'worked_seconds')::float8 FROM task_events WHERE event = 'completed'"
    )
    assert worked == pytest.approx(30)
    activity = await Views(t.pool).activity(START)
    assert activity.minutes == pytest.approx(130 / 60)
    assert [(a.agent_id, round(a.minutes, 6)) for a in activity.top] == [("ben", 0.5)]


async def test_paused_work_goes_back_to_the_queue_with_its_note_after_an_hour(
    t: Clocked,
) -> None:
    task_id = await claimed(t)
    life = Lifecycle(t.pool)
    await t.advance(4 * 60)
    await life.pause(task_id, "ana", "recalled to the phones", note="payslips 1-3 checked")
    await t.advance(59 * 60)
    assert (await run_timers(t.pool)).returned == []
    await t.advance(61)
    report = await run_timers(t.pool)
    assert report.returned == [(task_id, "ana")]
    assert report.paused_escalated == []
    detail = await Tasks(t.pool).get(task_id, t.at)
    assert (detail.status, detail.holder, detail.active_seconds) == ("queued", None, 0)
    assert detail.handover is not None
    assert detail.handover.by == "ana"
    assert detail.handover.reason == "recalled to the phones"
    assert detail.handover.note == "payslips 1-3 checked"
    assert detail.handover.worked_seconds == pytest.approx(240)
    returned = detail.timeline[-1]
    assert (returned.event, returned.from_status, returned.to_status, returned.actor) == (
        "returned",
        "paused",
        "queued",
        "system",
    )
    assert returned.reason == "paused for 60 min without resuming"
    assert returned.data["note"] == "payslips 1-3 checked"
    assert returned.data["agent_id"] == "ana"
    # The next holder sees the handover on the offer, and it stays until the step is done.
    offer = await Dispatcher(t.pool).next_for("ben", 60, t.at)
    assert isinstance(offer, Offer)
    assert offer.task.id == task_id
    assert offer.task.handover is not None
    assert offer.task.handover.note == "payslips 1-3 checked"
    working = await life.claim(task_id, "ben")
    assert working.handover == offer.task.handover
    await t.advance(60)
    done = await life.complete(task_id, "ben", "ok", None)
    assert done.handover is None
    assert await segments(t, task_id) == [
        ("ana", 240, "claimed", "paused"),
        ("ben", 60, "claimed", "completed"),
    ]
    assert (await run_timers(t.pool)).returned == []


async def test_paused_work_near_its_due_time_is_escalated_instead(t: Clocked) -> None:
    # Handle time 10 min, fit margin 1.2: less than 12 minutes to the due time is near.
    task_id = await claimed(t, due_at=START + timedelta(minutes=72))
    calm = await claimed(t, "ben", "2", due_at=START + timedelta(minutes=80))
    life = Lifecycle(t.pool)
    await t.advance(60)
    await life.pause(task_id, "ana", "recalled to the phones")
    await life.pause(calm, "ben", "recalled to the phones")
    await t.advance(60 * 60 + 30)
    report = await run_timers(t.pool, TimerSettings(fit_margin=1.2))
    assert report.paused_escalated == [(task_id, "ana")]
    assert report.returned == [(calm, "ben")]
    task = await Tasks(t.pool).get(task_id, t.at)
    assert (task.status, task.holder) == ("escalated", "ana")
    assert task.handover is not None
    assert task.handover.worked_seconds == pytest.approx(60)
    last = task.timeline[-1]
    assert (last.event, last.from_status, last.to_status) == ("escalated", "paused", "escalated")
    assert last.reason is not None
    assert last.reason.startswith("paused for 60 min without resuming")
    assert "due" in last.reason
    # A supervisor gives it back to ana: her time on the step goes on from where it was.
    back = await life.reassign(task_id, "ana", "sam")
    assert back.active_seconds == pytest.approx(60)


async def test_the_return_timer_is_configurable_and_runs_once_beside_others(
    t: Clocked,
) -> None:
    first = await claimed(t)
    second = await claimed(t, "ben", "2")
    life = Lifecycle(t.pool)
    await life.pause(first, "ana")
    await life.pause(second, "ben")
    await t.advance(20 * 60)
    settings = TimerSettings(paused_return_minutes=15)
    reports = await asyncio.gather(*(run_timers(t.pool, settings) for _ in range(4)))
    returned = sorted(pair for r in reports for pair in r.returned)
    assert returned == [(first, "ana"), (second, "ben")]
    assert await t.pool.fetchval("SELECT count(*) FROM task_events WHERE event = 'returned'") == 2
    # A resume that comes after the return finds the task back in the queue.
    with pytest.raises(InvalidTransition) as late:
        await life.resume(first, "ana")
    assert late.value.status == "queued"


async def test_paused_work_is_offered_back_to_its_holder_first(t: Clocked) -> None:
    """Even when an agent may hold two pieces of work, a paused one comes back before new
    work; and the blending round asks a paused holder given a window to resume."""
    task_id = await claimed(t)
    await add_task(t, "2")
    await Lifecycle(t.pool).pause(task_id, "ana", "recalled to the phones")
    two = DispatchSettings(max_tasks_per_agent=2)
    again = await Dispatcher(t.pool, two).next_for("ana", 60, t.at)
    assert isinstance(again, Offer)
    assert (again.task.id, again.why) == (task_id, [HELD_WHY["paused"]])
    window = UsableWindow("ana", t.at, t.at + timedelta(minutes=30), 1.0)
    decision = Decision({"calls": GroupDecision("calls", windows=[window])})
    acted = await decision_store.act(t.pool, decision, t.at, two, {})
    assert [x.id for x in acted.resume] == [task_id]
    assert acted.offers == []


async def test_estimates_and_minutes_today_count_active_time_only(t: Clocked) -> None:
    life = Lifecycle(t.pool)
    for n in range(3):
        task_id = await claimed(t, key=str(n))
        await t.advance(2 * 60)
        await life.pause(task_id, "ana")
        await t.advance(30 * 60)
        await life.resume(task_id, "ana")
        await t.advance(2 * 60)
        await life.complete(task_id, "ana", "ok", None)
    row = await t.pool.fetchrow("SELECT completed, total_seconds, day_seconds FROM handle_times")
    assert row is not None
    assert dict(row) == {"completed": 3, "total_seconds": 720.0, "day_seconds": 720.0}
    minutes_today = await t.pool.fetchval(
        "SELECT sum(day_seconds) / 60 FROM handle_times"
        " WHERE agent_id = 'ana' AND day = now()::date"
    )
    assert minutes_today == pytest.approx(12)

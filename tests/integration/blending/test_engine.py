"""A decision carried out on a real database: offers, resumptions, recalls and their log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import asyncpg

from blending import decision_store
from blending.guard import GuardState
from blending.policy import Decision, GroupDecision
from blending.windows import UsableWindow
from bot.database import open_pool
from bot.migrate import migrate_url
from bot.work import ask_for_work
from queues.catalog import Catalog
from queues.dispatch import DispatchSettings, NoOffer
from queues.lifecycle import Lifecycle
from queues.models import AgentIn, TaskIn, TaskTypeIn
from queues.roster import Roster
from queues.tasks import Tasks
from simulation.database_clock import SimClock, install_sql
from tests.conftest import with_database

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


async def _seed(pool: asyncpg.Pool, tasks: int = 3) -> None:
    await Catalog(pool).put(
        "billing", TaskTypeIn(skills=["billing"], sla_minutes=600, handle_minutes=8)
    )
    for name in ("ana", "ben", "cy"):
        await Roster(pool).put(name, AgentIn(name=name.title(), skills={"billing": 2}))
    items = [
        TaskIn(source="s", external_id=str(i), type="billing", title=f"t{i}") for i in range(tasks)
    ]
    await Tasks(pool).create_many(items, "test")


def _window(agent: str, minutes: float = 30) -> UsableWindow:
    return UsableWindow(agent, NOW, NOW + timedelta(minutes=minutes), 1.0)


async def test_windows_become_offers_and_paused_work_is_resumed_first(
    pool: asyncpg.Pool,
) -> None:
    await _seed(pool)
    lifecycle = Lifecycle(pool)
    held = await lifecycle.offer(1, "cy", datetime.now(UTC) + timedelta(minutes=5), "t", [])
    await lifecycle.claim(held.id, "cy")
    await lifecycle.pause(held.id, "cy")
    decision = Decision({"calls": GroupDecision("calls", windows=[_window("ana"), _window("cy")])})
    acted = await decision_store.act(pool, decision, datetime.now(UTC), DispatchSettings(), {})
    assert [t.holder for t in acted.offers] == ["ana"]
    assert [(t.id, t.holder) for t in acted.resume] == [(1, "cy")]
    assert await pool.fetchval("SELECT status FROM tasks WHERE id = 1") == "paused"


async def test_recalls_are_recorded_once_with_an_event_and_cleared_when_the_guard_opens(
    pool: asyncpg.Pool,
) -> None:
    await _seed(pool, 0)
    recall = GuardState("recall", NOW)
    decision = Decision(
        {"calls": GroupDecision("calls", recall=["ana", "ben"], guard=recall, reason="5 calls")}
    )
    first = await decision_store.act(pool, decision, NOW, DispatchSettings(), {})
    assert sorted(first.recalled) == ["ana", "ben"]
    again = await decision_store.act(pool, decision, NOW, DispatchSettings(), {"calls": recall})
    assert again.recalled == []
    assert await decision_store.recalled(pool) == {"ana": "5 calls", "ben": "5 calls"}
    refused = await ask_for_work(pool, "ana", 30, DispatchSettings(), datetime.now(UTC))
    assert isinstance(refused, NoOffer)
    assert "phones" in refused.reason
    opened = Decision({"calls": GroupDecision("calls", guard=GuardState("open", NOW))})
    cleared = await decision_store.act(pool, opened, NOW, DispatchSettings(), {"calls": recall})
    assert sorted(cleared.cleared) == ["ana", "ben"]
    assert await decision_store.recalled(pool) == {}
    events = await pool.fetch("SELECT event, agent_id FROM blending_events ORDER BY id")
    assert [e["event"] for e in events].count("recalled") == 2
    assert [e["event"] for e in events].count("recall_cleared") == 2
    assert await decision_store.load_guards(pool) == {"calls": GuardState("open", NOW)}


async def test_waiting_work_names_what_the_queued_tasks_need(pool: asyncpg.Pool) -> None:
    await _seed(pool, 1)
    await Catalog(pool).put("kyc", TaskTypeIn(skills=["kyc"], sla_minutes=60, handle_minutes=20))
    needs = await decision_store.waiting_work(pool)
    assert [(sorted(n.skills), n.minutes) for n in needs] == [(["billing"], 8.0)]


async def test_a_simulation_database_runs_on_the_simulated_clock(
    server_url: str, empty_db_url: str
) -> None:
    name = urlsplit(empty_db_url).path.lstrip("/")
    start = datetime(1999, 8, 1, 7, 0, tzinfo=UTC)
    conn = await asyncpg.connect(empty_db_url)
    try:
        for statement in install_sql(name, start):
            await conn.execute(statement)
    finally:
        await conn.close()
    await migrate_url(with_database(server_url, name))
    async with open_pool(empty_db_url, min_size=1, max_size=2) as pool:
        clock = SimClock(pool, start)
        assert await clock.read() == start
        await _seed(pool, 1)
        later = start + timedelta(hours=3)
        await clock.set(later)
        task = await Lifecycle(pool).offer(1, "ana", later + timedelta(seconds=90), "t", [])
        claimed = await Lifecycle(pool).claim(task.id, "ana")
        assert claimed.status == "in_progress"
        created = await pool.fetchval("SELECT created_at FROM tasks WHERE id = 1")
        at = await pool.fetchval("SELECT max(at) FROM task_events WHERE task_id = 1")
        assert (created, at) == (start, later)

"""Taking the next task (``dispatch_next()`` with ``take``, migration 0041), on a real database:
the pick of an ask for work, claimed for the agent in the same transaction, with one
``claimed`` event; held work refuses it; agents taking at once never share a task."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import asyncpg
import pytest

from queues.dispatch import Dispatcher, DispatchSettings, NoOffer, Offer
from queues.errors import AgentInactive, HoldsWork, NotFound
from queues.lifecycle import Lifecycle
from queues.roster import Roster
from tests.integration.test_lifecycle import add_agent, add_tasks, world

__all__ = ["world"]


async def _take(pool: asyncpg.Pool, agent: str, limit: int = 1) -> Offer | NoOffer:
    policy = DispatchSettings(max_tasks_per_agent=limit)
    return await Dispatcher(pool, policy).next_for(agent, 60, datetime.now(UTC), take=True)


async def _state(pool: asyncpg.Pool) -> tuple[list[asyncpg.Record], int, int]:
    tasks = await pool.fetch("SELECT id, status, holder, claimed_at FROM tasks ORDER BY id")
    events = await pool.fetchval("SELECT count(*) FROM task_events")
    segments = await pool.fetchval("SELECT count(*) FROM task_segments")
    return tasks, events, segments


async def test_a_take_claims_the_task_an_offer_would_have_offered(world: asyncpg.Pool) -> None:
    await add_tasks(world, 5)
    await world.execute("UPDATE tasks SET rule_boost = 50 WHERE id = (SELECT max(id) FROM tasks)")
    now = datetime.now(UTC)
    offered = await Dispatcher(world).next_for("ana", 60, now)
    assert isinstance(offered, Offer), offered
    await world.execute(
        "UPDATE tasks SET status = 'queued', holder = NULL, offer_expires_at = NULL"
    )
    taken = await Dispatcher(world).next_for("ana", 60, now, take=True)
    assert isinstance(taken, Offer), taken
    assert taken.task.id == offered.task.id  # the same pick: the best, never another
    assert (taken.task.status, taken.task.holder, taken.expires_at) == ("in_progress", "ana", None)
    assert taken.why == offered.why


async def test_one_claimed_event_in_the_same_transaction_as_the_task_and_segment(
    world: asyncpg.Pool,
) -> None:
    await add_tasks(world, 3)
    taken = await _take(world, "ana")
    assert isinstance(taken, Offer), taken
    events = await world.fetch(
        "SELECT event, from_status, to_status, actor, data, xmin::text AS tx FROM task_events"
        " WHERE task_id = $1",
        taken.task.id,
    )
    assert [(e["event"], e["from_status"], e["to_status"], e["actor"]) for e in events] == [
        ("created", None, "queued", "test"),
        ("claimed", "queued", "in_progress", "ana"),
    ]
    claimed = events[1]
    assert claimed["data"] == {"taken": True, "why": taken.why}
    task_tx = await world.fetchval("SELECT xmin::text FROM tasks WHERE id = $1", taken.task.id)
    segment = await world.fetchrow(
        "SELECT agent_id, started_by, ended_at, xmin::text AS tx FROM task_segments"
        " WHERE task_id = $1",
        taken.task.id,
    )
    assert segment is not None
    assert (segment["agent_id"], segment["started_by"], segment["ended_at"]) == (
        "ana",
        "claimed",
        None,
    )
    assert claimed["tx"] == task_tx == segment["tx"]
    # Completed as any claimed task is.
    done = await Lifecycle(world).complete(taken.task.id, "ana", "done", None)
    assert done.status == "done"


async def test_held_work_refuses_a_take_and_changes_nothing(world: asyncpg.Pool) -> None:
    await add_tasks(world, 4)
    first = await _take(world, "ana")
    assert isinstance(first, Offer), first
    before = await _state(world)
    with pytest.raises(HoldsWork) as at_limit:
        await _take(world, "ana")
    assert (at_limit.value.task_id, at_limit.value.status, at_limit.value.limit) == (
        first.task.id,
        "in_progress",
        1,
    )
    assert str(at_limit.value) == (
        f"agent ana cannot take a task: they already work on #{first.task.id} (at most 1 at a time)"
    )
    assert await _state(world) == before

    # With room for two, a second take is given; the third is refused.
    second = await _take(world, "ana", limit=2)
    assert isinstance(second, Offer), second
    assert second.task.id != first.task.id
    with pytest.raises(HoldsWork):
        await _take(world, "ana", limit=2)

    # An open offer, or paused work with nothing in progress, comes first.
    offer = await Dispatcher(world).next_for("ben", 60, datetime.now(UTC))
    assert isinstance(offer, Offer)
    before = await _state(world)
    with pytest.raises(HoldsWork, match="claim or skip their open offer") as open_offer:
        await _take(world, "ben", limit=3)
    assert open_offer.value.status == "offered"
    life = Lifecycle(world, max_tasks_per_agent=3)
    await life.claim(offer.task.id, "ben")
    await life.pause(offer.task.id, "ben")
    with pytest.raises(HoldsWork, match="resume or release their paused task"):
        await _take(world, "ben", limit=3)
    assert await world.fetchval("SELECT count(*) FROM task_events WHERE event = 'claimed'") == 3


async def test_the_refusals_of_an_ask_refuse_a_take(world: asyncpg.Pool) -> None:
    await add_tasks(world, 2)
    dispatcher = Dispatcher(world)
    now = datetime.now(UTC)
    with pytest.raises(NotFound):
        await dispatcher.next_for("nobody", 60, now, take=True)
    await add_agent(world, "gone", billing=1)
    await Roster(world).deactivate("gone", "test")
    with pytest.raises(AgentInactive):
        await dispatcher.next_for("gone", 60, now, take=True)
    await add_agent(world, "cal", kyc=2)
    assert await dispatcher.next_for("cal", 60, now, take=True) == NoOffer(
        "no queued task matches your skills"
    )
    assert await dispatcher.next_for("ana", 5, now, take=True) == NoOffer(
        "no queued task for your skills fits in 5 minutes"
    )
    assert await world.fetchval("SELECT count(*) FROM tasks WHERE status <> 'queued'") == 0


async def test_a_skipped_task_is_not_taken_by_the_same_agent(world: asyncpg.Pool) -> None:
    ids = await add_tasks(world, 2)
    offer = await Dispatcher(world).next_for("ana", 60, datetime.now(UTC))
    assert isinstance(offer, Offer)
    await Lifecycle(world).skip(offer.task.id, "ana", "not now")
    taken = await _take(world, "ana")
    assert isinstance(taken, Offer)
    assert taken.task.id == (set(ids) - {offer.task.id}).pop()


async def test_thirty_two_agents_taking_at_once_never_share_a_task(world: asyncpg.Pool) -> None:
    await add_tasks(world, 40)
    agents = [f"a{n:02d}" for n in range(32)]
    for agent in agents:
        await add_agent(world, agent, billing=1)
    for _ in range(2):  # the second round takes the rest of the queue, then finds it dry
        results = await asyncio.gather(*(_take(world, a) for a in agents))
        taken = [r for r in results if isinstance(r, Offer)]
        assert len({t.task.id for t in taken}) == len(taken)
        life = Lifecycle(world)
        for agent, result in zip(agents, results, strict=True):
            if isinstance(result, Offer):
                await life.complete(result.task.id, agent, "done", None)
    claimed = await world.fetch(
        "SELECT task_id, count(*) AS n FROM task_events WHERE event = 'claimed' GROUP BY task_id"
    )
    assert len(claimed) == 40
    assert all(r["n"] == 1 for r in claimed)
    assert await world.fetchval("SELECT count(*) FROM task_events WHERE event = 'offered'") == 0


async def test_twenty_takes_of_one_agent_at_once_claim_one_task(world: asyncpg.Pool) -> None:
    await add_tasks(world, 30)
    results = await asyncio.gather(
        *(_take(world, "ana") for _ in range(20)), return_exceptions=True
    )
    taken = [r for r in results if isinstance(r, Offer)]
    refused = [r for r in results if isinstance(r, HoldsWork)]
    assert len(taken) == 1, results
    assert len(refused) == 19, results
    assert {r.task_id for r in refused} == {taken[0].task.id}
    held = await world.fetch("SELECT id, status FROM tasks WHERE holder = 'ana'")
    assert [(r["id"], r["status"]) for r in held] == [(taken[0].task.id, "in_progress")]
    assert await world.fetchval("SELECT count(*) FROM task_events WHERE event = 'claimed'") == 1

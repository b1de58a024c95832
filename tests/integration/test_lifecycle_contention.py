"""One piece of work per agent, and many agents asking at once, on a real database.

The per-agent limit is held by the database (the agent's row is locked in the transaction that
offers or claims), and the next task is picked with ``FOR UPDATE SKIP LOCKED``, so agents
asking at once each get a distinct task while fitting tasks remain.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import asyncpg
import pytest

from queues.dispatch import Dispatcher, DispatchSettings, NoOffer, Offer
from queues.errors import AgentBusy
from queues.lifecycle import Lifecycle
from queues.matching import Window
from queues.rounds import matching_round
from tests.integration.test_lifecycle import add_agent, add_tasks, offer_to, world

__all__ = ["world"]


async def _held(pool: asyncpg.Pool, agent: str) -> list[asyncpg.Record]:
    return list(
        await pool.fetch(
            "SELECT id, status FROM tasks WHERE holder = $1"
            " AND status IN ('offered', 'in_progress', 'paused') ORDER BY id",
            agent,
        )
    )


async def test_twenty_concurrent_asks_of_one_agent_get_one_offer(world: asyncpg.Pool) -> None:
    await add_tasks(world, 30)
    dispatcher = Dispatcher(world)
    results = await asyncio.gather(
        *(dispatcher.next_for("ana", 60, datetime.now(UTC)) for _ in range(20))
    )
    assert all(isinstance(r, Offer) for r in results), results
    offered = {r.task.id for r in results if isinstance(r, Offer)}
    assert len(offered) == 1
    held = await _held(world, "ana")
    assert [(r["id"], r["status"]) for r in held] == [(offered.pop(), "offered")]
    offer_events = await world.fetchval("SELECT count(*) FROM task_events WHERE event = 'offered'")
    assert offer_events == 1

    (task_id,) = [r["id"] for r in held]
    life = Lifecycle(world)
    claims = await asyncio.gather(*(life.claim(task_id, "ana") for _ in range(5)))
    assert {(t.id, t.status) for t in claims} == {(task_id, "in_progress")}
    assert [r["status"] for r in await _held(world, "ana")] == ["in_progress"]
    assert await world.fetchval("SELECT count(*) FROM task_events WHERE event = 'claimed'") == 1


async def test_work_in_progress_or_paused_is_offered_back_never_new_work(
    world: asyncpg.Pool,
) -> None:
    await add_tasks(world, 5)
    offer = await offer_to(world, "ana")
    life = Lifecycle(world)
    await life.claim(offer.task.id, "ana")
    back = await asyncio.gather(
        *(Dispatcher(world).next_for("ana", 60, datetime.now(UTC)) for _ in range(10))
    )
    for result in back:
        assert isinstance(result, Offer)
        assert result.task.id == offer.task.id
        assert result.why == ["your task in progress"]
    await life.pause(offer.task.id, "ana", "recalled")
    paused = await Dispatcher(world).next_for("ana", 60, datetime.now(UTC))
    assert isinstance(paused, Offer)
    assert (paused.task.id, paused.why) == (offer.task.id, ["your paused task"])
    assert len(await _held(world, "ana")) == 1
    round_ = await matching_round(world, [Window("ana", 60)], now=datetime.now(UTC))
    assert round_.offers == []
    assert round_.busy == ["ana"]


async def test_a_second_claim_beyond_the_limit_is_refused(world: asyncpg.Pool) -> None:
    first, second = await add_tasks(world, 2)
    # Two offers to one agent (made before the limit, or by hand): only one may be claimed.
    await world.execute(
        "UPDATE tasks SET status = 'offered', holder = 'ana',"
        " offer_expires_at = now() + interval '1 minute'"
    )
    life = Lifecycle(world)
    results = await asyncio.gather(
        *(life.claim(t, "ana") for t in (first, second, first, second, first)),
        return_exceptions=True,
    )
    refused = [r for r in results if isinstance(r, BaseException)]
    assert refused, results
    assert all(isinstance(r, AgentBusy) for r in refused), results
    assert [r["status"] for r in await _held(world, "ana")].count("in_progress") == 1
    busy = refused[0]
    assert isinstance(busy, AgentBusy)
    assert busy.agent_id == "ana"
    assert busy.limit == 1
    assert len(busy.holding) == 1
    with pytest.raises(AgentBusy):
        await life.reassign(busy.task_id, "ana", "supervisor")


async def test_a_higher_limit_lets_an_agent_hold_that_many(world: asyncpg.Pool) -> None:
    await add_tasks(world, 5)
    two = DispatchSettings(max_tasks_per_agent=2)
    life = Lifecycle(world, max_tasks_per_agent=2)
    first = await Dispatcher(world, two).next_for("ana", 60, datetime.now(UTC))
    assert isinstance(first, Offer)
    again = await Dispatcher(world, two).next_for("ana", 60, datetime.now(UTC))
    assert isinstance(again, Offer)
    assert again.task.id == first.task.id  # an open offer comes back, whatever the limit
    await life.claim(first.task.id, "ana")
    results = await asyncio.gather(
        *(Dispatcher(world, two).next_for("ana", 60, datetime.now(UTC)) for _ in range(10))
    )
    second = {r.task.id for r in results if isinstance(r, Offer)}
    assert len(second) == 1
    assert first.task.id not in second
    await life.claim(second.pop(), "ana")
    third = await Dispatcher(world, two).next_for("ana", 60, datetime.now(UTC))
    assert isinstance(third, Offer)
    assert third.why == ["your task in progress"]
    assert len(await _held(world, "ana")) == 2


async def test_thirty_agents_asking_at_once_each_get_a_distinct_task(
    world: asyncpg.Pool,
) -> None:
    await add_tasks(world, 100)
    agents = [f"a{n:02d}" for n in range(30)]
    for agent in agents:
        await add_agent(world, agent, billing=1)
    results = await asyncio.gather(
        *(Dispatcher(world).next_for(a, 60, datetime.now(UTC)) for a in agents)
    )
    refusals = [r for r in results if isinstance(r, NoOffer)]
    assert refusals == []
    offers = [r for r in results if isinstance(r, Offer)]
    assert len({o.task.id for o in offers}) == 30
    assert {o.task.holder for o in offers} == set(agents)


async def test_more_agents_than_tasks_share_out_every_task(world: asyncpg.Pool) -> None:
    await add_tasks(world, 10)
    agents = [f"a{n:02d}" for n in range(25)]
    for agent in agents:
        await add_agent(world, agent, billing=1)
    results = await asyncio.gather(
        *(Dispatcher(world).next_for(a, 60, datetime.now(UTC)) for a in agents)
    )
    offers = [r for r in results if isinstance(r, Offer)]
    assert len({o.task.id for o in offers}) == len(offers) == 10
    nothing = {r.reason for r in results if isinstance(r, NoOffer)}
    assert nothing == {"no queued task matches your skills"}


async def test_a_reassignment_waiting_on_a_claim_closes_the_segment_the_claim_opened(
    world: asyncpg.Pool,
) -> None:
    """A supervisor gives the task to Ben while Ana's claim of it is still being committed: the
    reassignment waits for the claim, then closes the time segment the claim opened (which
    its own statement could not see when it began) before opening Ben's."""
    (task_id,) = await add_tasks(world, 1)
    await offer_to(world, "ana")
    async with world.acquire() as conn:
        claiming = conn.transaction()
        await claiming.start()
        await Lifecycle(conn).claim(task_id, "ana")
        reassigning = asyncio.create_task(Lifecycle(world).reassign(task_id, "ben", "sup"))
        await asyncio.sleep(0.5)  # the reassignment now waits for the task's row
        assert not reassigning.done()
        await claiming.commit()
    moved = await reassigning
    assert (moved.status, moved.holder) == ("in_progress", "ben")
    segments = await world.fetch(
        "SELECT agent_id, ended_by FROM task_segments WHERE task_id = $1 ORDER BY id", task_id
    )
    assert [tuple(s) for s in segments] == [("ana", "reassigned"), ("ben", None)]

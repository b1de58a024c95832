"""The task lifecycle on a real database: offers, claims, steps, races."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from queues.catalog import Catalog
from queues.dispatch import Dispatcher, NoOffer, Offer
from queues.errors import HeldByOther, InvalidTransition
from queues.estimates import load_estimates
from queues.lifecycle import Lifecycle
from queues.matching import Window
from queues.models import AgentIn, StepIn, TaskIn, TaskTypeIn
from queues.roster import Roster
from queues.rounds import matching_round
from queues.tasks import Tasks
from queues.timers import run_timers

Client = TestClient[Any, Any]


async def add_agent(pool: asyncpg.Pool, agent_id: str, **skills: int) -> None:
    await Roster(pool).put(agent_id, AgentIn(name=agent_id, skills=skills))


async def add_type(pool: asyncpg.Pool, name: str = "billing", **fields: Any) -> None:
    body = {"skills": ["billing"], "sla_minutes": 600, "handle_minutes": 10, **fields}
    await Catalog(pool).put(name, TaskTypeIn.model_validate(body))


async def add_tasks(pool: asyncpg.Pool, count: int, type_: str = "billing") -> list[int]:
    items = [
        TaskIn(source="t", external_id=f"{type_}-{n}", type=type_, title=f"Task {n}")
        for n in range(count)
    ]
    results = await Tasks(pool).create_many(items, "test")
    return [r.task.id for r in results if r.task is not None]


@pytest.fixture
async def world(pool: asyncpg.Pool) -> asyncpg.Pool:
    await add_type(pool)
    await add_type(pool, "mortgage", skills=["mortgage"], handle_minutes=30)
    await add_agent(pool, "ana", billing=3)
    await add_agent(pool, "ben", billing=2, mortgage=4)
    return pool


async def offer_to(pool: asyncpg.Pool, agent: str, minutes: float = 60) -> Offer:
    result = await Dispatcher(pool).next_for(agent, minutes, datetime.now(UTC))
    assert isinstance(result, Offer), result
    return result


async def test_next_offers_a_task_the_agent_can_do_that_fits(world: asyncpg.Pool) -> None:
    (mortgage,) = await add_tasks(world, 1, "mortgage")
    nothing = await Dispatcher(world).next_for("ana", 60, datetime.now(UTC))
    assert isinstance(nothing, NoOffer)
    assert "skills" in nothing.reason
    too_short = await Dispatcher(world).next_for("ben", 20, datetime.now(UTC))
    assert isinstance(too_short, NoOffer)
    assert "20 minutes" in too_short.reason
    offer = await offer_to(world, "ben", 45)
    assert offer.task.id == mortgage
    assert offer.task.status == "offered"
    assert offer.task.holder == "ben"
    assert offer.why[0].startswith("SLA in 9h59")


async def test_an_agent_with_an_open_offer_gets_it_back(world: asyncpg.Pool) -> None:
    await add_tasks(world, 2)
    first = await offer_to(world, "ana")
    again = await offer_to(world, "ana")
    assert again.task.id == first.task.id
    assert await world.fetchval("SELECT count(*) FROM tasks WHERE status = 'offered'") == 1


async def test_only_the_offered_agent_may_claim_and_a_double_click_is_harmless(
    world: asyncpg.Pool,
) -> None:
    await add_tasks(world, 1)
    offer = await offer_to(world, "ana")
    life = Lifecycle(world)
    with pytest.raises(HeldByOther) as lost:
        await life.claim(offer.task.id, "ben")
    assert lost.value.holder == "ana"
    claimed = await life.claim(offer.task.id, "ana")
    again = await life.claim(offer.task.id, "ana")
    assert claimed.status == again.status == "in_progress"
    events = await world.fetchval("SELECT count(*) FROM task_events WHERE event = 'claimed'")
    assert events == 1


async def test_twenty_simultaneous_claims_of_one_task_have_one_winner(
    world: asyncpg.Pool,
) -> None:
    await add_tasks(world, 1)
    offer = await offer_to(world, "ana")
    life = Lifecycle(world)
    claimers = ["ana", "ben"] * 10
    results = await asyncio.gather(
        *(life.claim(offer.task.id, who) for who in claimers), return_exceptions=True
    )
    winners = {r.holder for r in results if not isinstance(r, BaseException)}
    losers = [r for r in results if isinstance(r, BaseException)]
    assert winners == {"ana"}
    assert len(losers) == 10
    assert all(isinstance(r, HeldByOther) and r.holder == "ana" for r in losers)
    assert await world.fetchval("SELECT count(*) FROM task_events WHERE event = 'claimed'") == 1


async def test_a_skipped_task_is_not_offered_to_the_same_agent_again(
    world: asyncpg.Pool,
) -> None:
    (task_id,) = await add_tasks(world, 1)
    offer = await offer_to(world, "ana")
    await Lifecycle(world).skip(offer.task.id, "ana", "needs a callback I cannot make")
    assert isinstance(await Dispatcher(world).next_for("ana", 60, datetime.now(UTC)), NoOffer)
    assert (await offer_to(world, "ben")).task.id == task_id
    reason = await world.fetchval("SELECT reason FROM task_events WHERE event = 'skipped'")
    assert reason == "needs a callback I cannot make"


async def test_lapsed_offers_return_to_the_queue(world: asyncpg.Pool) -> None:
    await add_tasks(world, 1)
    offer = await offer_to(world, "ana")
    await world.execute("UPDATE tasks SET offer_expires_at = now() - interval '1 second'")
    with pytest.raises(Exception, match="expired"):
        await Lifecycle(world).claim(offer.task.id, "ana")
    assert (await run_timers(world)).expired == [(offer.task.id, "ana")]
    assert await world.fetchval("SELECT status FROM tasks") == "queued"
    assert (await run_timers(world)).expired == []


async def test_steps_pass_through_several_hands(pool: asyncpg.Pool) -> None:
    steps = [
        StepIn(name="document_check", skills=["docs"], handle_minutes=10),
        StepIn(name="underwriting", skills=["underwriting"], handle_minutes=25),
    ]
    await Catalog(pool).put(
        "mortgage_application",
        TaskTypeIn(skills=[], sla_minutes=2880, handle_minutes=35, steps=steps),
    )
    await add_agent(pool, "clerk", docs=3)
    await add_agent(pool, "underwriter", underwriting=4)
    (task_id,) = await add_tasks(pool, 1, "mortgage_application")
    assert isinstance(
        await Dispatcher(pool).next_for("underwriter", 60, datetime.now(UTC)), NoOffer
    )
    life = Lifecycle(pool)
    await offer_to(pool, "clerk")
    await life.claim(task_id, "clerk")
    after_first = await life.complete(task_id, "clerk", "documents complete", None)
    assert (after_first.status, after_first.step) == ("queued", 2)
    assert isinstance(await Dispatcher(pool).next_for("clerk", 60, datetime.now(UTC)), NoOffer)
    await offer_to(pool, "underwriter")
    await life.claim(task_id, "underwriter")
    done = await life.complete(task_id, "underwriter", "approved", "low risk")
    assert done.status == "done"
    detail = await Tasks(pool).get(task_id, datetime.now(UTC))
    assert [e.event for e in detail.timeline] == [
        "created",
        "offered",
        "claimed",
        "step_completed",
        "offered",
        "claimed",
        "completed",
    ]
    assert detail.timeline[3].data["outcome"] == "documents complete"


async def test_pause_resume_release_escalate_reassign(world: asyncpg.Pool) -> None:
    (task_id,) = await add_tasks(world, 1)
    life = Lifecycle(world)
    await offer_to(world, "ana")
    await life.claim(task_id, "ana")
    assert (await life.pause(task_id, "ana", "recalled to the phones")).status == "paused"
    with pytest.raises(HeldByOther):
        await life.resume(task_id, "ben")
    assert (await life.resume(task_id, "ana")).status == "in_progress"
    assert (await life.escalate(task_id, "ana", "customer disputes the amount")).status == (
        "escalated"
    )
    with pytest.raises(InvalidTransition) as wrong:
        await life.complete(task_id, "ana", "done", None)
    assert wrong.value.status == "escalated"
    moved = await life.reassign(task_id, "ben", "supervisor.sara")
    assert (moved.status, moved.holder) == ("in_progress", "ben")
    released = await life.release(task_id, "ben")
    assert (released.status, released.holder) == ("queued", None)


async def test_fifty_workers_asking_for_work_claim_each_task_exactly_once(
    world: asyncpg.Pool,
) -> None:
    count = 1000
    await add_tasks(world, count)
    workers = [f"w{n:02d}" for n in range(50)]
    for worker in workers:
        await add_agent(world, worker, billing=1)
    claimed: list[int] = []

    async def work(agent: str) -> None:
        dispatcher, life = Dispatcher(world), Lifecycle(world)
        while True:
            result = await dispatcher.next_for(agent, 60, datetime.now(UTC))
            if isinstance(result, NoOffer):
                return
            task = await life.claim(result.task.id, agent)
            claimed.append(task.id)
            await life.complete(task.id, agent, "done", None)  # one task at a time

    await asyncio.gather(*(work(w) for w in workers))
    assert sorted(claimed) == sorted(set(claimed))
    assert len(claimed) == count
    assert await _claims_per_task_other_than_one(world) == []


async def test_fifty_workers_claim_each_of_ten_thousand_tasks_exactly_once(
    world: asyncpg.Pool,
) -> None:
    count = 10_000
    await add_tasks(world, count)
    workers = [f"w{n:02d}" for n in range(50)]
    for worker in workers:
        await add_agent(world, worker, billing=1)
    claimed: list[int] = []
    life = Lifecycle(world)

    lost = 0

    async def claim(agent: str, task_id: int) -> None:
        nonlocal lost
        try:
            task = await life.claim(task_id, agent)
        except (HeldByOther, InvalidTransition):  # held by its owner, or already done
            lost += 1
            return
        claimed.append(task.id)
        await life.complete(task.id, agent, "done", None)

    rounds = 0
    while True:
        report = await matching_round(
            world, [Window(w, 60) for w in workers], now=datetime.now(UTC)
        )
        if not report.offers:
            break
        rounds += 1
        # Every worker claims its offer at once, and also tries a colleague's: that one loses.
        attempts = [(t.holder, t.id) for t in report.offers]
        attempts += [(workers[(workers.index(h) + 1) % 50], i) for h, i in attempts if h]
        await asyncio.gather(*(claim(agent, task_id) for agent, task_id in attempts if agent))
    assert rounds == count // 50
    assert lost == count
    assert len(claimed) == count
    assert len(set(claimed)) == count
    assert await _claims_per_task_other_than_one(world) == []


async def _claims_per_task_other_than_one(pool: asyncpg.Pool) -> list[asyncpg.Record]:
    return list(
        await pool.fetch(
            "SELECT t.id, count(e.id) FROM tasks t LEFT JOIN task_events e"
            " ON e.task_id = t.id AND e.event = 'claimed' GROUP BY t.id HAVING count(e.id) <> 1"
        )
    )


async def test_overdue_work_is_nudged_once_then_escalated(world: asyncpg.Pool) -> None:
    (task_id,) = await add_tasks(world, 1)
    await offer_to(world, "ana")
    await Lifecycle(world).claim(task_id, "ana")
    assert (await run_timers(world)).nudged == []
    await world.execute("UPDATE tasks SET active_since = now() - interval '20 minutes'")
    assert (await run_timers(world)).nudged == [(task_id, "ana")]
    assert (await run_timers(world)).nudged == []
    await world.execute("UPDATE tasks SET active_since = now() - interval '40 minutes'")
    report = await run_timers(world)
    assert report.escalated == [(task_id, "ana")]
    assert await world.fetchval("SELECT status FROM tasks") == "escalated"
    events = [r["event"] for r in await world.fetch("SELECT event FROM task_events ORDER BY id")]
    assert events == ["created", "offered", "claimed", "nudged", "escalated"]


async def test_a_matching_round_offers_each_window_a_fitting_task(world: asyncpg.Pool) -> None:
    billing = await add_tasks(world, 3)
    (mortgage,) = await add_tasks(world, 1, "mortgage")
    await add_agent(world, "cara", billing=1)
    windows = [Window("ana", 20), Window("ben", 45), Window("cara", 5)]
    report = await matching_round(world, windows, now=datetime.now(UTC))
    offered = {t.holder: t.id for t in report.offers}
    assert offered == {"ben": mortgage, "ana": min(billing)}
    assert report.unmatched == ["cara"]
    again = await matching_round(world, windows, now=datetime.now(UTC))
    assert again.busy == ["ana", "ben"]
    assert again.offers == []
    why = await world.fetchval(
        "SELECT data -> 'why' FROM task_events WHERE event = 'offered' AND task_id = $1", mortgage
    )
    assert why[0].startswith("SLA in")
    assert why[-1] == "about 30 of your 45 minutes"


async def test_estimates_learn_from_completed_work(world: asyncpg.Pool) -> None:
    await add_tasks(world, 3)
    life = Lifecycle(world)
    for _ in range(3):
        task_id = (await offer_to(world, "ana")).task.id
        await life.claim(task_id, "ana")
        await world.execute(
            "UPDATE tasks SET active_since = now() - interval '4 minutes' WHERE id = $1", task_id
        )
        await life.complete(task_id, "ana", "done", None)
    estimates = await load_estimates(world)
    own = estimates.minutes("ana", "billing", 1, 10)
    newcomer = estimates.minutes("ben", "billing", 1, 10)
    assert 4 < own < newcomer < 10
    assert own == pytest.approx((3 * 4 + 5 * newcomer) / 8, rel=0.01)


async def test_eta_from_the_holder_or_the_queue(world: asyncpg.Pool) -> None:
    first, second = await add_tasks(world, 2)
    tasks = Tasks(world)
    # No completions lately and no forecast: the type's handle time, one agent assumed.
    unknown = await tasks.get(min(first, second), datetime.now(UTC))
    assert unknown.eta is not None
    assert unknown.eta_basis == (
        "first in the queue, 10 min of work; no forecast of spare agent time yet, "
        "so one agent on it is assumed"
    )
    life = Lifecycle(world)
    offered = (await offer_to(world, "ana")).task.id
    await life.claim(offered, "ana")
    await world.execute("UPDATE tasks SET active_since = now() - interval '6 minutes'")
    await life.complete(offered, "ana", "done", None)
    waiting = second if offered == first else first
    queued = await tasks.get(waiting, datetime.now(UTC))
    assert queued.eta is not None
    assert queued.eta_basis.startswith("first in the queue")
    await offer_to(world, "ben")
    await life.claim(waiting, "ben")
    working = await tasks.get(waiting, datetime.now(UTC))
    assert working.eta is not None
    assert working.eta_basis == "ben's usual time on this step"
    assert working.progress == "being worked on by ben"
    minutes = (working.eta - working.updated_at).total_seconds() / 60
    assert 6 < minutes < 10  # the team's 6 minutes, shrunk toward the type's 10

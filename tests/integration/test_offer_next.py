"""The ask for work in one round trip (``dispatch_next()``, migrations 0030 and 0041), on a real
database.

It answers as the step-by-step path did: the same refusals with the same reasons, the same
handle-time estimates (queues/estimates.py) and the same reasons for the rank
(queues/priority.py ``explain``), and agents asking at once each get a distinct task.
"""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from queues.dispatch import Dispatcher, DispatchSettings, NoOffer, Offer
from queues.errors import AgentInactive, NotFound
from queues.estimates import load_estimates
from queues.matching import Budget
from queues.priority import explain
from queues.roster import Roster
from tests.integration.test_lifecycle import add_agent, add_tasks, add_type, world

__all__ = ["world"]


async def _offer_events(pool: asyncpg.Pool) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM task_events WHERE event = 'offered'"))


async def test_the_rank_reasons_are_worded_as_explain_words_them(pool: asyncpg.Pool) -> None:
    rng = random.Random(19)
    now = datetime(2026, 3, 2, 9, 30, 12, 345678, tzinfo=UTC)
    cases = []
    for _ in range(300):
        created = now - timedelta(seconds=rng.uniform(0, 5 * 86400))
        due = created + timedelta(seconds=rng.choice([0, -60, rng.uniform(1, 6 * 86400)]))
        base = rng.choice([0, 5, -3, 40])
        reasons = rng.choice([[], ["platinum +20"], ["a +1", "b +2"]])
        share = rng.choice([0.5, 0.8, 1.0])
        cases.append((base, reasons, created, due, share))
    for base, reasons, created, due, share in cases:
        got = await pool.fetchval(
            "SELECT rank_reasons($1, $2, $3, $4, $5, $6)", base, reasons, created, due, now, share
        )
        assert got == explain(base, 0, reasons, created, due, now, share).reasons


async def test_the_offer_says_the_estimate_the_python_estimates_give(world: asyncpg.Pool) -> None:
    (task,) = await add_tasks(world, 1, "mortgage")
    # Ben and two others have done mortgages: his estimate leaves the configured 30 minutes.
    await add_agent(world, "cy", mortgage=2)
    await world.executemany(
        "INSERT INTO handle_times"
        " (agent_id, type, step, completed, total_seconds, last_at, day, day_seconds)"
        " VALUES ($1, 'mortgage', 1, $2, $3, now(), current_date, 0)",
        [("ben", 4, 4 * 50 * 60.0), ("cy", 7, 7 * 20 * 60.0), ("ana", 3, 3 * 13 * 60.0)],
    )
    estimates = await load_estimates(world, ["ben"])
    expected = estimates.minutes("ben", "mortgage", 1, 30.0)
    assert round(expected) != 30
    now = datetime.now(UTC)
    offer = await Dispatcher(world).next_for("ben", Budget(240.0, "until your break"), now)
    assert isinstance(offer, Offer), offer
    assert offer.task.id == task
    assert offer.why[-2:] == [
        f"about {expected:.0f} min for you",
        "fits your 240 min until your break",
    ]
    # Too long for this agent's estimate, though the configured minutes would fit.
    await world.execute(
        "UPDATE tasks SET status = 'queued', holder = NULL, offer_expires_at = NULL WHERE id = $1",
        task,
    )
    short = expected * 1.2 - 1
    assert short >= 30 * 1.2
    refused = await Dispatcher(world).next_for("ben", short, now)
    assert refused == NoOffer(f"no queued task for your skills fits in {short:g} minutes")


async def test_the_event_row_records_the_offer_and_its_reasons(world: asyncpg.Pool) -> None:
    await add_tasks(world, 3)
    now = datetime.now(UTC)
    offer = await Dispatcher(world, DispatchSettings(offer_seconds=120)).next_for("ana", 45, now)
    assert isinstance(offer, Offer), offer
    assert offer.expires_at == now + timedelta(seconds=120)
    assert offer.task.offer_expires_at == offer.expires_at
    row = await world.fetchrow(
        "SELECT from_status, to_status, actor, data FROM task_events"
        " WHERE task_id = $1 AND event = 'offered'",
        offer.task.id,
    )
    assert row is not None
    assert (row["from_status"], row["to_status"], row["actor"]) == (
        "queued",
        "offered",
        "dispatcher",
    )
    assert row["data"] == {
        "agent_id": "ana",
        "expires_at": offer.expires_at.isoformat(),
        "why": offer.why,
    }
    assert offer.why[-1] == "fits your 45 min"


async def test_the_refusals_keep_their_reasons_and_change_nothing(world: asyncpg.Pool) -> None:
    await add_tasks(world, 2)
    dispatcher = Dispatcher(world)
    now = datetime.now(UTC)
    with pytest.raises(NotFound):
        await dispatcher.next_for("nobody", 60, now)
    await add_agent(world, "gone", billing=1)
    await Roster(world).deactivate("gone", "test")
    with pytest.raises(AgentInactive):
        await dispatcher.next_for("gone", 60, now)
    await add_agent(world, "cal", kyc=2)
    assert await dispatcher.next_for("cal", 60, now) == NoOffer(
        "no queued task matches your skills"
    )
    no_time = Budget(None, "your shift has ended")
    assert await dispatcher.next_for("ana", no_time, now) == NoOffer("your shift has ended")
    assert await dispatcher.next_for("ana", 5, now) == NoOffer(
        "no queued task for your skills fits in 5 minutes"
    )
    basis = await dispatcher.next_for("ana", Budget(5.5, "until your break at 14:30"), now)
    assert basis == NoOffer(
        "no queued task for your skills fits in your 5 min until your break at 14:30"
    )
    assert await _offer_events(world) == 0
    assert await world.fetchval("SELECT count(*) FROM tasks WHERE status <> 'queued'") == 0


async def test_held_work_comes_back_even_without_time_for_new_work(world: asyncpg.Pool) -> None:
    await add_tasks(world, 2)
    now = datetime.now(UTC)
    first = await Dispatcher(world).next_for("ana", 60, now)
    assert isinstance(first, Offer)
    again = await Dispatcher(world).next_for("ana", Budget(None, "you are on a break"), now)
    assert isinstance(again, Offer)
    assert (again.task.id, again.why) == (first.task.id, ["your open offer"])
    assert await _offer_events(world) == 1


async def test_only_pausable_types_for_an_interruptible_agent(pool: asyncpg.Pool) -> None:
    await add_type(pool, "billing", pausable=False)
    await add_type(pool, "letters", skills=["billing"], pausable=True)
    await add_agent(pool, "ana", billing=3)
    await add_tasks(pool, 3, "billing")
    (letter,) = await add_tasks(pool, 1, "letters")
    offer = await Dispatcher(pool).next_for("ana", 60, datetime.now(UTC), pausable_only=True)
    assert isinstance(offer, Offer), offer
    assert offer.task.id == letter


async def test_thirty_two_agents_asking_at_once_never_share_a_task(world: asyncpg.Pool) -> None:
    await add_tasks(world, 40)
    agents = [f"a{n:02d}" for n in range(32)]
    for agent in agents:
        await add_agent(world, agent, billing=1)
    for _ in range(2):  # the second round finds the rest of the queue, then runs it dry
        results = await asyncio.gather(
            *(Dispatcher(world).next_for(a, 60, datetime.now(UTC)) for a in agents)
        )
        offers = [r for r in results if isinstance(r, Offer)]
        assert len({o.task.id for o in offers}) == len(offers)
        await world.execute(
            "UPDATE tasks SET status = 'done', holder = NULL, offer_expires_at = NULL"
            " WHERE status = 'offered'"
        )
    offered = await world.fetch(
        "SELECT task_id, count(*) AS n FROM task_events WHERE event = 'offered' GROUP BY task_id"
    )
    assert len(offered) == 40
    assert all(r["n"] == 1 for r in offered)

"""Drift, watched by the tick: a ghost agent left in the back-office status with no work is put
back to available; an agent the platform made routable while lent is taken off the phones
again. The feed is the generic one; the clock is moved by hand."""

from __future__ import annotations

from datetime import timedelta

import asyncpg

from queues.catalog import Catalog
from queues.lifecycle import Lifecycle
from queues.models import TaskIn, TaskTypeIn
from queues.tasks import Tasks
from tests.conftest import AUTH
from tests.support.acd import rig, seed_agents


async def test_a_ghost_agent_is_put_back_to_available_after_two_minutes(
    pool: asyncpg.Pool,
) -> None:
    await seed_agents(pool)
    async with rig(pool) as r:
        # Dana sits in the back-office status with no back-office work: someone set it by
        # hand, or an earlier command was never undone.
        await r.feed("ext-dana", "back_office", ago=60)
        await r.tick()
        assert await r.commands("dana") == []  # one minute is not yet a ghost
        r.clock.advance(timedelta(seconds=61))
        await r.tick()
        (command,) = await r.commands("dana")
        assert (command["state"], command["cause"], command["status"]) == (
            "available",
            "ghost",
            "confirmed",
        )
        assert r.platform.states == {"ext-dana": "available"}
        assert await r.metric("blendbot_acd_drift_corrections_total") == 1
        await r.tick()
        assert len(await r.commands("dana")) == 1  # corrected once
        events = [i for i in (await r.timeline("dana"))["items"] if i["kind"] == "blending"]
        assert [e["event"] for e in events] == ["drift"]
        assert "with no back-office work" in events[0]["detail"]


async def test_an_agent_with_work_is_no_ghost(pool: asyncpg.Pool) -> None:
    await seed_agents(pool)
    async with rig(pool) as r:
        await r.lend("dana", 60)
        await r.send()
        r.clock.advance(timedelta(minutes=10))
        await r.tick()
        assert [c["state"] for c in await r.commands("dana")] == ["backoffice"]


async def test_an_agent_the_platform_made_routable_while_lent_is_taken_off_the_phones_again(
    pool: asyncpg.Pool,
) -> None:
    (task_id,) = await seed_agents(pool)
    async with rig(pool) as r:
        # She asks for work herself: the offer lends her, and the platform is told.
        pulled = await r.client.post("/api/v1/agents/dana/next", json={"minutes": 30}, headers=AUTH)
        assert (await pulled.json())["offer"]["task_id"] == task_id
        await r.send()
        claim = await r.client.post(
            f"/api/v1/tasks/{task_id}/claim", json={"agent_id": "dana"}, headers=AUTH
        )
        assert claim.status == 200
        # After a call the platform puts her back to available by itself.
        r.clock.advance(timedelta(seconds=30))
        await r.feed("ext-dana", "available")
        await r.tick()
        assert len(await r.commands("dana")) == 1  # feeds lag: not drift yet
        r.clock.advance(timedelta(seconds=11))
        await r.tick()
        states = [(c["state"], c["cause"], c["status"]) for c in await r.commands("dana")]
        assert states == [
            ("backoffice", "task", "confirmed"),
            ("backoffice", "drift", "confirmed"),
        ]
        assert r.platform.states == {"ext-dana": "back_office"}
        assert await r.metric("blendbot_acd_drift_corrections_total") == 1

        # Her work done, she goes back to the phones, and the watch leaves her there.
        done = await r.client.post(
            f"/api/v1/tasks/{task_id}/complete",
            json={"agent_id": "dana", "outcome": "Resolved"},
            headers=AUTH,
        )
        assert done.status == 200
        await r.send()
        last = (await r.commands("dana"))[-1]
        assert (last["state"], last["cause"], last["status"]) == ("available", "task", "confirmed")
        assert f"task #{task_id} done" in last["reason"]
        r.clock.advance(timedelta(minutes=5))
        await r.tick()
        assert len(await r.commands("dana")) == 3


async def test_no_drift_is_corrected_in_advisory_mode(pool: asyncpg.Pool) -> None:
    (task_id,) = await seed_agents(pool)
    async with rig(pool, "advisory") as r:
        await r.feed("ext-dana", "back_office", ago=600)
        lent = await r.lend("dana")
        assert lent["command"] is None
        await r.client.post(
            f"/api/v1/tasks/{task_id}/claim", json={"agent_id": "dana"}, headers=AUTH
        )
        await r.feed("ext-dana", "available")
        r.clock.advance(timedelta(minutes=5))
        await r.tick()
        assert await r.commands("dana") == []
        assert r.platform.received == []


async def test_an_interruptible_agent_made_routable_while_holding_work_no_call_can_pause(
    pool: asyncpg.Pool,
) -> None:
    """In interruptible mode work that cannot be paused takes its holder off the phones; if the
    platform or someone by hand makes them routable while they hold it, the watch puts them
    back, as in control mode. Pausable work leaves them routable: no correction."""
    await seed_agents(pool, tasks=0)
    opening_type = TaskTypeIn(skills=["billing"], sla_minutes=60, handle_minutes=10, pausable=False)
    await Catalog(pool).put("opening", opening_type)
    opening, _ = await Tasks(pool).create(
        TaskIn(source="crm", external_id="O-1", type="opening", title="Account opening"), "test"
    )
    async with rig(pool, "interruptible") as r:
        life = Lifecycle(pool)
        await life.offer(opening.id, "dana", r.clock.now() + timedelta(minutes=5), "matcher", [])
        await life.claim(opening.id, "dana")
        await r.send()
        assert r.platform.states == {"ext-dana": "back_office"}
        r.clock.advance(timedelta(seconds=30))
        await r.feed("ext-dana", "available")
        r.clock.advance(timedelta(seconds=11))
        await r.tick()
        states = [(c["state"], c["cause"], c["status"]) for c in await r.commands("dana")]
        assert states == [
            ("backoffice", "task", "confirmed"),
            ("backoffice", "drift", "confirmed"),
        ]
        assert r.platform.states == {"ext-dana": "back_office"}


async def test_an_interruptible_agent_on_pausable_work_stays_routable(pool: asyncpg.Pool) -> None:
    (task_id,) = await seed_agents(pool)
    async with rig(pool, "interruptible") as r:
        await r.feed("ext-dana", "available", ago=30)
        await r.lend("dana")
        claim = await r.client.post(
            f"/api/v1/tasks/{task_id}/claim", json={"agent_id": "dana"}, headers=AUTH
        )
        assert claim.status == 200
        r.clock.advance(timedelta(minutes=5))
        await r.tick()
        assert await r.commands("dana") == []
        assert r.platform.received == []

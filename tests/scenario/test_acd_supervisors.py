"""A supervisor's lend and recall, through the API and `/blend lend|recall` in Slack, go the
engine's way: the same guard, the same window the agent's pulls are fitted to, the same state
commands, the same audit."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import asyncpg

from blending.decision_store import act
from blending.guard import GuardState
from blending.policy import Decision, GroupDecision
from queues.dispatch import DispatchSettings
from tests.conftest import AUTH
from tests.support.acd import rig, seed_agents
from tests.support.slack import BEN, DANA, SUPERVISOR
from tests.support.windows import lend as engine_round


async def _guard(pool: asyncpg.Pool, mode: str, reason: str) -> None:
    await pool.execute(
        "INSERT INTO blending_guard (grp, mode, since, reason) VALUES ('all queues', $1, now(), $2)"
        " ON CONFLICT (grp) DO UPDATE SET mode = excluded.mode, reason = excluded.reason",
        mode,
        reason,
    )


async def test_a_lend_is_refused_while_the_guard_holds_unless_overridden(
    pool: asyncpg.Pool,
) -> None:
    (task_id,) = await seed_agents(pool)
    async with rig(pool) as r:
        await _guard(pool, "hold", "3 calls waiting")
        refused = await r.lend("dana")
        assert refused["_status"] == 409
        assert refused["error"]["code"] == "lend_refused"
        assert (
            "the guard of all queues holds offers (3 calls waiting)" in refused["error"]["message"]
        )
        assert await r.commands("dana") == []

        lent = await r.lend("dana", 15, override=True)
        assert lent["_status"] == 200
        assert lent["offer"]["task_id"] == task_id
        assert lent["command"]["state"] == "backoffice"
        (event,) = [i for i in (await r.timeline("dana"))["items"] if i["event"] == "lent"]
        assert "override: the guard of all queues holds offers" in event["detail"]


async def test_an_agent_on_a_call_is_never_lent(pool: asyncpg.Pool) -> None:
    await seed_agents(pool)
    async with rig(pool) as r:
        await r.feed("ext-dana", "on_call")
        refused = await r.lend("dana", override=True)
        assert refused["_status"] == 409
        assert "on a call" in refused["error"]["message"]
        assert "override" not in refused["error"]["message"]
        missing = await r.lend("nobody")
        assert missing["_status"] == 404
        bad = await r.lend("dana", 0)
        assert bad["_status"] == 422


async def test_the_lend_is_a_window_the_engine_keeps_and_its_end_puts_the_agent_back(
    pool: asyncpg.Pool,
) -> None:
    (task_id,) = await seed_agents(pool)
    async with rig(pool) as r:
        lent = await r.lend("dana", 20)
        assert "fits your 20 min" in " ".join(lent["offer"]["why"])
        # A blending round that grants her nothing leaves the supervisor's lend in place.
        await engine_round(pool, "ben", minutes=60, now=r.clock.now())
        window = await pool.fetchrow("SELECT * FROM blending_windows WHERE agent_id = 'dana'")
        assert window is not None
        assert window["lent_by"] == "sam"
        assert window["ends_at"] == r.clock.now() + timedelta(minutes=20)

        await r.send()
        await r.client.post(
            f"/api/v1/tasks/{task_id}/claim", json={"agent_id": "dana"}, headers=AUTH
        )
        await r.client.post(
            f"/api/v1/tasks/{task_id}/complete",
            json={"agent_id": "dana", "outcome": "Resolved"},
            headers=AUTH,
        )
        await r.send()
        # Lent for 20 minutes, she stays off the phones to pull her next task.
        assert [c["state"] for c in await r.commands("dana")] == ["backoffice"]

        r.clock.advance(timedelta(minutes=20))
        await r.tick()
        assert (
            await pool.fetchval("SELECT count(*) FROM blending_windows WHERE agent_id = 'dana'")
            == 0
        )
        last = (await r.commands("dana"))[-1]
        assert (last["state"], last["cause"], last["status"]) == (
            "available",
            "lend_ended",
            "confirmed",
        )
        events = [
            i["event"] for i in (await r.timeline("dana"))["items"] if i["kind"] == "blending"
        ]
        assert events == ["lend_ended", "lent"]


async def test_a_recall_takes_the_offer_back_and_holds_new_work_for_a_while(
    pool: asyncpg.Pool,
) -> None:
    (task_id,) = await seed_agents(pool)
    async with rig(pool) as r:
        await r.lend("dana")
        await r.send()
        recalled = await r.recall("dana", "the queue is on fire")
        assert recalled["withdrawn"] == [task_id]
        assert recalled["until"]
        pulled = await r.client.post("/api/v1/agents/dana/next", json={"minutes": 30}, headers=AUTH)
        assert "the queue is on fire" in (await pulled.json())["reason"]
        await r.send()
        r.clock.advance(timedelta(seconds=181))
        await r.tick()
        pulled = await r.client.post("/api/v1/agents/dana/next", json={"minutes": 30}, headers=AUTH)
        assert (await pulled.json())["offer"]["task_id"] == task_id
        states = [(c["state"], c["cause"]) for c in await r.commands("dana")]
        assert states == [("backoffice", "lend"), ("available", "recall"), ("backoffice", "task")]


async def test_slack_lend_and_recall_are_for_supervisors_only(pool: asyncpg.Pool) -> None:
    (task_id,) = await seed_agents(pool)
    async with rig(pool) as r:
        denied = await r.slack.command(BEN, f"lend <@{DANA}> 30")
        assert "is for supervisors" in denied["text"]
        denied = await r.slack.command(BEN, f"recall <@{DANA}>")
        assert "is for supervisors" in denied["text"]
        audit = await pool.fetch("SELECT action, allowed FROM slack_audit WHERE user_id = $1", BEN)
        assert [(a["action"], a["allowed"]) for a in audit] == [
            ("/blend lend", False),
            ("/blend recall", False),
        ]
        assert await r.commands("dana") == []

        reply = await r.slack.command(SUPERVISOR, f"lend <@{DANA}> 30")
        assert "Dana Levi is lent to back-office work until" in reply["text"]
        assert f"Offered task #{task_id}" in reply["text"]
        await r.send()
        (command,) = await r.commands("dana")
        assert (command["state"], command["actor"], command["status"]) == (
            "backoffice",
            "sam",
            "confirmed",
        )
        await r.slack.drain()
        texts = " ".join(c["text"] + json.dumps(c["blocks"]) for c in r.slack.card(DANA))
        assert f"#{task_id}" in texts  # the offer is in her DM

        reply = await r.slack.command(SUPERVISOR, f"recall <@{DANA}> need you on the phones")
        assert "Dana Levi is recalled to the phones" in reply["text"]
        await r.send()
        last = (await r.commands("dana"))[-1]
        assert (last["state"], last["reason"], last["status"]) == (
            "available",
            "need you on the phones",
            "confirmed",
        )
        await r.slack.drain()
        assert any("Calls are rising" in c["text"] for c in r.slack.card(DANA))
        usage = await r.slack.command(SUPERVISOR, "lend dana")
        assert "Usage" in usage["text"]


async def test_advisory_mode_sends_no_commands(pool: asyncpg.Pool) -> None:
    (task_id,) = await seed_agents(pool)
    async with rig(pool, "advisory") as r:
        lent = await r.lend("dana")
        assert (lent["mode"], lent["command"]) == ("advisory", None)
        await r.client.post(
            f"/api/v1/tasks/{task_id}/claim", json={"agent_id": "dana"}, headers=AUTH
        )
        await r.recall("dana")
        await r.send()
        assert r.platform.received == []
        assert await r.commands("dana") == []


async def _task(pool: asyncpg.Pool, task_id: int) -> asyncpg.Record:
    row = await pool.fetchrow(
        "SELECT t.status, e.actor, e.reason, e.data FROM tasks t JOIN LATERAL ("
        " SELECT * FROM task_events WHERE task_id = t.id ORDER BY id DESC LIMIT 1) e ON true"
        " WHERE t.id = $1",
        task_id,
    )
    assert row is not None
    return row


async def test_in_control_mode_a_recall_pauses_the_work_in_progress_at_once(
    pool: asyncpg.Pool,
) -> None:
    """The platform makes her routable again within seconds, so her back-office clock stops
    then, not when she reads Slack; no tick runs here."""
    (task_id,) = await seed_agents(pool)
    async with rig(pool, running=True) as r:
        await r.lend("dana")
        claim = await r.client.post(
            f"/api/v1/tasks/{task_id}/claim", json={"agent_id": "dana"}, headers=AUTH
        )
        assert claim.status == 200
        await r.recall("dana", "the queue is on fire")
        for _ in range(100):
            if (await _task(pool, task_id))["status"] == "paused":
                break
            await asyncio.sleep(0.02)
        row = await _task(pool, task_id)
        assert row["status"] == "paused"
        assert row["actor"] == "blendbot"
        assert "recalled to the phones" in row["reason"]
        assert row["data"] == {"interrupted_by": "recall"}
        await r.slack.drain()
        (card,) = [c for c in r.slack.card(DANA) if f"#{task_id}" in c["text"]]
        assert "You are back on the phones" in json.dumps(card["blocks"])
        # Paused work does not lend her again: the platform keeps her available.
        for _ in range(100):
            if [c["state"] for c in r.platform.received][-1:] == ["available"]:
                break
            await asyncio.sleep(0.02)
        assert [c["state"] for c in r.platform.received] == ["backoffice", "available"]
        resumed = await r.client.post(
            f"/api/v1/tasks/{task_id}/resume", json={"agent_id": "dana"}, headers=AUTH
        )
        assert resumed.status == 409  # recalled: the calls need her


async def test_work_that_cannot_be_paused_stays_in_progress_on_a_recall(
    pool: asyncpg.Pool,
) -> None:
    (task_id,) = await seed_agents(pool, pausable=False)
    async with rig(pool) as r:
        await r.lend("dana")
        await r.client.post(
            f"/api/v1/tasks/{task_id}/claim", json={"agent_id": "dana"}, headers=AUTH
        )
        await r.recall("dana")
        await r.tick()
        assert (await _task(pool, task_id))["status"] == "in_progress"


async def test_the_engines_recall_pauses_the_work_at_the_same_tick(pool: asyncpg.Pool) -> None:
    (task_id,) = await seed_agents(pool)
    async with rig(pool) as r:
        await r.lend("dana")
        await r.client.post(
            f"/api/v1/tasks/{task_id}/claim", json={"agent_id": "dana"}, headers=AUTH
        )
        group = GroupDecision(
            "all queues",
            recall=["dana"],
            guard=GuardState("recall", r.clock.now()),
            reason="5 calls waiting",
        )
        await act(pool, Decision({"all queues": group}), r.clock.now(), DispatchSettings(), {})
        await r.tick()
        assert (await _task(pool, task_id))["status"] == "paused"
        await r.tick()
        paused = await pool.fetchval(
            "SELECT count(*) FROM task_events WHERE task_id = $1 AND event = 'paused'", task_id
        )
        assert paused == 1

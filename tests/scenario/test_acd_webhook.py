"""Agent states set in the phone system through the signed webhook, end to end: a supervisor's
lend and recall through the API, the commands as the webhook target documents them (the
platform stand-in checks the signature), confirmation by the generic feed, and the timeline."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from datetime import timedelta

import asyncpg
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from standins.acd_webhook import WebhookPlatform
from telephony_adapters.control import Command
from telephony_adapters.webhook_control import SIGNATURE_HEADER, WebhookClient, body_of
from tests.conftest import AUTH
from tests.support.acd import WEBHOOK_SECRET, Rig, rig, seed_agents


async def test_lend_then_recall_sets_the_state_in_the_platform_confirmed_by_the_feed(
    pool: asyncpg.Pool,
) -> None:
    (task_id,) = await seed_agents(pool)
    async with rig(pool) as r:
        lent = await r.lend("dana", 30)
        assert lent["_status"] == 200, lent
        assert lent["mode"] == "control"
        assert lent["offer"]["task_id"] == task_id
        assert lent["command"]["state"] == "backoffice"
        assert lent["command"]["status"] == "pending"

        await r.send()
        (sent,) = r.platform.received
        assert set(sent) == {"agent_id", "telephony_ids", "state", "reason", "command_id"}
        assert sent["agent_id"] == "dana"
        assert sent["telephony_ids"] == {"generic": "ext-dana"}
        assert sent["state"] == "backoffice"
        assert sent["command_id"] == lent["command"]["command_id"]
        assert r.platform.forged == 0
        # The platform reported the new state in the generic feed: the command is confirmed.
        assert r.platform.states == {"ext-dana": "back_office"}
        (command,) = await r.commands("dana")
        assert command["status"] == "confirmed"
        assert command["target"] == "webhook"

        r.clock.advance(timedelta(seconds=40))
        recalled = await r.recall("dana", "calls are rising: 6 waiting")
        assert recalled["withdrawn"] == [task_id]  # the offer went back to the queue
        assert recalled["command"]["state"] == "available"
        await r.send()
        assert [c["state"] for c in r.platform.received] == ["backoffice", "available"]
        assert r.platform.states == {"ext-dana": "available"}
        states = [
            (c["state"], c["status"], c["cause"], c["actor"]) for c in await r.commands("dana")
        ]
        assert states == [
            ("backoffice", "confirmed", "lend", "sam"),
            ("available", "confirmed", "recall", "sam"),
        ]
        assert await r.metric("blendbot_acd_commands_sent_total") == 2
        assert await r.metric("blendbot_acd_commands_confirmed_total") == 2

        timeline = await r.timeline("dana")
        assert timeline["mode"] == "control"
        assert timeline["wanted"] == "available"
        assert timeline["last_command"]["status"] == "confirmed"
        seen = [(i["kind"], i["event"]) for i in reversed(timeline["items"])]
        assert ("blending", "lent") in seen
        assert ("blending", "recalled") in seen
        steps = [e for k, e in seen if k == "command"]
        assert steps == ["queued", "sent", "confirmed", "queued", "sent", "confirmed"]
        feed = [e for k, e in seen if k == "feed"]
        assert feed == ["back_office", "available"]
        lent_item = next(i for i in timeline["items"] if i["event"] == "lent")
        assert "(by sam)" in lent_item["detail"]


async def test_the_body_is_signed_as_documented_and_a_forged_one_is_refused() -> None:
    platform = WebhookPlatform(WEBHOOK_SECRET, follow=False)
    server = TestServer(platform.app())
    await server.start_server()
    try:
        command = Command("c-1", "dana", "ext-dana", "backoffice", "test", {"generic": "ext-dana"})
        body = body_of(command)
        wanted = "sha256=" + hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
        async with ClientSession() as session:
            forged = {SIGNATURE_HEADER: "sha256=" + "0" * 64}
            async with session.post(server.make_url("/commands"), data=body, headers=forged) as a:
                assert a.status == 401
        assert platform.forged == 1
        assert platform.received == []
        client = WebhookClient(str(server.make_url("/commands")), WEBHOOK_SECRET)
        await client.send(command)
        await client.close()
        assert platform.received == [json.loads(body)]
        assert set(json.loads(body)) == {
            "agent_id",
            "telephony_ids",
            "state",
            "reason",
            "command_id",
        }
    finally:
        await server.close()
    async with ClientSession() as session:
        server = TestServer(platform.app())
        await server.start_server()
        try:
            signed = {SIGNATURE_HEADER: wanted}
            async with session.post(server.make_url("/commands"), data=body, headers=signed) as b:
                assert b.status == 202
        finally:
            await server.close()


async def _arrives(r: Rig, count: int, within: float = 5.0) -> float:
    """Seconds until the platform has received ``count`` commands."""
    started = time.perf_counter()
    while len(r.platform.received) < count:
        assert time.perf_counter() - started < within, r.platform.received
        await asyncio.sleep(0.05)
    return time.perf_counter() - started


async def test_with_the_outbox_running_the_platform_follows_an_agents_work_within_seconds(
    pool: asyncpg.Pool,
) -> None:
    """No one wakes the sender here: a pull, a claim and a completion change the agent's work
    in their own transactions, and the outbox finds the commands they queued."""
    (task_id,) = await seed_agents(pool)
    async with rig(pool, running=True) as r:
        pulled = await r.client.post("/api/v1/agents/dana/next", json={"minutes": 30}, headers=AUTH)
        assert (await pulled.json())["offer"]["task_id"] == task_id
        lend_seconds = await _arrives(r, 1)
        await r.client.post(
            f"/api/v1/tasks/{task_id}/claim", json={"agent_id": "dana"}, headers=AUTH
        )
        done = await r.client.post(
            f"/api/v1/tasks/{task_id}/complete",
            json={"agent_id": "dana", "outcome": "Resolved"},
            headers=AUTH,
        )
        assert done.status == 200
        back_seconds = await _arrives(r, 2)
        assert [c["state"] for c in r.platform.received] == ["backoffice", "available"]
        assert lend_seconds < 2.0
        assert back_seconds < 2.0
        for _ in range(40):
            if [c["status"] for c in await r.commands("dana")] == ["confirmed", "confirmed"]:
                break
            await asyncio.sleep(0.05)
        assert [c["status"] for c in await r.commands("dana")] == ["confirmed", "confirmed"]

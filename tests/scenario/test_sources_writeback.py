"""The write-back outbox: every lifecycle event of a source's task goes back once, in order,
after the change committed; throttling and outages are waited out, and what cannot be written
back is on the task's timeline and told to the supervisors."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot import root
from bot.slack.context import SlackConfig
from clock import FixedClock
from queues.lifecycle import Lifecycle
from standins.answers import Answer
from standins.slack import StandIn
from standins.source_receiver import Receiver
from task_sources.outbox import OutboxSettings, WriteBackOutbox
from tests.conftest import AUTH, TOKEN
from tests.support.slack import BOT_TOKEN, CHANNEL, DANA, SUPERVISOR
from tests.support.slack import SECRET as SLACK_SECRET
from tests.support.sources import SECRET, billing_type, put_source, take, webhook

RECORD = {"id": "R-1", "type": "billing", "title": "Refund check"}


@dataclass
class Rig:
    client: TestClient[Any, Any]
    pool: asyncpg.Pool
    slack: StandIn
    app: root.App
    clock: FixedClock
    receiver: Receiver
    url: str
    made: list[WriteBackOutbox] = field(default_factory=list)

    def outbox(self, **settings: Any) -> WriteBackOutbox:
        """A sender on the rig's clock (closed with the rig)."""
        assert self.app.writebacks is not None
        outbox = WriteBackOutbox(
            self.pool,
            self.app.writebacks.catalog,
            clock=self.clock,
            settings=OutboxSettings(**settings),
            hooks=self.app.writebacks.hooks,
        )
        self.made.append(outbox)
        return outbox

    async def task(self) -> int:
        at = self.clock.now().timestamp()
        made = await (await webhook(self.client, "crm", RECORD, at=at)).json()
        task_id: int = made["deliveries"][0]["task_id"]
        return task_id

    async def timeline(self, task_id: int) -> list[str]:
        body = await (await self.client.get(f"/api/v1/tasks/{task_id}", headers=AUTH)).json()
        return [e["event"] for e in body["timeline"]]


@pytest.fixture
async def rig(pool: asyncpg.Pool) -> AsyncIterator[Rig]:
    clock = FixedClock(datetime.now(UTC))
    slack = StandIn(
        token=BOT_TOKEN, channels={CHANNEL}, users={DANA: "Dana Levi", SUPERVISOR: "Sam Cho"}
    )
    api = TestServer(slack.app())
    await api.start_server()
    receiver = Receiver(SECRET)
    vendor = TestServer(receiver.app())
    await vendor.start_server()
    config = SlackConfig(
        bot_token=BOT_TOKEN,
        signing_secret=SLACK_SECRET,
        api_url=str(api.make_url("/api/")),
        supervisor_channel=CHANNEL,
        supervisors=frozenset({SUPERVISOR}),
        run_outbox=False,
        clock=clock,
    )
    wired = root.Parts(clock=clock)
    app = root.http_app(pool, wired, tokens=[TOKEN], slack=config, run_control=False)
    await billing_type(pool)
    try:
        async with TestClient(TestServer(app.web)) as client:
            url = str(vendor.make_url("/events"))
            await put_source(client, "crm", kind="webhook", secret=SECRET, api_url=url)
            made = Rig(client, pool, slack, app, clock, receiver, url)
            yield made
            for outbox in made.made:
                await outbox.close()
    finally:
        await vendor.close()
        await api.close()


async def test_each_event_is_written_back_once_in_order(rig: Rig) -> None:
    task_id = await rig.task()
    await take(rig.pool, task_id, "ana")
    await Lifecycle(rig.pool).complete(task_id, "ana", "refunded", "sent 40 EUR back")
    outbox = rig.outbox()
    await outbox.drain()
    await outbox.drain()
    events = [(e["event"], e["outcome"], e["reason"]) for e in rig.receiver.received]
    assert events == [
        ("claimed", None, None),
        ("completed", "refunded", "sent 40 EUR back"),
    ]
    assert len(rig.receiver.applied) == 2
    assert (await rig.timeline(task_id)).count("written_back") == 2
    metrics = await (await rig.client.get("/metrics")).text()
    assert (
        'blendbot_source_writebacks_total{event="completed",result="sent",source="crm"} 1.0'
        in metrics
    )


async def test_a_throttled_source_waits_for_retry_after(rig: Rig) -> None:
    task_id = await rig.task()
    rig.receiver.script = [Answer(429, {"Retry-After": "30"})]
    await take(rig.pool, task_id, "ana")
    outbox = rig.outbox(max_attempts=2)
    await outbox.drain()
    assert len(rig.receiver.applied) == 0
    rig.clock.advance(timedelta(seconds=29))
    await outbox.drain()
    assert len(rig.receiver.received) == 1
    rig.clock.advance(timedelta(seconds=2))
    await outbox.drain()
    assert [e["event"] for e in rig.receiver.applied.values()] == ["claimed"]


async def test_an_outage_is_retried_then_supervisors_are_told_and_nothing_lost(
    rig: Rig,
) -> None:
    task_id = await rig.task()
    await take(rig.pool, task_id, "ana")
    await Lifecycle(rig.pool).complete(task_id, "ana", "refunded", None)
    # Down twice for the claim (then it goes through), and for good for the completion.
    rig.receiver.script = [Answer(503), Answer(503), Answer(200), *[Answer(503)] * 3]
    outbox = rig.outbox(max_attempts=3)
    for _ in range(6):
        await outbox.drain()
        rig.clock.advance(timedelta(minutes=5))
    assert [e["event"] for e in rig.receiver.applied.values()] == ["claimed"]
    rows = await rig.pool.fetch(
        "SELECT event, status, attempts, last_error FROM source_writebacks ORDER BY id"
    )
    assert [(r["event"], r["status"]) for r in rows] == [
        ("claimed", "done"),
        ("completed", "failed"),
    ]
    assert rows[1]["attempts"] == 3
    assert "503" in rows[1]["last_error"]
    assert (await rig.timeline(task_id))[-1] == "write_back_failed"
    await rig.app.slack.outbox.drain() if rig.app.slack else None
    told = [m.text for (channel, _), m in rig.slack.messages.items() if channel == CHANNEL]
    assert any("Could not write task" in text for text in told)
    metrics = await (await rig.client.get("/metrics")).text()
    assert (
        'blendbot_source_writebacks_total{event="completed",result="failed",source="crm"} 1.0'
        in metrics
    )


async def test_a_cancellation_the_source_asked_for_is_not_sent_back(rig: Rig) -> None:
    task_id = await rig.task()
    at = rig.clock.now().timestamp()
    await webhook(rig.client, "crm", {**RECORD, "action": "close"}, at=at)
    await rig.outbox().drain()
    assert rig.receiver.received == []
    assert "cancelled" in await rig.timeline(task_id)


async def test_a_rate_limited_source_gets_each_event_once_without_being_polled_past_it(
    rig: Rig, pool: asyncpg.Pool
) -> None:
    """Senders throttled at once put the source off together (no deadlock, no failure), hold
    back the rows they leased, and every event arrives once when the limit allows it."""
    task_ids = []
    for n in range(12):
        at = rig.clock.now().timestamp()
        record = {**RECORD, "id": f"R-{n}"}
        made = await (await webhook(rig.client, "crm", record, at=at)).json()
        task_ids.append(made["deliveries"][0]["task_id"])
    for n, task_id in enumerate(task_ids):
        await take(pool, task_id, f"agent-{n}")
    rig.receiver.per_second = 3
    outbox = rig.outbox(concurrency=8)
    await outbox.drain()
    assert rig.receiver.throttled > 0
    # The rows this sender had leased but not yet sent when it was throttled were held back.
    assert len(rig.receiver.received) < len(task_ids)
    for _ in range(20):
        if len(rig.receiver.applied) == len(task_ids):
            break
        rig.clock.advance(timedelta(seconds=1))
        await asyncio.sleep(1.05)
        await outbox.drain()
    assert sorted(e["task_id"] for e in rig.receiver.applied.values()) == sorted(task_ids)
    statuses = await pool.fetch("SELECT status, count(*) FROM source_writebacks GROUP BY 1")
    assert {r["status"]: r["count"] for r in statuses} == {"done": len(task_ids)}
    assert outbox.failed == 0

"""The rig for agent states in the phone system: the real app as the root builds it, with the
webhook target pointed at the platform stand-in (``standins/acd_webhook.py``), which checks each
command's signature and reports the agent's new state in the app's generic feed, as a platform
would; the Slack stand-in for what people are told; and a clock the test moves."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from aiohttp.test_utils import TestClient, TestServer

from blending import acd_store
from blending.acd import AcdModes, Mode
from bot import root
from bot.acd import AcdSettings, Watch
from bot.slack.context import SlackConfig
from clock import FixedClock
from queues.catalog import Catalog
from queues.models import AgentIn, TaskIn, TaskTypeIn
from queues.roster import Roster
from queues.tasks import Tasks
from standins.acd_webhook import WebhookPlatform
from standins.slack import StandIn
from telephony_adapters.control_outbox import Targets
from telephony_adapters.webhook_control import WebhookClient
from tests.conftest import AUTH, TOKEN
from tests.support.slack import BEN, BOT_TOKEN, CHANNEL, DANA, SECRET, SUPERVISOR, Harness

WEBHOOK_SECRET = "whsec-0123456789abcdef-blendbot"
CONFIRM_SECONDS = 5.0


@dataclass
class Rig:
    client: TestClient[Any, Any]
    app: root.App
    platform: WebhookPlatform
    clock: FixedClock
    pool: asyncpg.Pool
    slack: Harness
    watch: Watch

    async def send(self) -> None:
        """Run the outbox until it has nothing more to do now."""
        assert self.app.control is not None
        await self.app.control.drain()

    async def later(self, seconds: float) -> None:
        """Move the clock on, and run the outbox."""
        self.clock.advance(timedelta(seconds=seconds))
        await self.send()

    async def tick(self) -> None:
        """The tick's watch, at the clock's time, then the outbox."""
        await self.watch.step(self.clock.now())
        await self.send()

    async def feed(self, external_id: str, state: str, *, ago: float = 0) -> None:
        """The platform reports a state in the generic feed, ``ago`` seconds before now."""
        at = self.clock.now() - timedelta(seconds=ago)
        await self.platform.report(external_id, state, at)

    async def lend(self, agent_id: str, minutes: float = 30, **extra: Any) -> dict[str, Any]:
        body = {"minutes": minutes, "by": "sam", **extra}
        response = await self.client.post(
            f"/api/v1/agents/{agent_id}/lend", json=body, headers=AUTH
        )
        reply: dict[str, Any] = await response.json()
        reply["_status"] = response.status
        return reply

    async def recall(self, agent_id: str, reason: str = "calls are rising") -> dict[str, Any]:
        body = {"by": "sam", "reason": reason}
        response = await self.client.post(
            f"/api/v1/agents/{agent_id}/recall", json=body, headers=AUTH
        )
        assert response.status == 200, await response.text()
        reply: dict[str, Any] = await response.json()
        return reply

    async def timeline(self, agent_id: str) -> dict[str, Any]:
        response = await self.client.get(f"/api/v1/agents/{agent_id}/timeline", headers=AUTH)
        assert response.status == 200, await response.text()
        reply: dict[str, Any] = await response.json()
        return reply

    async def commands(self, agent_id: str) -> list[dict[str, Any]]:
        rows = await self.pool.fetch(
            "SELECT * FROM acd_commands WHERE agent_id = $1 ORDER BY id", agent_id
        )
        return [dict(r) for r in rows]

    async def metric(self, name: str) -> float:
        """The sum of a metric's samples on /metrics."""
        text = await (await self.client.get("/metrics")).text()
        total = 0.0
        for line in text.splitlines():
            if line.startswith(name + "{") or line.startswith(name + " "):
                total += float(line.rsplit(" ", 1)[1])
        return total


async def seed_agents(pool: asyncpg.Pool, *, tasks: int = 1, pausable: bool = True) -> list[int]:
    """A billing task type, Dana (generic id ``ext-dana``) and Ben (no telephony id: the
    webhook names him by his roster id), and a supervisor on the roster; ``tasks`` tasks."""
    await Catalog(pool).put(
        "billing",
        TaskTypeIn(skills=["billing"], sla_minutes=600, handle_minutes=10, pausable=pausable),
    )
    roster = Roster(pool)
    await roster.put(
        "dana",
        AgentIn(
            name="Dana Levi",
            slack_user_id=DANA,
            skills={"billing": 3},
            telephony_ids={"generic": "ext-dana"},
        ),
    )
    await roster.put("ben", AgentIn(name="Ben Ito", slack_user_id=BEN, skills={"billing": 3}))
    await roster.put("sam", AgentIn(name="Sam Cho", slack_user_id=SUPERVISOR, skills={}))
    items = [
        TaskIn(source="crm", external_id=f"B-{n}", type="billing", title=f"Refund check {n}")
        for n in range(tasks)
    ]
    results = await Tasks(pool).create_many(items, "test")
    return [r.task.id for r in results if r.task is not None]


@asynccontextmanager
async def rig(
    pool: asyncpg.Pool,
    mode: Mode = "control",
    *,
    groups: dict[str, Mode] | None = None,
    follow: bool = True,
    running: bool = False,
) -> AsyncIterator[Rig]:
    """The rig; with ``running``, the outbox sends from its own task as in the service (it
    polls every second), else the test runs it (:meth:`Rig.send`)."""
    clock = FixedClock(datetime.now(UTC).replace(microsecond=0))
    modes = AcdModes(mode, groups or {})
    await acd_store.save_modes(pool, modes)
    platform = WebhookPlatform(WEBHOOK_SECRET, follow=follow, now=clock.now)
    platform_server = TestServer(platform.app())
    await platform_server.start_server()
    standin = StandIn(
        token=BOT_TOKEN,
        channels={CHANNEL},
        users={DANA: "Dana Levi", BEN: "Ben Ito", SUPERVISOR: "Sam Cho"},
    )
    slack_server = TestServer(standin.app())
    await slack_server.start_server()
    settings = AcdSettings(modes=modes, confirm_seconds=CONFIRM_SECONDS, recall_hold_seconds=180)
    wired = root.Parts(acd=settings, clock=clock)
    config = SlackConfig(
        bot_token=BOT_TOKEN,
        signing_secret=SECRET,
        api_url=str(slack_server.make_url("/api/")),
        supervisor_channel=CHANNEL,
        supervisors=frozenset({SUPERVISOR}),
        run_outbox=False,
        clock=clock,
    )
    webhook = WebhookClient(str(platform_server.make_url("/commands")), WEBHOOK_SECRET)
    app = root.http_app(
        pool,
        wired,
        tokens=[TOKEN],
        slack=config,
        targets=Targets([webhook]),
        run_control=running,
    )
    assert app.slack is not None
    try:
        async with TestClient(TestServer(app.web)) as client:
            platform.feed_url = str(client.make_url("/feeds/generic/events"))
            platform.feed_token = TOKEN
            harness = Harness(client, standin, app.slack, pool)
            yield Rig(client, app, platform, clock, pool, harness, root.acd_watch(pool, wired, app))
    finally:
        await platform_server.close()
        await slack_server.close()

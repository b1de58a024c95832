"""What every listener is given: the pool, the Web API client, the outbox, the settings."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import asyncpg
from slack_sdk.web.async_client import AsyncWebClient

from blending.policy import BlendPolicy, policy_for
from blending.sites import agent_clock
from bot.slack.auth import Supervisors
from bot.slack.outbox import Outbox
from bot.stores import Stores
from clock import SYSTEM, Clock
from queues.dispatch import DispatchSettings

if TYPE_CHECKING:
    from bot.acd import Steering

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SlackConfig:
    """The Slack settings, as the composition root reads them."""

    bot_token: str
    signing_secret: str
    api_url: str = "https://slack.com/api/"
    app_token: str | None = None
    supervisor_channel: str | None = None
    supervisors: frozenset[str] = frozenset()
    supervisor_group: str | None = None
    policy: DispatchSettings = field(default_factory=DispatchSettings)
    run_outbox: bool = True
    """Send the outbox from a task of the app; tests turn it off and drain by hand."""
    group_sync_seconds: float = 600
    timezone: str = "UTC"
    """The default site's clock: "today" and the times shown to someone who is in no site."""
    blending: BlendPolicy = field(default_factory=lambda: policy_for("forecast_guard"))
    """The blending policy the tick runs (the supervisors' Home shows its lull windows)."""
    target: tuple[float, float] = (0.8, 20.0)
    """The inbound service target: share answered, within seconds."""
    clock: Clock = SYSTEM
    """What time it is (a simulation runs the app on its own clock)."""


@dataclass(frozen=True)
class Context:
    pool: asyncpg.Pool
    """For transactions; everything else goes through ``stores``."""
    stores: Stores
    client: AsyncWebClient
    outbox: Outbox
    supervisors: Supervisors
    config: SlackConfig
    background: set[asyncio.Task[None]] = field(default_factory=set)
    """Work started after an ack (a chart upload), kept until it ends."""
    steering: Steering | None = None
    """Supervisors' lends and recalls (the API's too), when the app has them."""

    def now(self) -> datetime:
        return self.config.clock.now()

    async def zone_of(self, user: str) -> ZoneInfo:
        """The clock a Slack user is shown times and days on: their site's when they are an
        agent in one (a supervisor too), else the default site's."""
        default = ZoneInfo(self.config.timezone)
        person = await self.stores.slack.agent(user)
        return default if person is None else await agent_clock(self.pool, person.agent_id, default)

    def spawn(self, work: Coroutine[object, object, None], name: str) -> None:
        """Run ``work`` after the ack; a failure is logged, never raised into a listener."""

        async def guarded() -> None:
            try:
                await work
            except Exception:
                log.exception("%s failed", name)

        task = asyncio.create_task(guarded(), name=name)
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    async def settle(self) -> None:
        """Wait for the work started after acks (tests, and a clean shutdown)."""
        while self.background:
            await asyncio.gather(*self.background)


def card_ref(task_id: int, user_id: str) -> str:
    """The agent's card of a task: the offer, then the work card, in one message."""
    return f"card:{task_id}:{user_id}"


def escalation_ref(task_id: int) -> str:
    return f"escalation:{task_id}"

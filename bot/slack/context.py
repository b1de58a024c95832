"""What every listener is given: the pool, the Web API client, the outbox, the settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import asyncpg
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.auth import Supervisors
from bot.slack.outbox import Outbox
from queues.dispatch import Policy


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
    policy: Policy = field(default_factory=Policy)
    run_outbox: bool = True
    """Send the outbox from a task of the app; tests turn it off and drain by hand."""
    group_sync_seconds: float = 600


@dataclass(frozen=True)
class Context:
    pool: asyncpg.Pool
    client: AsyncWebClient
    outbox: Outbox
    supervisors: Supervisors
    config: SlackConfig

    @staticmethod
    def now() -> datetime:
        return datetime.now(UTC)


def card_ref(task_id: int, user_id: str) -> str:
    """The agent's card of a task: the offer, then the work card, in one message."""
    return f"card:{task_id}:{user_id}"


def escalation_ref(task_id: int) -> str:
    return f"escalation:{task_id}"

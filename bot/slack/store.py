"""Slack's rows in PostgreSQL: who is who, what is owed to Slack, what was already seen.

The listeners use :class:`SlackStore`; the sender of the outbox uses :class:`OutboxRows`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

from queues.db import Executor, load_queries, transaction
from queues.views import Person, Views

_SQL = load_queries("bot.slack", "store.sql")


@dataclass(frozen=True)
class Chart:
    """A PNG owed to someone's DM with the app, with what Slack shows around it."""

    filename: str
    title: str
    alt_txt: str
    comment: str
    png: bytes

    def body(self) -> dict[str, str]:
        return {
            "filename": self.filename,
            "title": self.title[:250],
            "alt_txt": self.alt_txt[:1000],
            "initial_comment": self.comment[:4000],
        }


class SlackStore:
    """Queries on a pool, or on a connection inside the caller's transaction."""

    def __init__(self, db: Executor) -> None:
        self._db = db

    async def agent(self, slack_user_id: str) -> Person | None:
        return await Views(self._db).person_by_slack_user(slack_user_id)

    async def agents(self, agent_ids: Sequence[str]) -> dict[str, Person]:
        return await Views(self._db).people(agent_ids)

    async def card(self, ref: str, user_id: str, message: dict[str, Any]) -> None:
        """Post a card to the user's DM, or update it in place if it was posted already."""
        await self._db.execute(_SQL["enqueue"], "card", ref, user_id, user_id, message)

    async def channel_card(self, ref: str, channel: str, message: dict[str, Any]) -> None:
        await self._db.execute(_SQL["enqueue"], "card", ref, channel, None, message)

    async def ephemeral(self, channel: str, user_id: str, message: dict[str, Any]) -> None:
        await self._db.execute(_SQL["enqueue"], "ephemeral", None, channel, user_id, message)

    async def home(self, user_id: str, view: dict[str, Any]) -> None:
        await self._db.execute(_SQL["enqueue"], "home", f"home:{user_id}", user_id, user_id, view)

    async def file(self, user_id: str, chart: Chart) -> None:
        """Upload a chart to the user's DM: once, however often the send is retried."""
        await self._db.execute(_SQL["enqueue_file"], user_id, user_id, chart.body(), chart.png)

    async def remember(self, ref: str, channel: str, ts: str) -> None:
        """A card seen in a click: updates go to it even if it was posted by an older build."""
        await self._db.execute(_SQL["remember_message"], ref, channel, ts)

    async def first_sight(self, event_id: str) -> bool:
        return await self._db.fetchval(_SQL["first_sight"], event_id) is not None

    async def audit(self, user_id: str, action: str, allowed: bool, **detail: Any) -> None:
        await self._db.execute(
            _SQL["audit"], user_id, action, allowed, json.loads(json.dumps(detail, default=str))
        )

    async def supervisor_group_member(self, group: str, user_id: str) -> bool:
        """Whether ``user_id`` is in the user group as last synced; never synced: no."""
        row = await self._db.fetchrow(_SQL["group_member"], group, user_id)
        return bool(row is not None and row["known"] and row["member"])

    async def sync_supervisor_group(self, group: str, user_ids: Sequence[str]) -> None:
        """Replace the user group's members, at once."""
        async with transaction(self._db) as conn:
            await conn.execute(_SQL["clear_group"], group)
            await conn.execute(_SQL["add_group_members"], group, list(user_ids))
            await conn.execute(_SQL["group_synced"], group)


class OutboxRows:
    """The sender's side of the outbox: leases, outcomes, the messages and DMs it knows."""

    def __init__(self, db: Executor) -> None:
        self._db = db

    async def lease_due(self, batch: int, lease_seconds: float) -> list[asyncpg.Record]:
        """Lease up to ``batch`` rows due now (see the query for which rows count)."""
        return await self._db.fetch(_SQL["lease_due"], batch, lease_seconds)

    async def mark_sent(self, row_id: int) -> None:
        await self._db.execute(_SQL["mark_sent"], row_id)

    async def retry_later(self, row_id: int, delay: float, error: str) -> None:
        await self._db.execute(_SQL["retry_later"], row_id, delay, error)

    async def mark_failed(self, row_id: int, error: str) -> None:
        await self._db.execute(_SQL["mark_failed"], row_id, error)

    async def lock(self, key: str) -> None:
        """Wait for, then hold, the session lock of a card or file: on a connection only."""
        await self._db.execute(_SQL["lock_card"], key)

    async def unlock(self, key: str) -> None:
        await self._db.execute(_SQL["unlock_card"], key)

    async def message_of(self, ref: str) -> asyncpg.Record | None:
        """Where the card ``ref`` was posted: its channel and ts."""
        return await self._db.fetchrow(_SQL["message_of"], ref)

    async def save_message(self, ref: str, channel: str, ts: str) -> None:
        await self._db.execute(_SQL["save_message"], ref, channel, ts)

    async def dm_channel(self, user_id: str) -> str | None:
        channel = await self._db.fetchval(_SQL["dm_channel"], user_id)
        return str(channel) if channel is not None else None

    async def save_dm_channel(self, user_id: str, channel: str) -> None:
        await self._db.execute(_SQL["save_dm_channel"], user_id, channel)

    async def file_state(self, row_id: int) -> asyncpg.Record | None:
        """A file row's ``sent_at``, ``file_id`` and ``data`` (its bytes)."""
        return await self._db.fetchrow(_SQL["file_state"], row_id)

    async def save_file_id(self, row_id: int, file_id: str | None) -> None:
        """The file Slack holds for this row (uploaded, maybe not yet shared); ``None`` to
        upload afresh."""
        await self._db.execute(_SQL["save_file_id"], row_id, file_id)

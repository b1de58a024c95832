"""Slack's rows in PostgreSQL: who is who, what is owed to Slack, what was already seen."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from queues.db import Executor, load_queries

SQL = load_queries("bot.slack", "store.sql")


@dataclass(frozen=True)
class Person:
    agent_id: str
    name: str
    slack_user_id: str | None

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name.strip() else self.agent_id


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


def _person(row: Any) -> Person:
    return Person(row["agent_id"], row["name"], row["slack_user_id"])


class SlackStore:
    """Queries on a pool, or on a connection inside the caller's transaction."""

    def __init__(self, db: Executor) -> None:
        self._db = db

    async def agent(self, slack_user_id: str) -> Person | None:
        row = await self._db.fetchrow(SQL["agent_by_slack"], slack_user_id)
        return _person(row) if row is not None else None

    async def agents(self, agent_ids: list[str]) -> dict[str, Person]:
        rows = await self._db.fetch(SQL["agents_by_id"], agent_ids)
        return {r["agent_id"]: _person(r) for r in rows}

    async def card(self, ref: str, user_id: str, message: dict[str, Any]) -> None:
        """Post a card to the user's DM, or update it in place if it was posted already."""
        await self._db.execute(SQL["enqueue"], "card", ref, user_id, user_id, message)

    async def channel_card(self, ref: str, channel: str, message: dict[str, Any]) -> None:
        await self._db.execute(SQL["enqueue"], "card", ref, channel, None, message)

    async def ephemeral(self, channel: str, user_id: str, message: dict[str, Any]) -> None:
        await self._db.execute(SQL["enqueue"], "ephemeral", None, channel, user_id, message)

    async def home(self, user_id: str, view: dict[str, Any]) -> None:
        await self._db.execute(SQL["enqueue"], "home", f"home:{user_id}", user_id, user_id, view)

    async def file(self, user_id: str, chart: Chart) -> None:
        """Upload a chart to the user's DM: once, however often the send is retried."""
        await self._db.execute(SQL["enqueue_file"], user_id, user_id, chart.body(), chart.png)

    async def remember(self, ref: str, channel: str, ts: str) -> None:
        """A card seen in a click: updates go to it even if it was posted by an older build."""
        await self._db.execute(SQL["remember_message"], ref, channel, ts)

    async def first_sight(self, event_id: str) -> bool:
        return await self._db.fetchval(SQL["first_sight"], event_id) is not None

    async def audit(self, user_id: str, action: str, allowed: bool, **detail: Any) -> None:
        await self._db.execute(
            SQL["audit"], user_id, action, allowed, json.loads(json.dumps(detail, default=str))
        )

"""Agents: who they are in Slack and on each telephony platform, and what they can do."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg

from queues.db import Executor, load_queries, transaction
from queues.errors import AgentConflict, NotFound
from queues.lifecycle import Lifecycle
from queues.models import AgentIn, AgentOut, TaskOut
from queues.roster_match import SLACK, Identity

_SQL = load_queries("queues", "roster.sql")
_TASKS = load_queries("queues", "tasks.sql")


@dataclass
class Deactivated:
    agent_id: str
    withdrawn: list[TaskOut] = field(default_factory=list)
    """Open offers taken back to the queue."""
    released: list[TaskOut] = field(default_factory=list)
    """Work in progress or paused, back to the queue."""
    already: bool = False
    """The agent was deactivated before: nothing changed."""


def _agent_out(row: Any) -> AgentOut:
    return AgentOut.model_validate(dict(row))


class Roster:
    """Agents with their skills and telephony ids."""

    def __init__(self, db: Executor) -> None:
        self._db = db

    async def put(self, agent_id: str, body: AgentIn, *, by: str = "api") -> bool:
        """Create or replace an agent in one transaction; return whether it is new. A
        deactivated agent is active again (an event by ``by`` says so)."""
        async with transaction(self._db) as conn:
            was = await conn.fetchrow(_SQL["deactivated_of"], agent_id)
            if body.slack_user_id:
                other = await conn.fetchval(
                    _SQL["owner_of_slack_user"], body.slack_user_id, agent_id
                )
                if other:
                    raise AgentConflict("slack_user_id", body.slack_user_id, other)
            sources = list(body.telephony_ids)
            ids = [body.telephony_ids[s] for s in sources]
            clash = await conn.fetchrow(_SQL["owner_of_telephony_id"], sources, ids, agent_id)
            if clash:
                raise AgentConflict(
                    f"{clash['source']} id", clash["external_id"], clash["agent_id"]
                )
            try:
                inserted = await conn.fetchval(
                    _SQL["upsert_agent"],
                    agent_id,
                    body.name,
                    body.slack_user_id,
                    body.team,
                    body.cost_per_hour,
                    body.queue,
                    body.email,
                )
                skills = sorted(body.skills)
                await conn.execute(
                    _SQL["replace_skills"], agent_id, skills, [body.skills[s] for s in skills]
                )
                await conn.execute(_SQL["delete_telephony_ids"], agent_id)
                await conn.execute(_SQL["insert_telephony_ids"], agent_id, sources, ids)
                if was is not None and was["deactivated_at"] is not None:
                    await conn.execute(_SQL["agent_event"], agent_id, "reactivated", by, {})
            except asyncpg.UniqueViolationError as exc:
                # Another request took the same id between our check and our write.
                raise AgentConflict("id", exc.detail or "", "another agent") from exc
        return bool(inserted)

    async def get(self, agent_id: str) -> AgentOut | None:
        rows = await self._db.fetch(_SQL["list_agents"], None, [agent_id], 1)
        return _agent_out(rows[0]) if rows else None

    async def deactivate(self, agent_id: str, by: str, reason: str | None = None) -> Deactivated:
        """Deactivate the agent, keeping their history: their open offers are withdrawn and
        the work they hold goes back to the queue, each with its event by ``by``, in one
        transaction. Deactivating again changes nothing (``already`` is set)."""
        async with transaction(self._db) as conn:
            if not await conn.fetch(_TASKS["lock_agents"], [agent_id]):
                raise NotFound("agent", agent_id)
            if not await conn.fetchval(_SQL["deactivate"], agent_id, by, reason):
                return Deactivated(agent_id, already=True)
            done = Deactivated(agent_id)
            life = Lifecycle(conn)
            why = reason or "the agent was deactivated"
            for row in await conn.fetch(_SQL["open_work_of"], agent_id):
                if row["status"] == "offered":
                    done.withdrawn.append(await life.withdraw(row["id"], agent_id, by, why))
                else:
                    done.released.append(await life.give_back(row["id"], agent_id, by, why))
            return done

    async def set_recognition(self, agent_id: str, on: bool, by: str) -> bool:
        """Turn the agent's recognition (rankings, streaks, badges) on or off, with its event;
        whether it changed (``False`` when it was already so)."""
        if await self.recognition(agent_id) is None:
            raise NotFound("agent", agent_id)
        return await self._db.fetchval(_SQL["set_recognition"], agent_id, on, by) is not None

    async def recognition(self, agent_id: str) -> bool | None:
        """Whether the agent takes part in recognition (``None``: no such agent)."""
        found: bool | None = await self._db.fetchval(_SQL["recognition_of"], agent_id)
        return found

    async def active(self, agent_id: str) -> bool | None:
        """Whether the agent is active (``None``: no such agent)."""
        inactive = await self._db.fetchval(_TASKS["inactive"], agent_id)
        return None if inactive is None else not inactive

    async def identities(self) -> list[Identity]:
        """Every active agent's email and ids by source (Slack's as ``slack``)."""
        rows = await self._db.fetch(_SQL["identities"])
        return [Identity(r["agent_id"], r["email"], dict(r["ids"])) for r in rows]

    async def holders(self, sources: list[str]) -> dict[tuple[str, str], str]:
        """Who holds each id of ``sources``, deactivated agents included."""
        rows = await self._db.fetch(_SQL["held_ids"], sources)
        return {(r["source"], r["external_id"]): r["agent_id"] for r in rows}

    async def fill(self, agent_id: str, source: str, value: str, by: str, email: str) -> bool:
        """Set the agent's empty id for ``source`` (``slack``: their Slack user id), with its
        event; ``False`` when it is no longer empty, another agent holds the id, or the agent
        was deactivated meanwhile."""
        if source == SLACK:
            filled = await self._db.fetchval(_SQL["fill_slack_user"], agent_id, value, by, email)
        else:
            filled = await self._db.fetchval(
                _SQL["fill_telephony_id"], agent_id, source, value, by, email
            )
        return filled is not None

    async def record_sync(
        self,
        at: datetime,
        actor: str,
        counts: tuple[int, int, int, int],
        failed: list[str],
        report: dict[str, Any],
    ) -> int:
        """Record a roster sync: (matched, filled, conflicts, unmatched), the sources not
        read, and the whole report; its id."""
        found: int = await self._db.fetchval(
            _SQL["record_sync"], at, actor, *counts, failed, report
        )
        return found

    async def last_sync(self, actor: str) -> datetime | None:
        last: datetime | None = await self._db.fetchval(_SQL["last_sync"], actor)
        return last

    async def page(self, after: str | None, limit: int) -> list[AgentOut]:
        rows = await self._db.fetch(_SQL["list_agents"], after, None, limit)
        return [_agent_out(r) for r in rows]

"""Agents: who they are in Slack and on each telephony platform, and what they can do."""

from __future__ import annotations

from typing import Any

import asyncpg

from queues.db import Executor, load_queries, transaction
from queues.errors import AgentConflict
from queues.models import AgentIn, AgentOut

_SQL = load_queries("queues", "roster.sql")


def _agent_out(row: Any) -> AgentOut:
    return AgentOut.model_validate(dict(row))


class Roster:
    """Agents with their skills and telephony ids."""

    def __init__(self, db: Executor) -> None:
        self._db = db

    async def put(self, agent_id: str, body: AgentIn) -> bool:
        """Create or replace an agent in one transaction; return whether it is new."""
        async with transaction(self._db) as conn:
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
                )
                skills = sorted(body.skills)
                await conn.execute(
                    _SQL["replace_skills"], agent_id, skills, [body.skills[s] for s in skills]
                )
                await conn.execute(_SQL["delete_telephony_ids"], agent_id)
                await conn.execute(_SQL["insert_telephony_ids"], agent_id, sources, ids)
            except asyncpg.UniqueViolationError as exc:
                # Another request took the same id between our check and our write.
                raise AgentConflict("id", exc.detail or "", "another agent") from exc
        return bool(inserted)

    async def get(self, agent_id: str) -> AgentOut | None:
        rows = await self._db.fetch(_SQL["list_agents"], None, [agent_id], 1)
        return _agent_out(rows[0]) if rows else None

    async def page(self, after: str | None, limit: int) -> list[AgentOut]:
        rows = await self._db.fetch(_SQL["list_agents"], after, None, limit)
        return [_agent_out(r) for r in rows]

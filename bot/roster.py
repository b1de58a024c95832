"""Agents leaving: a deactivation that keeps their history and frees what they held.

One transaction, for the API (``DELETE /api/v1/agents/{id}``): the agent is marked
deactivated (with its event), their open offers are withdrawn and their work in progress or
paused goes back to the queue (each with its task event), and their window or supervisor's
lend ends. In ``control`` mode the database queues the command that puts them back to
available in the platform, at the commit, through the outbox (``migrations/0017_roster.sql``).
Nothing is offered to them afterwards; a ``PUT`` of the agent reactivates them.
"""

from __future__ import annotations

from blending import acd_store
from queues.db import Executor, transaction
from queues.roster import Deactivated, Roster


async def deactivate(
    db: Executor, agent_id: str, by: str, reason: str | None = None
) -> Deactivated:
    """Deactivate the agent (see the module); :class:`~queues.errors.NotFound` if unknown."""
    async with transaction(db) as conn:
        done = await Roster(conn).deactivate(agent_id, by, reason)
        if not done.already:
            await acd_store.end_windows(conn, [agent_id])
    return done

"""The task lifecycle: one code path for every transition, used by the API and by Slack.

Each operation is one conditional ``UPDATE ... RETURNING`` with its event row in the same
statement, so two agents can never hold the same task, and a transition that lost a race is
reported as such (:class:`HeldByOther`) rather than silently applied. The same statement
keeps the time worked: it ends or starts the task's segment of active work
(``task_segments``), so pauses and offers are never counted as work. What gives an agent
work (claim, reassign, the matching round's offers) first locks the agent's row, so that no
agent ever works on more than ``max_tasks_per_agent`` tasks (:class:`AgentBusy`).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from queues.db import Connection, Executor, load_queries, transaction
from queues.errors import (
    AgentBusy,
    AgentInactive,
    HeldByOther,
    InvalidTransition,
    NotFound,
    OfferExpired,
    OfferWithdrawn,
)
from queues.models import OPEN_STATUSES, TaskOut
from queues.tasks import task_out

OffersMade = Callable[[Connection, list[TaskOut]], Awaitable[None]]
"""A caller's record of offers just made, written on their transaction's connection."""

_SQL = load_queries("queues", "tasks.sql")
_OWN = load_queries("queues", "lifecycle.sql")

SKIP_COOLDOWN_SECONDS = 4 * 3600
"""A skipped task is not offered to the same agent again for this long."""


class Lifecycle:
    def __init__(
        self,
        db: Executor,
        *,
        skip_cooldown_seconds: float = SKIP_COOLDOWN_SECONDS,
        max_tasks_per_agent: int = 1,
    ):
        self._db = db
        self._skip_cooldown = skip_cooldown_seconds
        self._limit = max_tasks_per_agent

    def _on(self, db: Executor) -> Lifecycle:
        return Lifecycle(
            db, skip_cooldown_seconds=self._skip_cooldown, max_tasks_per_agent=self._limit
        )

    async def _check_room(
        self, db: Executor, task_id: int, action: str, agent_id: str, *, offered_only: bool
    ) -> None:
        """Refuse when the agent already works on as many other tasks as one agent may.

        The caller holds the agent's row lock. A claim (``offered_only``) counts the work in
        progress or paused and refuses only a task offered to this agent, leaving any other
        state to the transition to explain; a reassignment counts standing offers too.
        """
        rows = await db.fetch(_SQL["working_on"], agent_id, task_id, not offered_only)
        working = [r["id"] for r in rows]
        if len(working) < self._limit:
            return
        if offered_only:
            current = await db.fetchrow(_SQL["holder_state"], task_id)
            if current is None or (current["status"], current["holder"]) != ("offered", agent_id):
                return
        raise AgentBusy(task_id, action, agent_id, self._limit, working)

    @property
    def db(self) -> Executor:
        return self._db

    async def _move(
        self,
        task_id: int,
        action: str,
        *,
        allowed: Sequence[str],
        to: str,
        holder: str | None,
        event: str,
        actor: str,
        must_hold: str | None = None,
        reason: str | None = None,
        data: dict[str, Any] | None = None,
        offer_expires_at: datetime | None = None,
        live_offer: bool = False,
    ) -> TaskOut:
        row = await self._db.fetchrow(
            _SQL["transition"],
            task_id,
            list(allowed),
            to,
            holder,
            event,
            actor,
            reason,
            data or {},
            must_hold,
            offer_expires_at,
            live_offer,
        )
        if row is not None:
            return task_out(row)
        if must_hold is not None:
            await self._refuse_inactive(must_hold, action)
        current = await self._db.fetchrow(_SQL["holder_state"], task_id)
        if current is None:
            raise NotFound("task", task_id)
        status, held_by = current["status"], current["holder"]
        if status in allowed and must_hold is not None and held_by != must_hold:
            raise HeldByOther(task_id, action, held_by, status)
        if status in allowed and live_offer:
            raise OfferExpired(task_id)
        raise InvalidTransition(task_id, action, status)

    async def offer(
        self, task_id: int, agent_id: str, expires_at: datetime, actor: str, why: list[str]
    ) -> TaskOut:
        return await self._move(
            task_id,
            "offer",
            allowed=("queued",),
            to="offered",
            holder=agent_id,
            event="offered",
            actor=actor,
            offer_expires_at=expires_at,
            data={"agent_id": agent_id, "expires_at": expires_at.isoformat(), "why": why},
        )

    async def offer_many(
        self,
        offers: list[tuple[int, str, list[str]]],
        expires_at: datetime,
        actor: str,
        *,
        then: OffersMade | None = None,
    ) -> list[TaskOut]:
        """Offer many (task, agent, why) at once; a task no longer queued, or an agent with an
        open offer or as much work as allowed, is passed over. ``then`` records what the
        offers mean to its caller, in the same transaction."""
        async with transaction(self._db) as conn:
            await conn.fetch(_SQL["lock_agents"], sorted({o[1] for o in offers}))
            rows = await conn.fetch(
                _SQL["offer_many"],
                [o[0] for o in offers],
                [o[1] for o in offers],
                [json.dumps(o[2]) for o in offers],
                expires_at,
                actor,
                self._limit,
            )
            made = [task_out(r) for r in rows]
            if then is not None and made:
                await then(conn, made)
        return made

    async def claim(self, task_id: int, agent_id: str) -> TaskOut:
        """Claim an offer. Claiming a task one already holds in progress is harmless; claiming
        one more than ``max_tasks_per_agent`` is refused (:class:`AgentBusy`).

        A claim that succeeds is one round trip (``claim_offer``, migration 0023); one that
        does not is tried again step by step, to say why."""
        row = await self._db.fetchrow(_OWN["claim_offer"], task_id, agent_id, self._limit)
        if row is not None:
            return task_out(row)
        async with transaction(self._db) as conn:
            locked = await conn.fetch(_SQL["lock_agents"], [agent_id])
            if locked and locked[0]["inactive"]:
                raise AgentInactive(agent_id, "claim a task")
            await self._check_room(conn, task_id, "claim", agent_id, offered_only=True)
            return await self._on(conn)._claim(task_id, agent_id)

    async def _claim(self, task_id: int, agent_id: str) -> TaskOut:
        try:
            return await self._move(
                task_id,
                "claim",
                allowed=("offered",),
                to="in_progress",
                holder=agent_id,
                event="claimed",
                actor=agent_id,
                must_hold=agent_id,
                live_offer=True,
            )
        except InvalidTransition as exc:
            withdrawn = await self._db.fetchval(_OWN["withdrawn_from"], task_id, agent_id)
            if withdrawn is not None:
                raise OfferWithdrawn(task_id, withdrawn) from None
            current = await self._db.fetchrow(_SQL["get_task"], task_id)
            if (
                current is not None
                and exc.status == "in_progress"
                and (current["holder"] == agent_id)
            ):
                return task_out(current)
            if current is not None and current["holder"] not in (None, agent_id):
                raise HeldByOther(task_id, "claim", current["holder"], exc.status) from None
            raise

    async def skip(self, task_id: int, agent_id: str, reason: str) -> TaskOut:
        task = await self._move(
            task_id,
            "skip",
            allowed=("offered",),
            to="queued",
            holder=None,
            event="skipped",
            actor=agent_id,
            must_hold=agent_id,
            reason=reason,
        )
        await self._db.execute(_SQL["remember_skip"], task_id, agent_id, self._skip_cooldown)
        return task

    async def complete(
        self, task_id: int, agent_id: str, outcome: str, note: str | None
    ) -> TaskOut:
        row = await self._db.fetchrow(_SQL["complete"], task_id, agent_id, outcome, note)
        if row is not None:
            return task_out(row)
        await self._raise_for(task_id, "complete", ("in_progress",), agent_id)
        raise AssertionError("unreachable")

    async def pause(
        self,
        task_id: int,
        agent_id: str,
        reason: str | None = None,
        note: str | None = None,
        *,
        actor: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> TaskOut:
        """Stop the clock of the holder's work; ``note`` (how far they got) goes on the event
        and, should the task go back to the queue unresumed, to the next holder. ``actor`` and
        ``data`` name another who paused it for them, and why (the interruptible mode pauses
        it when a call comes in)."""
        return await self._move(
            task_id,
            "pause",
            allowed=("in_progress",),
            to="paused",
            holder=agent_id,
            event="paused",
            actor=actor or agent_id,
            must_hold=agent_id,
            reason=reason,
            data={**(data or {}), **({"note": note} if note else {})} or None,
        )

    async def resume(
        self,
        task_id: int,
        agent_id: str,
        reason: str | None = None,
        *,
        actor: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> TaskOut:
        return await self._move(
            task_id,
            "resume",
            allowed=("paused",),
            to="in_progress",
            holder=agent_id,
            event="resumed",
            actor=actor or agent_id,
            must_hold=agent_id,
            reason=reason,
            data=data,
        )

    async def release(self, task_id: int, agent_id: str, reason: str | None = None) -> TaskOut:
        return await self._move(
            task_id,
            "release",
            allowed=("in_progress", "paused"),
            to="queued",
            holder=None,
            event="released",
            actor=agent_id,
            must_hold=agent_id,
            reason=reason,
        )

    async def escalate(self, task_id: int, agent_id: str, reason: str) -> TaskOut:
        return await self._move(
            task_id,
            "escalate",
            allowed=("offered", "in_progress", "paused"),
            to="escalated",
            holder=agent_id,
            event="escalated",
            actor=agent_id,
            must_hold=agent_id,
            reason=reason,
        )

    async def reassign(
        self,
        task_id: int,
        to_agent_id: str,
        by: str,
        reason: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> TaskOut:
        """A supervisor gives the task to an agent, who then holds it in progress; refused
        (:class:`AgentBusy`) when the agent already works on as much as one agent may.
        ``reason`` and ``data`` go on the event (an override, and what it overrode)."""
        async with transaction(self._db) as conn:
            locked = await conn.fetch(_SQL["lock_agents"], [to_agent_id])
            if not locked:
                raise NotFound("agent", to_agent_id)
            if locked[0]["inactive"]:
                raise AgentInactive(to_agent_id, "be given a task")
            await self._check_room(conn, task_id, "reassign", to_agent_id, offered_only=False)
            return await self._on(conn)._move(
                task_id,
                "reassign",
                allowed=OPEN_STATUSES,
                to="in_progress",
                holder=to_agent_id,
                event="reassigned",
                actor=by,
                reason=reason,
                data={"to_agent_id": to_agent_id, **(data or {})},
            )

    async def requeue(self, task_id: int, by: str, reason: str | None = None) -> TaskOut:
        """A supervisor returns an escalated task to the queue."""
        return await self._move(
            task_id,
            "return to queue",
            allowed=("escalated",),
            to="queued",
            holder=None,
            event="requeued",
            actor=by,
            reason=reason,
        )

    async def cancel(
        self,
        task_id: int,
        by: str,
        reason: str | None = None,
        *,
        only: Sequence[str] = OPEN_STATUSES,
    ) -> TaskOut:
        """Cancel an open task; ``only`` narrows the states it may be cancelled from (a source
        closing its record cancels only work nobody holds)."""
        return await self._move(
            task_id,
            "cancel",
            allowed=only,
            to="cancelled",
            holder=None,
            event="cancelled",
            actor=by,
            reason=reason,
        )

    async def _refuse_inactive(self, agent_id: str, action: str) -> None:
        """A deactivated agent's own action is refused as such (they hold nothing by then, so
        this is asked only once the transition failed)."""
        if await self._db.fetchval(_SQL["inactive"], agent_id):
            raise AgentInactive(agent_id, f"{action} a task")

    async def withdraw(self, task_id: int, agent_id: str, by: str, reason: str) -> TaskOut:
        """Take back an open offer made to the agent (they were deactivated)."""
        return await self._move(
            task_id,
            "withdraw",
            allowed=("offered",),
            to="queued",
            holder=None,
            event="withdrawn",
            actor=by,
            reason=f"withdrawn: {reason}",
            data={"agent_id": agent_id},
        )

    async def give_back(self, task_id: int, agent_id: str, by: str, reason: str) -> TaskOut:
        """Put the agent's work in progress or paused back in the queue for them (they were
        deactivated); the event is a release by ``by``."""
        return await self._move(
            task_id,
            "release",
            allowed=("in_progress", "paused"),
            to="queued",
            holder=None,
            event="released",
            actor=by,
            reason=reason,
            data={"agent_id": agent_id},
        )

    async def _raise_for(
        self, task_id: int, action: str, allowed: Sequence[str], agent_id: str
    ) -> None:
        await self._refuse_inactive(agent_id, action)
        current = await self._db.fetchrow(_SQL["holder_state"], task_id)
        if current is None:
            raise NotFound("task", task_id)
        if current["status"] in allowed and current["holder"] != agent_id:
            raise HeldByOther(task_id, action, current["holder"], current["status"])
        raise InvalidTransition(task_id, action, current["status"])

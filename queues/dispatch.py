"""An agent asks for work: offer the best fitting task now (``POST /agents/{id}/next``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from queues.db import Executor, load_queries
from queues.errors import InvalidTransition, NotFound
from queues.estimates import load_estimates
from queues.lifecycle import Lifecycle
from queues.models import TaskOut
from queues.priority import explain
from queues.tasks import task_out

_SQL = load_queries("queues", "tasks.sql")


@dataclass(frozen=True)
class DispatchSettings:
    offer_seconds: float = 90
    """How long an offer stands before the task returns to the queue."""
    fit_margin: float = 1.2
    """Expected handle time times this must fit in the minutes the agent has."""
    sla_top_share: float = 0.8
    """Past this share of its SLA a task goes to the top of the queue."""
    skip_cooldown_seconds: float = 4 * 3600
    """A skipped task is not offered to the same agent again for this long."""


@dataclass(frozen=True)
class Offer:
    task: TaskOut
    expires_at: datetime
    why: list[str]


@dataclass(frozen=True)
class NoOffer:
    reason: str


class Dispatcher:
    def __init__(self, db: Executor, policy: DispatchSettings | None = None) -> None:
        self._db = db
        self._policy = policy or DispatchSettings()

    async def next_for(
        self, agent_id: str, minutes: float | None, now: datetime
    ) -> Offer | NoOffer:
        """The agent's open offer if any, else a new offer of the best fitting task, at ``now``."""
        if not await self._db.fetchval(_SQL["agent_exists"], agent_id):
            raise NotFound("agent", agent_id)
        held = await self._db.fetchrow(_SQL["open_offer_of"], agent_id)
        if held is not None:
            task = task_out(held)
            assert task.offer_expires_at is not None
            return Offer(task, task.offer_expires_at, ["your open offer"])
        p = self._policy
        estimates = await load_estimates(self._db, [agent_id])
        for _ in range(3):
            rows = await self._db.fetch(_SQL["best_for_agent"], agent_id, p.sla_top_share, 5)
            if not rows:
                return NoOffer(self._nothing(None))
            fitting = []
            for row in rows:
                mine = estimates.minutes(agent_id, row["type"], row["step"], row["handle_minutes"])
                if minutes is None or mine * p.fit_margin <= minutes:
                    fitting.append((row, mine))
            if not fitting:
                return NoOffer(self._nothing(minutes))
            expires = now + timedelta(seconds=p.offer_seconds)
            for row, mine in fitting:
                ranked = explain(
                    row["base_priority"],
                    row["rule_boost"],
                    list(row["rule_reasons"]),
                    row["created_at"],
                    row["due_at"],
                    now,
                    p.sla_top_share,
                )
                why = [*ranked.reasons, f"about {mine:.0f} min for you"]
                try:
                    task = await Lifecycle(self._db).offer(
                        row["id"], agent_id, expires, "dispatcher", why
                    )
                except InvalidTransition:
                    continue  # offered to someone else since we looked
                return Offer(task, expires, why)
        return NoOffer("every fitting task was just taken by others: ask again")

    @staticmethod
    def _nothing(minutes: float | None) -> str:
        if minutes is None:
            return "no queued task matches your skills"
        return f"no queued task for your skills fits in {minutes:g} minutes"

"""An agent asks for work: offer the best fitting task now (``POST /agents/{id}/next``).

Every offer fits the agent's time: the caller says how long the agent has (a
:class:`~queues.matching.Budget`: the minutes and where they come from), and a task is offered
only when its expected handle time for this agent, times the fit margin, is within them. A
budget without minutes offers nothing new, with its reason.

An agent holds at most ``max_tasks_per_agent`` pieces of work (offers still standing, tasks in
progress or paused) and at most one open offer. Asking again, however often and however many
times at once, gives back what the agent holds: the agent's row is locked for the transaction
that counts the agent's work and makes the offer, so two requests of one agent never both
offer. Requests of different agents do not wait for each other: the task is picked with
``FOR UPDATE SKIP LOCKED``, so each gets a distinct task while fitting tasks remain.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from queues.db import Executor, load_queries, transaction
from queues.errors import AgentInactive, NotFound
from queues.estimates import Estimates, Sample
from queues.lifecycle import Lifecycle
from queues.matching import Budget
from queues.models import TaskOut
from queues.priority import explain
from queues.tasks import task_out

_SQL = load_queries("queues", "tasks.sql")

HELD_WHY = {
    "offered": "your open offer",
    "in_progress": "your task in progress",
    "paused": "your paused task",
}
"""What an agent is told when asking again gives back work the agent already holds."""

NO_MATCH = "no queued task matches your skills"

CANDIDATES = 16
"""How many of each group's best tasks are tried before the whole queue is."""


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
    max_tasks_per_agent: int = 1
    """How much work (open offer, in progress, paused) one agent may hold at once."""


@dataclass(frozen=True)
class Offer:
    task: TaskOut
    expires_at: datetime | None
    """When the offer lapses; none when the task is already the agent's, claimed."""
    why: list[str]


@dataclass(frozen=True)
class NoOffer:
    reason: str


class Dispatcher:
    def __init__(self, db: Executor, policy: DispatchSettings | None = None) -> None:
        self._db = db
        self._policy = policy or DispatchSettings()

    async def next_for(
        self,
        agent_id: str,
        time: Budget | float,
        now: datetime,
        *,
        pausable_only: bool = False,
    ) -> Offer | NoOffer:
        """What the agent holds when at the limit (or their open offer, or their paused work
        when none is in progress), else an offer of the best task that fits in ``time`` (a
        bare number: minutes the agent named); with ``pausable_only``, of a pausable type (a
        call may interrupt the agent)."""
        p = self._policy
        budget = time if isinstance(time, Budget) else Budget(float(time))
        async with transaction(self._db) as conn:
            locked = await conn.fetch(_SQL["lock_agents"], [agent_id])
            if not locked:
                raise NotFound("agent", agent_id)
            if locked[0]["inactive"]:
                raise AgentInactive(agent_id, "ask for work")
            ctx = await conn.fetchrow(_SQL["work_context"], agent_id, pausable_only)
            assert ctx is not None  # one row, always
            held = []
            if ctx["holds"]:
                held = [task_out(r) for r in await conn.fetch(_SQL["held_by"], agent_id)]
            # An open offer, or paused work with nothing in progress (the agent is free
            # again after a recall: their paused task comes back before any new work), or as
            # much work as one agent may hold.
            if held and (held[0].status != "in_progress" or len(held) >= p.max_tasks_per_agent):
                task = held[0]
                return Offer(task, task.offer_expires_at, [HELD_WHY[task.status]])
            if not ctx["types"]:
                return NoOffer(NO_MATCH)
            minutes = budget.minutes
            if minutes is None:
                return NoOffer(budget.basis)
            estimates = Estimates(
                Sample(*sample)
                for sample in zip(
                    ctx["sample_agents"],
                    ctx["sample_types"],
                    ctx["sample_steps"],
                    ctx["sample_completed"],
                    ctx["sample_seconds"],
                    strict=True,
                )
            )
            fitting: dict[tuple[str, int], float] = {}
            for type_, step, configured in zip(
                ctx["types"], ctx["steps"], ctx["minutes"], strict=True
            ):
                mine = estimates.minutes(agent_id, type_, step, configured)
                if mine * p.fit_margin <= minutes:
                    fitting[(type_, step)] = mine
            if not fitting:
                return NoOffer(_nothing(minutes, budget.basis))
            # The best few of each group first; when others took or are taking all of them,
            # the whole queue of those groups.
            for few in (CANDIDATES, None):
                row = await conn.fetchrow(
                    _SQL["pick_for_agent"],
                    agent_id,
                    [k[0] for k in fitting],
                    [k[1] for k in fitting],
                    p.sla_top_share,
                    few,
                )
                if row is not None:
                    break
            if row is None:  # the last fitting tasks went to others since we looked
                return NoOffer(NO_MATCH)
            ranked = explain(
                row["base_priority"],
                row["rule_boost"],
                list(row["rule_reasons"]),
                row["created_at"],
                row["due_at"],
                now,
                p.sla_top_share,
            )
            why = [
                *ranked.reasons,
                f"about {fitting[(row['type'], row['step'])]:.0f} min for you",
                f"fits your {_shown(minutes)} min {budget.basis}".rstrip(),
            ]
            expires = now + timedelta(seconds=p.offer_seconds)
            task = await Lifecycle(conn).offer(row["id"], agent_id, expires, "dispatcher", why)
            return Offer(task, expires, why)


def _nothing(minutes: float, basis: str) -> str:
    if not basis:
        return f"no queued task for your skills fits in {minutes:g} minutes"
    return f"no queued task for your skills fits in your {_shown(minutes)} min {basis}"


def _shown(minutes: float) -> str:
    """Minutes as an agent is told them: whole ones rounded down (the fit uses the exact
    time), so that a task said to fit does."""
    return f"{int(minutes)}" if minutes >= 1 else f"{minutes:.1f}"

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

All of it is one round trip, the database function ``dispatch_next()`` (migrations 0030 and
0041): the agent's lock, their held work, the estimates of their fitting groups, the pick, the
offer and its event row; it says which refusal applies and this module words it.

A pull client that starts every task it is given (an agent's desktop, a center that accepts
work automatically) *takes* instead (``take=True``): the same pick, claimed for the agent at
once in the same transaction, with one ``claimed`` event, instead of an offer and a claim in
two. Held work is not given back then: the agent is refused (:class:`HoldsWork`) until they
deal with it, since a take is an order to start new work.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from queues.db import Executor, load_queries
from queues.errors import AgentInactive, HoldsWork, NotFound
from queues.estimates import PRIOR_WEIGHT
from queues.matching import Budget
from queues.models import TaskOut
from queues.tasks import task_out

_OWN = load_queries("queues", "dispatch.sql")

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
        take: bool = False,
    ) -> Offer | NoOffer:
        """What the agent holds when at the limit (or their open offer, or their paused work
        when none is in progress), else an offer of the best task that fits in ``time`` (a
        bare number: minutes the agent named); with ``pausable_only``, of a pausable type (a
        call may interrupt the agent). With ``take`` the task is claimed for the agent at once
        (the offer's ``expires_at`` is None), and held work refuses it (:class:`HoldsWork`)."""
        p = self._policy
        budget = time if isinstance(time, Budget) else Budget(float(time))
        minutes = budget.minutes
        expires = now + timedelta(seconds=p.offer_seconds)
        fits = "" if minutes is None else f"fits your {_shown(minutes)} min {budget.basis}"
        row = await self._db.fetchrow(
            _OWN["dispatch_next"],
            take,
            agent_id,
            minutes,
            pausable_only,
            p.max_tasks_per_agent,
            p.fit_margin,
            p.sla_top_share,
            CANDIDATES,
            PRIOR_WEIGHT,
            now,
            expires,
            expires.isoformat(),
            fits.rstrip(),
            "dispatcher",
        )
        assert row is not None  # one row, always
        outcome = row["outcome"]
        if outcome == "missing":
            raise NotFound("agent", agent_id)
        if outcome == "inactive":
            raise AgentInactive(agent_id, "ask for work")
        if outcome == "held":
            task = task_out(row)
            if take:
                raise HoldsWork(agent_id, task.id, task.status, p.max_tasks_per_agent)
            return Offer(task, task.offer_expires_at, [HELD_WHY[task.status]])
        if outcome == "offered":
            return Offer(task_out(row), expires, list(row["why"]))
        if outcome == "claimed":
            return Offer(task_out(row), None, list(row["why"]))
        if outcome == "no_time":
            return NoOffer(budget.basis)
        if outcome == "no_fit":
            assert minutes is not None
            return NoOffer(_nothing(minutes, budget.basis))
        # "no_match", or "taken": the last fitting tasks went to others since we looked.
        return NoOffer(NO_MATCH)


def _nothing(minutes: float, basis: str) -> str:
    if not basis:
        return f"no queued task for your skills fits in {minutes:g} minutes"
    return f"no queued task for your skills fits in your {_shown(minutes)} min {basis}"


def _shown(minutes: float) -> str:
    """Minutes as an agent is told them: whole ones rounded down (the fit uses the exact
    time), so that a task said to fit does."""
    return f"{int(minutes)}" if minutes >= 1 else f"{minutes:.1f}"

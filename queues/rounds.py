"""One matching round: free windows in, offers out (the tick runs it when blending is on)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from queues.db import Executor, load_queries
from queues.dispatch import DispatchSettings
from queues.estimates import load_estimates
from queues.lifecycle import Lifecycle, OffersMade
from queues.matching import AgentProfile, Candidate, Weights, Window, match
from queues.models import TaskOut
from queues.priority import explain

_SQL = load_queries("queues", "tasks.sql")


@dataclass
class RoundReport:
    offers: list[TaskOut] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    busy: list[str] = field(default_factory=list)
    """Agents skipped: they hold an open offer, or as much work as one agent may."""
    lost: int = 0
    """Assignments whose task someone else took meanwhile."""


async def candidates(db: Executor, windows: int, top_share: float) -> list[Any]:
    """The candidate rows of a round: each group's best tasks, with what explains them.

    From a pool, two halves of the task types are read at once, on two connections.
    """
    query = _SQL["match_candidates"]
    if not isinstance(db, asyncpg.Pool):
        return list(await db.fetch(query, top_share, windows, 0, 1))
    halves = await asyncio.gather(
        *(db.fetch(query, top_share, windows, part, 2) for part in range(2))
    )
    return [row for half in halves for row in half]


def _candidate(r: Any) -> Candidate:
    return Candidate(
        r["id"], r["type"], r["step"], frozenset(r["skills"]), r["handle_minutes"], r["priority"]
    )


def _reasons(r: Any, now: datetime, top_share: float) -> list[str]:
    return explain(
        r["base_priority"],
        r["rule_boost"],
        list(r["rule_reasons"]),
        r["created_at"],
        r["due_at"],
        now,
        top_share,
    ).reasons


async def _together(db: Executor, *reads: Callable[[], Awaitable[Any]]) -> list[Any]:
    """Run the reads side by side from a pool; one after another on a single connection."""
    if isinstance(db, asyncpg.Pool):
        return list(await asyncio.gather(*(read() for read in reads)))
    return [await read() for read in reads]


async def matching_round(
    db: Executor,
    windows: Sequence[Window],
    *,
    policy: DispatchSettings | None = None,
    weights: Weights | None = None,
    now: datetime,
    pausable_only: Collection[str] = (),
    then: OffersMade | None = None,
) -> RoundReport:
    """Offer each free window, at ``now``, the task the whole-round assignment gives it; the
    agents in ``pausable_only`` (a call may interrupt their work) only tasks of pausable
    types. ``then`` records the offers made, in their transaction."""
    p = policy or DispatchSettings()
    report = RoundReport()
    agent_ids = [w.agent_id for w in windows]
    # What the round needs is read at once (on several connections, from a pool): who is
    # busy, the agents' profiles, skips and estimates, and the candidate tasks.
    busy_rows, profile_rows, skip_rows, estimates, found = await _together(
        db,
        lambda: db.fetch(_SQL["agents_with_open_work"], agent_ids, p.max_tasks_per_agent),
        lambda: db.fetch(_SQL["agent_profiles"], agent_ids),
        lambda: db.fetch(_SQL["skips_of"], agent_ids),
        lambda: load_estimates(db, agent_ids),
        lambda: candidates(db, len(windows), p.sla_top_share),
    )
    busy = {r["holder"] for r in busy_rows}
    report.busy = sorted(busy)
    free = [w for w in windows if w.agent_id not in busy]
    if not free:
        return report
    profiles = {
        r["agent_id"]: AgentProfile(r["skills"], tuple(r["recent_types"]), r["minutes_today"])
        for r in profile_rows
    }
    excluded: dict[str, set[int]] = {}
    for r in skip_rows:
        excluded.setdefault(r["agent_id"], set()).add(r["task_id"])
    rows = {r["id"]: r for r in found}
    unpausable = {r["id"] for r in found if not r["pausable"]}
    for agent_id in pausable_only:
        if unpausable:
            excluded.setdefault(agent_id, set()).update(unpausable)
    # The assignment is computation alone (seconds for thousands of windows): off the loop.
    result = await asyncio.to_thread(
        match,
        free,
        [_candidate(r) for r in rows.values()],
        profiles,
        weights=weights or Weights(fit_margin=p.fit_margin),
        estimate=estimates.minutes,
        excluded=excluded,
    )
    report.unmatched = result.unmatched
    expires = now + timedelta(seconds=p.offer_seconds)
    offers = []
    minutes_of = {w.agent_id: w.minutes for w in free}
    for a in result.assignments:
        why = [
            *_reasons(rows[a.task_id], now, p.sla_top_share),
            f"about {a.expected_minutes:.0f} of your {minutes_of[a.agent_id]:g} minutes",
        ]
        offers.append((a.task_id, a.agent_id, why))
    life = Lifecycle(db, max_tasks_per_agent=p.max_tasks_per_agent)
    report.offers = await life.offer_many(offers, expires, "matcher", then=then)
    report.lost = len(offers) - len(report.offers)
    return report

"""One matching round: free windows in, offers out (the tick runs it when blending is on)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from queues.db import Executor, load_queries
from queues.dispatch import Policy
from queues.errors import InvalidTransition
from queues.estimates import load_estimates
from queues.lifecycle import Lifecycle
from queues.matching import AgentProfile, Candidate, Weights, Window, match
from queues.models import TaskOut
from queues.priority import explain

_SQL = load_queries("queues", "tasks.sql")


@dataclass
class RoundReport:
    offers: list[TaskOut] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    busy: list[str] = field(default_factory=list)
    """Agents skipped because they already hold an offer or work in progress."""
    lost: int = 0
    """Assignments whose task someone else took meanwhile."""


async def candidates(
    db: Executor, windows: int, top_share: float
) -> tuple[list[Candidate], dict[int, list[str]]]:
    """The candidate tasks of a round, and the priority reasons of each."""
    rows = await db.fetch(_SQL["match_candidates"], top_share, windows)
    now = datetime.now(UTC)
    found = [
        Candidate(
            r["id"],
            r["type"],
            r["step"],
            frozenset(r["skills"]),
            r["handle_minutes"],
            r["priority"],
        )
        for r in rows
    ]
    reasons = {
        r["id"]: explain(
            r["base_priority"],
            r["rule_boost"],
            list(r["rule_reasons"]),
            r["created_at"],
            r["due_at"],
            now,
            top_share,
        ).reasons
        for r in rows
    }
    return found, reasons


async def matching_round(
    db: Executor,
    windows: Sequence[Window],
    *,
    policy: Policy | None = None,
    weights: Weights | None = None,
) -> RoundReport:
    """Offer each free window the task the whole-round assignment gives it."""
    p = policy or Policy()
    report = RoundReport()
    agent_ids = [w.agent_id for w in windows]
    busy = {r["holder"] for r in await db.fetch(_SQL["agents_with_open_work"], agent_ids)}
    report.busy = sorted(busy)
    free = [w for w in windows if w.agent_id not in busy]
    if not free:
        return report
    ids = [w.agent_id for w in free]
    profiles = {
        r["agent_id"]: AgentProfile(r["skills"], tuple(r["recent_types"]), r["minutes_today"])
        for r in await db.fetch(_SQL["agent_profiles"], ids)
    }
    excluded: dict[str, set[int]] = {}
    for r in await db.fetch(_SQL["skips_of"], ids):
        excluded.setdefault(r["agent_id"], set()).add(r["task_id"])
    estimates = await load_estimates(db, ids)
    tasks, reasons = await candidates(db, len(free), p.sla_top_share)
    result = match(
        free,
        tasks,
        profiles,
        weights=weights or Weights(fit_margin=p.fit_margin),
        estimate=estimates.minutes,
        excluded=excluded,
    )
    report.unmatched = result.unmatched
    expires = datetime.now(UTC) + timedelta(seconds=p.offer_seconds)
    life = Lifecycle(db)
    for a in result.assignments:
        minutes = next(w.minutes for w in free if w.agent_id == a.agent_id)
        why = [*reasons[a.task_id], f"about {a.expected_minutes:.0f} of your {minutes:g} minutes"]
        try:
            report.offers.append(await life.offer(a.task_id, a.agent_id, expires, "matcher", why))
        except InvalidTransition:
            report.lost += 1
    return report

"""Timers the tick runs: lapsed offers, nudges and automatic escalation of neglected work."""

from __future__ import annotations

from dataclasses import dataclass, field

from queues.db import Executor, load_queries

_SQL = load_queries("queues", "tasks.sql")


@dataclass(frozen=True)
class TimerSettings:
    nudge_factor: float = 1.5
    """Work in progress past its expected handle time times this gets a nudge."""
    escalate_factor: float = 3.0
    """... and past this, it is escalated to the supervisors."""
    batch: int = 1000


@dataclass
class TimerReport:
    expired: list[tuple[int, str]] = field(default_factory=list)
    nudged: list[tuple[int, str]] = field(default_factory=list)
    escalated: list[tuple[int, str]] = field(default_factory=list)


async def run_timers(db: Executor, policy: TimerSettings | None = None) -> TimerReport:
    """One pass of every timer; each is one statement, safe beside other instances."""
    p = policy or TimerSettings()
    report = TimerReport()
    rows = await db.fetch(_SQL["expire_offers"], p.batch)
    report.expired = [(r["id"], r["holder"]) for r in rows]
    rows = await db.fetch(_SQL["escalate_overdue"], p.escalate_factor, p.batch)
    report.escalated = [(r["id"], r["holder"]) for r in rows]
    rows = await db.fetch(_SQL["nudge_overdue"], p.nudge_factor, p.batch)
    report.nudged = [(r["id"], r["holder"]) for r in rows]
    return report

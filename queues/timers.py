"""Timers the tick runs: lapsed offers, nudges and automatic escalation of neglected work, and
paused work that was not resumed in time.

Work is timed by its holder's active time (``tasks.active_seconds`` and ``active_since``):
a pause stops the clock of the nudge and of the escalation, and its own clock starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from queues.db import Executor, load_queries

_SQL = load_queries("queues", "tasks.sql")


@dataclass(frozen=True)
class TimerSettings:
    nudge_factor: float = 1.5
    """Work whose active time passes its expected handle time times this gets a nudge."""
    escalate_factor: float = 3.0
    """... and past this, it is escalated to the supervisors."""
    paused_return_minutes: float = 60.0
    """Paused work not resumed for this long goes back to the queue, with a handover."""
    fit_margin: float = 1.2
    """Paused work due sooner than its step's expected minutes times this is escalated
    instead of queued: whoever takes it from the queue could not be expected to finish it."""
    batch: int = 1000


@dataclass
class TimerReport:
    """(task id, agent) pairs: the agent held the task, or was offered it."""

    expired: list[tuple[int, str]] = field(default_factory=list)
    nudged: list[tuple[int, str]] = field(default_factory=list)
    escalated: list[tuple[int, str]] = field(default_factory=list)
    returned: list[tuple[int, str]] = field(default_factory=list)
    """Paused too long: back in the queue."""
    paused_escalated: list[tuple[int, str]] = field(default_factory=list)
    """Paused too long with its due time near: escalated to the supervisors."""


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
    rows = await db.fetch(_SQL["return_paused"], p.paused_return_minutes, p.fit_margin, p.batch)
    report.returned = [(r["id"], r["holder"]) for r in rows if r["status"] == "queued"]
    report.paused_escalated = [(r["id"], r["holder"]) for r in rows if r["status"] != "queued"]
    return report

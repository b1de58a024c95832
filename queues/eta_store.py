"""The ETA's inputs read from the task list, and the SLA watch: tasks whose ETA passes their
due time, found in bounded batches and remembered once warned of.

The estimate itself is pure (:mod:`queues.eta`); the lending outlook comes from the caller.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from queues.db import Executor, load_queries
from queues.estimates import Estimates, load_estimates
from queues.eta import (
    THROUGHPUT_HOURS,
    Eta,
    EtaFacts,
    EtaSettings,
    EventFact,
    Lending,
    Step,
    estimate,
)

_SQL = load_queries("queues", "eta.sql")


@dataclass(frozen=True)
class WatchSettings:
    every_ticks: int = 12
    """The watch runs every this many ticks."""
    hours: float = 24.0
    """Only tasks due within this many hours are examined."""
    batch: int = 200
    """At most this many queued tasks of each type and step, and this many held tasks, are
    examined a run: the least slack first."""
    max_warnings: int = 60
    """At most this many tasks are warned of a run; the rest at the next."""


@dataclass(frozen=True)
class AtRisk:
    """A task whose ETA passes its due time, before that time."""

    task_id: int
    type: str
    title: str
    customer_ref: str | None
    status: str
    holder: str | None
    due_at: datetime
    eta: datetime
    basis: str


@dataclass(frozen=True)
class WatchReport:
    examined: int
    at_risk: list[AtRisk]


def steps_of(row: Any, estimates: Estimates) -> list[Step]:
    """The steps of a task type (``type_steps``, ``type_skills``, ``type_handle_minutes`` and
    ``type`` of a row), each with the team's expected minutes."""
    steps = row["type_steps"] or []
    type_ = row["type"]
    if not steps:
        minutes = estimates.team_minutes(type_, 1, float(row["type_handle_minutes"]))
        return [Step(1, None, frozenset(row["type_skills"] or ()), minutes)]
    return [
        Step(
            n + 1,
            s.get("name"),
            frozenset(s.get("skills") or ()),
            estimates.team_minutes(type_, n + 1, float(s["handle_minutes"])),
        )
        for n, s in enumerate(steps)
    ]


def _configured(row: Any, step: int) -> float:
    steps = row["type_steps"] or []
    if step <= len(steps):
        return float(steps[step - 1]["handle_minutes"])
    return float(row["type_handle_minutes"])


def _events(rows: Sequence[Any]) -> list[EventFact]:
    return [EventFact(r["at"], r["event"], r["from_status"], r["to_status"]) for r in rows]


class EtaStore:
    def __init__(self, db: Executor, settings: EtaSettings | None = None) -> None:
        self._db = db
        self._settings = settings or EtaSettings()

    async def facts(
        self,
        row: Any,
        events: Sequence[EventFact],
        top_share: float,
        estimates: Estimates | None = None,
    ) -> EtaFacts:
        """The facts of the task in ``row`` (a task row joined with its type's steps)."""
        estimates = estimates or await load_estimates(self._db)
        status, type_, step = row["status"], row["type"], row["step"]
        holder_minutes = None
        if row["holder"]:
            holder_minutes = estimates.minutes(row["holder"], type_, step, _configured(row, step))
        ahead = completions = 0
        if status == "queued":
            ahead = await self._db.fetchval(_SQL["queue_position"], row["id"], top_share)
            completions = await self._db.fetchval(
                _SQL["completions"], type_, step, THROUGHPUT_HOURS
            )
        return EtaFacts(
            status=status,
            holder=row["holder"],
            step=step,
            steps=steps_of(row, estimates),
            holder_minutes=holder_minutes,
            events=events,
            ahead=ahead,
            completions=completions,
            settings=self._settings,
        )

    async def at_risk(
        self, now: datetime, lending: Lending, watch: WatchSettings, *, top_share: float = 0.8
    ) -> WatchReport:
        """Open tasks due within ``watch.hours``, not warned of yet, whose ETA passes their due
        time, the soonest due first; at most ``watch.max_warnings``."""
        until = now + timedelta(hours=watch.hours)
        estimates = await load_estimates(self._db)
        found: list[tuple[int, datetime, Eta]] = []
        examined = 0
        for group in await self._db.fetch(_SQL["queued_groups"], now, until):
            steps = steps_of(group, estimates)
            step = steps[min(group["step"], len(steps)) - 1]
            completions = await self._db.fetchval(
                _SQL["completions"], group["type"], group["step"], THROUGHPUT_HOURS
            )
            seconds = _seconds_a_task(step, lending, completions)
            rows = await self._db.fetch(
                _SQL["queued_at_risk"],
                group["type"],
                group["step"],
                float(group["base_priority"]),
                top_share,
                now,
                until,
                seconds,
                watch.batch,
            )
            examined += len(rows)
            for r in rows:
                facts = EtaFacts(
                    "queued",
                    None,
                    group["step"],
                    steps,
                    ahead=r["ahead"],
                    completions=completions,
                    settings=self._settings,
                )
                eta = estimate(facts, now, lending)
                if eta.at is not None and eta.at > r["due_at"]:
                    found.append((r["id"], r["due_at"], eta))
        held = await self._db.fetch(_SQL["held_at_risk"], now, until, watch.batch)
        examined += len(held)
        events: dict[int, list[Any]] = defaultdict(list)
        for e in await self._db.fetch(_SQL["events_of"], [r["id"] for r in held]):
            events[e["task_id"]].append(e)
        for row in held:
            facts = await self.facts(row, _events(events[row["id"]]), top_share, estimates)
            eta = estimate(facts, now, lending)
            if eta.at is not None and eta.at > row["due_at"]:
                found.append((row["id"], row["due_at"], eta))
        found.sort(key=lambda f: (f[1], f[0]))
        found = found[: watch.max_warnings]
        lines = {
            r["id"]: r for r in await self._db.fetch(_SQL["task_lines"], [f[0] for f in found])
        }
        risks = [
            AtRisk(
                task_id,
                lines[task_id]["type"],
                lines[task_id]["title"],
                lines[task_id]["customer_ref"],
                lines[task_id]["status"],
                lines[task_id]["holder"],
                due,
                eta.at,
                eta.basis,
            )
            for task_id, due, eta in found
            if task_id in lines and eta.at is not None
        ]
        return WatchReport(examined, risks)

    async def remember(self, risks: Sequence[AtRisk]) -> set[int]:
        """Record the warnings; the tasks not warned of before come back (warn those)."""
        if not risks:
            return set()
        rows = await self._db.fetch(
            _SQL["remember_warnings"],
            [r.task_id for r in risks],
            [r.due_at for r in risks],
            [r.eta for r in risks],
            [r.basis for r in risks],
        )
        return {r["task_id"] for r in rows}


def _seconds_a_task(step: Step, lending: Lending, completions: int) -> float:
    """A rough pace for ordering the queue by slack: the step's minutes over the agents the
    lending or the recent pace gives; one agent when neither says."""
    per_hour = lending.capacity(step.skills).per_hour / max(step.minutes, 0.1)
    per_hour = max(per_hour, completions / THROUGHPUT_HOURS)
    return 3600 / per_hour if per_hour > 0 else step.minutes * 60


async def events_of(db: Executor, task_id: int) -> list[EventFact]:
    return _events(await db.fetch(_SQL["events_of"], [task_id]))

"""Read models of the task list and the roster: what supervisors and agents are shown.

Every surface (Slack, the API, a console) reads through these and renders; none runs its own
SQL over the task tables. Nothing here writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from queues.db import Executor, load_queries
from queues.models import TaskOut
from queues.tasks import task_out

_SQL = load_queries("queues", "views.sql")

DUE_SOON = timedelta(hours=2)
"""Open work due within this is still savable: the backlog's middle band."""


@dataclass(frozen=True)
class Person:
    """An agent as people see them: the name, and the Slack user, if any."""

    agent_id: str
    name: str
    slack_user_id: str | None

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name.strip() else self.agent_id


@dataclass(frozen=True)
class StatusCount:
    status: str
    n: int


@dataclass(frozen=True)
class TypeBacklog:
    """One task type's open tasks, split by SLA risk."""

    type: str
    open: int
    breached: int
    """Past their due time already."""
    due_soon: int
    """Due within :data:`DUE_SOON`."""
    first_due: datetime

    @property
    def later(self) -> int:
        return self.open - self.breached - self.due_soon


@dataclass(frozen=True)
class AgentAtWork:
    """An agent and the open task they touched last (none: every task field is ``None``)."""

    agent_id: str
    name: str
    task_id: int | None
    status: str | None
    type: str | None


@dataclass(frozen=True)
class TaskFacts:
    minutes: float | None
    """Expected minutes of the task's current step."""
    pausable: bool


@dataclass(frozen=True)
class TopAgent:
    agent_id: str
    name: str
    completed: int
    minutes: float
    """Their active minutes in the period, pauses excluded."""


@dataclass(frozen=True)
class Activity:
    """What happened to the task list since a time: for a day's or a week's report."""

    created: int
    completed: int
    completed_on_time: int
    """Completed before the task's due time."""
    escalated: int
    cancelled: int
    minutes: float
    """Back-office minutes worked in the period: active time only (pauses are not work),
    whether the work was completed, released, escalated or is still going on."""
    top: list[TopAgent]
    """The agents who completed the most tasks, most first."""


def _person(row: Any) -> Person:
    return Person(row["agent_id"], row["name"], row["slack_user_id"])


class Views:
    def __init__(self, db: Executor) -> None:
        self._db = db

    async def person_by_slack_user(self, slack_user_id: str) -> Person | None:
        row = await self._db.fetchrow(_SQL["person_by_slack_user"], slack_user_id)
        return _person(row) if row is not None else None

    async def people(self, agent_ids: Sequence[str]) -> dict[str, Person]:
        """The agents found among ``agent_ids``, by id."""
        rows = await self._db.fetch(_SQL["people"], list(agent_ids))
        return {r["agent_id"]: _person(r) for r in rows}

    async def status_counts(self) -> list[StatusCount]:
        """How many tasks are in each state, by state name; states with none are left out."""
        rows = await self._db.fetch(_SQL["status_counts"])
        return [StatusCount(r["status"], r["n"]) for r in rows]

    async def backlog(self, now: datetime, type_: str | None = None) -> list[TypeBacklog]:
        """Open work per type (or of one type), the types most at risk first; at most 40."""
        rows = await self._db.fetch(_SQL["backlog"], type_, now, DUE_SOON)
        return [
            TypeBacklog(r["type"], r["open"], r["breached"], r["due_soon"], r["first_due"])
            for r in rows
        ]

    async def agents_at_work(self) -> list[AgentAtWork]:
        """Every agent (at most 80) with their open task: by the task's state, then by name."""
        rows = await self._db.fetch(_SQL["agents_at_work"])
        return [
            AgentAtWork(r["agent_id"], r["name"], r["task_id"], r["status"], r["type"])
            for r in rows
        ]

    async def work_of(self, agent_id: str) -> list[TaskOut]:
        """The agent's tasks in progress or paused, the latest change first."""
        return [task_out(r) for r in await self._db.fetch(_SQL["work_of"], agent_id)]

    async def done_since(self, agent_id: str, since: datetime) -> int:
        """How many steps (a task of one step counts once) the agent completed since then."""
        return int(await self._db.fetchval(_SQL["done_since"], agent_id, since))

    async def task_facts(self, task_ids: Sequence[int]) -> dict[int, TaskFacts]:
        """The current step's expected minutes and whether it may be paused, per task found."""
        rows = await self._db.fetch(_SQL["task_facts"], list(task_ids))
        return {r["id"]: TaskFacts(r["minutes"], bool(r["pausable"])) for r in rows}

    async def offer_reasons(self, task_ids: Sequence[int]) -> dict[int, list[str]]:
        """Why each task was offered last, in the offer's words; tasks never offered are left
        out."""
        rows = await self._db.fetch(_SQL["offer_reasons"], list(task_ids))
        return {r["task_id"]: [str(w) for w in (r["data"] or {}).get("why", [])] for r in rows}

    async def last_reason(self, task_id: int) -> str | None:
        """The reason the task's latest event gives, if any."""
        reason = await self._db.fetchval(_SQL["last_reason"], task_id)
        return str(reason) if reason is not None else None

    async def activity(self, since: datetime, *, top: int = 5) -> Activity:
        """The task list's events since ``since``, and the ``top`` agents by completions."""
        counts = await self._db.fetchrow(_SQL["report_counts"], since)
        assert counts is not None
        minutes = await self._db.fetchval(_SQL["report_minutes"], since)
        leaders = await self._db.fetch(_SQL["report_top"], since, top)
        return Activity(
            created=counts["created"],
            completed=counts["completed"],
            completed_on_time=counts["on_time"],
            escalated=counts["escalated"],
            cancelled=counts["cancelled"],
            minutes=float(minutes),
            top=[
                TopAgent(r["agent_id"], str(r["name"]), int(r["completed"]), float(r["minutes"]))
                for r in leaders
            ],
        )

"""The log of blending decisions, newest first, with the figures behind each.

Every lend the engine makes, every change of a group's guard and every recall is a row of
``blending_events`` with its figures (:mod:`blending.figures`); supervisors' lends and recalls,
recalls ending and drift corrections are there too, without figures. The API and the
supervisors' Home read it here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from blending.figures import Figures
from blending.sites import read_for
from queues.db import Executor, load_queries

_SQL = load_queries("blending", "decision_log.sql")
SITE_OF = " ".join(
    line.strip() for line in _SQL["site_of"].splitlines() if not line.startswith("--")
)
"""The SQL expression of the site a blending event ``e`` (with its agent ``a``) belongs to, on
one line (a query's ``-- site:`` line may hold it)."""
_SQL["recent"] = _SQL["recent"].format(site_of=SITE_OF)
_FIGURES = TypeAdapter(Figures)

EventName = Literal[
    "lend_offered",
    "guard",
    "recalled",
    "recall_cleared",
    "lent",
    "lend_ended",
    "interrupted",
    "drift",
]
DECISIONS: tuple[EventName, ...] = ("lend_offered", "guard", "recalled")
"""The engine's own decisions: a lend, a change of the guard, a recall."""


class DecisionOut(BaseModel):
    id: int
    at: datetime
    event: EventName = Field(
        description="`lend_offered`: the engine lent the agent, offering a task in a window; "
        "`guard`: a group's guard changed mode (`hold`, `recall`, `open`); `recalled`: an agent "
        "was called back to the phones (by the guard, or by a supervisor: `actor`); "
        "`recall_cleared`, `lent` and `lend_ended` (a supervisor's lend), `interrupted` "
        "(a call paused the agent's work), `drift` (the platform's state corrected)."
    )
    group: str = Field(description="The staffing group.")
    agent_id: str | None
    agent_name: str | None = Field(description="The agent's name on the roster.")
    task_id: int | None = Field(description="On `lend_offered`: the task offered.")
    reason: str | None
    actor: str | None = Field(description="`blendbot`, or the supervisor who acted.")
    figures: Figures | None = Field(
        description="What the engine saw when it decided (lends, guard changes and the guard's "
        "recalls); null for the other events."
    )


class DecisionPage(BaseModel):
    items: list[DecisionOut] = Field(description="Newest first.")
    next_before: int | None = Field(
        description="Pass as `before` for the next (older) page; null on the last page."
    )


def decision_out(r: Any) -> DecisionOut:
    """A decision as its row of ``blending_events`` (with the agent's name) reads."""
    return DecisionOut(
        id=r["id"],
        at=r["at"],
        event=r["event"],
        group=r["grp"],
        agent_id=r["agent_id"],
        agent_name=r["agent_name"],
        task_id=r["task_id"],
        reason=r["reason"],
        actor=r["actor"],
        figures=_figures(r["figures"]),
    )


def _figures(raw: Any) -> Figures | None:
    if raw is None:
        return None
    try:
        return _FIGURES.validate_python(raw)
    except ValidationError:
        return None  # written by another version: the event is still shown


async def recent(
    db: Executor,
    *,
    group: str | None = None,
    agent_id: str | None = None,
    events: Sequence[str] | None = None,
    limit: int = 50,
    before: int | None = None,
    since: datetime | None = None,
    site: str | None = None,
) -> DecisionPage:
    """The last ``limit`` events that match, older than id ``before`` and at or after
    ``since`` when given; ``site``: about its agents, or its queues for an event about a
    group alone (``default``: of no site)."""
    events_list = list(events) if events is not None else None
    rows = await db.fetch(
        *read_for(_SQL["recent"], site, group, agent_id, events_list, before, limit + 1, since)
    )
    items = [decision_out(r) for r in rows[:limit]]
    more = len(rows) > limit
    return DecisionPage(items=items, next_before=items[-1].id if more and items else None)

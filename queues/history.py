"""Closed tasks of an imported history: each written as the lifecycle would have left it.

A center loads a year of its ticketing system's closed work so that the workload forecast
has something to learn from. Each closed task becomes a ``done`` task with its ``created``,
``claimed`` and ``completed`` events (``step_completed`` between the steps of a type that has
several), its work segments and its handle-time lesson, all dated in the past and marked
``imported``: no offer is made, no write-back to the source is queued (migration 0024), no
Slack message is sent. The worked minutes are split over the steps in proportion to their
expected minutes, the segments back to back, ending at the completion.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Self

from pydantic import Field, model_validator

from queues.bounds import Instant
from queues.db import Executor, load_queries
from queues.models import AgentId, ShortText, TaskIn

_SQL = load_queries("queues", "history.sql")
HISTORY_COLUMNS = ("created_at", "completed_at", "worked_minutes", "completed_by", "outcome")
"""The columns that make a row a closed task of the history."""
_NO_FIGURES = (None, None, None, None)


class ClosedTaskIn(TaskIn):
    """A task closed in the source system: when it came, when it was done, the time worked."""

    created_at: Instant
    completed_at: Instant
    worked_minutes: float = Field(gt=0, le=7 * 24 * 60, description="Active time, all steps.")
    completed_by: AgentId | None = Field(
        default=None, description="Who completed it; the import itself when not given."
    )
    outcome: ShortText | None = None

    @model_validator(mode="after")
    def _in_order(self) -> Self:
        if self.completed_at < self.created_at:
            raise ValueError("completed_at is before created_at")
        elapsed = (self.completed_at - self.created_at).total_seconds() / 60
        if self.worked_minutes > elapsed + 1e-9:
            raise ValueError(
                f"worked_minutes ({self.worked_minutes:g}) is more than the "
                f"{elapsed:.1f} minutes from created_at to completed_at"
            )
        if self.due_at is not None and self.due_at < self.created_at:
            raise ValueError("due_at is before created_at")
        return self


@dataclass(frozen=True)
class TypeFacts:
    sla_minutes: int
    step_minutes: tuple[float, ...]


async def type_facts(db: Executor) -> dict[str, TypeFacts]:
    rows = await db.fetch(_SQL["types"])
    return {
        r["name"]: TypeFacts(
            r["sla_minutes"],
            tuple(float(s["handle_minutes"]) for s in r["steps"]) or (float(r["handle_minutes"]),),
        )
        for r in rows
    }


def check_closed(item: ClosedTaskIn, types: dict[str, TypeFacts], now: datetime) -> str | None:
    """What is wrong with a closed task that its own fields cannot tell, or ``None``."""
    if item.type not in types:
        return f"unknown task type {item.type!r}"
    if item.completed_at > now:
        return f"completed_at {item.completed_at.isoformat()} is in the future"
    return None


@dataclass
class _Rows:
    """Columns of one multi-row insert, appended to row by row."""

    columns: list[list[Any]]

    @classmethod
    def of(cls, width: int) -> _Rows:
        return cls([[] for _ in range(width)])

    def add(self, *values: Any) -> None:
        for column, value in zip(self.columns, values, strict=True):
            column.append(value)


@dataclass
class Written:
    """What ``insert_closed`` did: per item, in order, ``("created", id)``, ``("existing", id)``
    for the same task imported before, or ``("conflict", id)``; and the work segments it wrote,
    as ``(start, end)`` (their days may need rolling up again: ``roll_up_again``)."""

    outcomes: list[tuple[str, int | None]]
    worked: set[tuple[datetime, datetime]]


async def insert_closed(
    db: Executor, items: Sequence[ClosedTaskIn], types: dict[str, TypeFacts], actor: str
) -> Written:
    """Write the closed tasks whose key is new, with their lifecycle."""
    hashes = [i.request_hash() for i in items]
    tasks = _Rows.of(13)
    seen: set[tuple[str, str]] = set()
    for item, digest in zip(items, hashes, strict=True):
        key = (item.source, item.external_id)
        if key in seen:
            continue
        seen.add(key)
        facts = types[item.type]
        due = item.due_at or item.created_at + timedelta(minutes=facts.sla_minutes)
        tasks.add(
            item.source,
            item.external_id,
            item.type,
            item.title,
            item.customer_ref,
            item.customer_tier,
            item.value,
            item.payload,
            due,
            digest,
            item.created_at,
            item.completed_at,
            len(facts.step_minutes),
        )
    inserted = await db.fetch(_SQL["insert_closed"], *tasks.columns)
    ids = {(r["source"], r["external_id"]): int(r["id"]) for r in inserted}
    new = set(ids)
    missing = [key for key in seen if key not in ids]
    stored_hash: dict[tuple[str, str], str] = {}
    if missing:
        found = await db.fetch(
            "SELECT id, source, external_id, request_hash FROM tasks"
            " WHERE (source, external_id) IN"
            " (SELECT * FROM unnest($1::text[], $2::text[]))",
            [k[0] for k in missing],
            [k[1] for k in missing],
        )
        for r in found:
            ids[(r["source"], r["external_id"])] = int(r["id"])
            stored_hash[(r["source"], r["external_id"])] = r["request_hash"]
    events, segments = _Rows.of(10), _Rows.of(7)
    learnt: dict[tuple[str, str, int], list[Any]] = defaultdict(lambda: [0, 0.0, None, None, 0.0])
    outcomes: list[tuple[str, int | None]] = []
    for item, digest in zip(items, hashes, strict=True):
        key = (item.source, item.external_id)
        task_id = ids.get(key)
        if key in new:
            new.discard(key)  # a key twice in one batch is written once
            _lifecycle(task_id or 0, item, types[item.type], actor, events, segments, learnt)
            outcomes.append(("created", task_id))
        elif key in stored_hash and stored_hash[key] != digest:
            outcomes.append(("conflict", task_id))
        else:
            outcomes.append(("existing", task_id))
    if events.columns[0]:
        await db.execute(_SQL["insert_events"], *events.columns)
        await db.execute(_SQL["insert_segments"], *segments.columns)
        taught = _Rows.of(8)
        for (agent, type_, step), (n, seconds, last, day, day_seconds) in learnt.items():
            taught.add(agent, type_, step, n, seconds, last, day, day_seconds)
        await db.execute(_SQL["learn_handle_times"], *taught.columns)
    worked = set(zip(segments.columns[3], segments.columns[5], strict=True))
    return Written(outcomes, worked)


async def roll_up_again(db: Executor, worked: Iterable[tuple[datetime, datetime]]) -> int:
    """Roll up again the reports' days already rolled up (the steps done, ``agent_work_days``,
    and the active time, ``agent_time_days``, in each zone rolled up) that any of the work
    segments ``worked`` (start, end) reaches, so that the reports' figures stay those of the
    task log; returns how many days. Only an imported history writes work on a past day, so
    the importer calls this, in its own transaction, once for every day it touched."""
    spans = sorted(set(worked))
    if not spans:
        return 0
    return int(
        await db.fetchval(_SQL["roll_up_again"], [s for s, _ in spans], [e for _, e in spans])
    )


def _lifecycle(
    task_id: int,
    item: ClosedTaskIn,
    facts: TypeFacts,
    actor: str,
    events: _Rows,
    segments: _Rows,
    learnt: dict[tuple[str, str, int], list[Any]],
) -> None:
    agent = item.completed_by or actor
    events.add(task_id, item.created_at, "created", None, "queued", actor, *_NO_FIGURES)
    steps = facts.step_minutes
    total = sum(steps)
    worked = [item.worked_minutes * 60 * m / total for m in steps]
    end = item.completed_at
    spans: list[tuple[datetime, datetime]] = []
    for seconds in reversed(worked):
        start = end - timedelta(seconds=seconds)
        spans.append((start, end))
        end = start
    spans.reverse()
    for step, ((start, stop), seconds) in enumerate(zip(spans, worked, strict=True), start=1):
        last = step == len(steps)
        done_event = "completed" if last else "step_completed"
        events.add(task_id, start, "claimed", "queued", "in_progress", agent, *_NO_FIGURES)
        outcome = item.outcome if last else None
        after = "done" if last else "queued"
        figures = (step, len(steps), seconds, outcome)
        events.add(task_id, stop, done_event, "in_progress", after, agent, *figures)
        segments.add(task_id, agent, step, start, "claimed", stop, done_event)
        lesson = learnt[(agent, item.type, step)]
        day: date = stop.date()
        lesson[0] += 1
        lesson[1] += seconds
        if lesson[2] is None or stop > lesson[2]:
            lesson[2] = stop
        if lesson[3] is None or day > lesson[3]:
            lesson[3], lesson[4] = day, seconds
        elif day == lesson[3]:
            lesson[4] += seconds

"""The global task list: intake, lookup and state transitions of tasks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import asyncpg

from queues.db import Executor, load_queries
from queues.errors import IdempotencyConflict, NotFound, UnknownTaskType
from queues.eta import EtaSettings, EventFact, NoLending, NoOutlook, Outlook, estimate
from queues.eta_store import EtaStore
from queues.models import (
    OPEN_STATUSES,
    TaskDetail,
    TaskEventOut,
    TaskFilter,
    TaskIn,
    TaskOut,
)
from queues.priority import explain

_SQL = load_queries("queues", "tasks.sql")
# The same insert, returning only what a bulk import needs (no payloads to decode).
_SQL["insert_tasks_keys"] = _SQL["insert_tasks"].replace(
    "SELECT * FROM ins", "SELECT id, source, external_id, request_hash FROM ins"
)
_COLUMNS = ", ".join(TaskOut.model_fields)


def task_out(row: Any) -> TaskOut:
    """A task row (or a row with at least the task's columns) as the API model."""
    return TaskOut.model_validate({k: row[k] for k in TaskOut.model_fields})


@dataclass(frozen=True)
class Intake:
    """What became of one task sent to :meth:`Tasks.create_many`."""

    outcome: Literal["created", "existing", "conflict", "unknown_type"]
    row: asyncpg.Record | None
    error: Exception | None = None

    @property
    def task(self) -> TaskOut | None:
        """The task as stored (built on demand: a bulk import never needs it)."""
        return task_out(self.row) if self.row is not None else None


_STATES = {
    "queued": "waiting in the queue",
    "offered": "offered to {holder}",
    "in_progress": "being worked on by {holder}",
    "paused": "paused by {holder}",
    "escalated": "escalated to the supervisors by {holder}",
    "done": "done",
    "cancelled": "cancelled",
}


def _progress(status: str, step: int, count: int, name: str | None, holder: str | None) -> str:
    """``step 2 of 3: underwriting, being worked on by dana`` — what an agent tells a customer."""
    state = _STATES[status].format(holder=holder or "nobody")
    if count == 1 or status in ("done", "cancelled"):
        return state
    return f"step {step} of {count}: {name}, {state}"


def quoted_id(text: str) -> int | None:
    """The task id in what someone quoted (``1042``, ``#1042``), if it can be one."""
    digits = text.strip().removeprefix("#")
    if digits.isascii() and digits.isdigit() and len(digits) <= 18:
        return int(digits) or None
    return None


class Tasks:
    def __init__(
        self,
        db: Executor,
        *,
        outlook: Outlook | None = None,
        eta: EtaSettings | None = None,
    ) -> None:
        """``outlook`` tells the ETA what lending the forecast expects (none: no forecast)."""
        self._db = db
        self._outlook = outlook or NoOutlook()
        self._eta = eta or EtaSettings()

    async def create(self, item: TaskIn, actor: str) -> tuple[TaskOut, bool]:
        """Create one task, or return the one already made by the same request."""
        (result,) = await self.create_many([item], actor)
        if result.error is not None:
            raise result.error
        assert result.task is not None
        return result.task, result.outcome == "created"

    async def create_many(
        self, items: Sequence[TaskIn], actor: str, *, rows: bool = True
    ) -> list[Intake]:
        """Create the tasks whose (source, external_id) is new, in one statement.

        Uniqueness is the database's: a key sent twice, here or concurrently elsewhere, makes
        one task. Each item's outcome is reported, in order; nothing is raised. Without
        ``rows``, the outcomes carry only the stored id and digest, which is faster.
        """
        hashes = [item.request_hash() for item in items]
        first: dict[tuple[str, str], int] = {}
        for index, item in enumerate(items):
            first.setdefault((item.source, item.external_id), index)
        unique = [items[i] for i in sorted(first.values())]
        inserted = await self._db.fetch(
            _SQL["insert_tasks" if rows else "insert_tasks_keys"],
            [i.source for i in unique],
            [i.external_id for i in unique],
            [i.type for i in unique],
            [i.title for i in unique],
            [i.customer_ref for i in unique],
            [i.customer_tier for i in unique],
            [i.value for i in unique],
            [i.payload for i in unique],
            [i.due_at for i in unique],
            [hashes[first[(i.source, i.external_id)]] for i in unique],
            actor,
        )
        created = {(r["source"], r["external_id"]): r for r in inserted}
        missing = [key for key in first if key not in created]
        existing: dict[tuple[str, str], Any] = {}
        if missing:
            found = await self._db.fetch(
                _SQL["find_by_keys"], [k[0] for k in missing], [k[1] for k in missing]
            )
            existing = {(r["source"], r["external_id"]): r for r in found}
        results: list[Intake] = []
        for index, item in enumerate(items):
            key = (item.source, item.external_id)
            row = created.get(key) or existing.get(key)
            kept = row if rows else None
            if row is None:
                results.append(Intake("unknown_type", None, UnknownTaskType(item.type)))
            elif row["request_hash"] != hashes[index]:
                error = IdempotencyConflict(item.source, item.external_id, row["id"])
                results.append(Intake("conflict", kept, error))
            elif key in created and first[key] == index:
                results.append(Intake("created", kept))
            else:
                results.append(Intake("existing", kept))
        return results

    async def by_key(self, source: str, external_id: str) -> TaskOut | None:
        """The task a source made for its record, or ``None``."""
        rows = await self._db.fetch(_SQL["find_by_keys"], [source], [external_id])
        return task_out(rows[0]) if rows else None

    async def update_queued(self, task_id: int, item: TaskIn, actor: str) -> TaskOut | None:
        """Apply a source's update of its record to a task waiting in the queue: its title,
        priority inputs, payload and (when given) due time, with an ``updated`` event. ``None``
        when the task is not queued (held work is not changed under its holder)."""
        row = await self._db.fetchrow(
            _SQL["update_queued"],
            task_id,
            item.title,
            item.customer_ref,
            item.customer_tier,
            item.value,
            item.payload,
            item.due_at,
            item.request_hash(),
            actor,
        )
        return task_out(row) if row is not None else None

    async def note(
        self,
        task_id: int,
        event: str,
        actor: str,
        reason: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> bool:
        """Append an event to the task's timeline without changing the task; ``False`` when
        there is no such task."""
        found = await self._db.fetchval(_SQL["note"], task_id, event, actor, reason, data or {})
        return found is not None

    async def one(self, task_id: int) -> TaskOut | None:
        """The task as stored, or ``None``; :meth:`get` tells its whole story."""
        row = await self._db.fetchrow(_SQL["get_task"], task_id)
        return task_out(row) if row is not None else None

    async def get(self, task_id: int, now: datetime, *, sla_top_share: float = 0.8) -> TaskDetail:
        """The task, why it ranks where it does at ``now``, where it is, and its story."""
        row = await self._db.fetchrow(_SQL["get_task_detail"], task_id)
        if row is None:
            raise NotFound("task", task_id)
        events = await self._db.fetch(_SQL["timeline"], task_id)
        task = task_out(row)
        ranked = explain(
            row["base_priority"],
            row["rule_boost"],
            list(row["rule_reasons"]),
            task.created_at,
            task.due_at,
            now,
            sla_top_share,
        )
        steps = row["type_steps"]
        name = steps[task.step - 1]["name"] if steps else None
        count = max(1, len(steps))
        facts = await EtaStore(self._db, self._eta).facts(
            row,
            [EventFact(e["at"], e["event"], e["from_status"], e["to_status"]) for e in events],
            sla_top_share,
        )
        lending = await self._outlook.lending(now) if task.status in OPEN_STATUSES else NoLending()
        eta = estimate(facts, now, lending)
        worked = task.active_seconds
        if task.active_since is not None:
            worked += max(0.0, (now - task.active_since).total_seconds())
        return TaskDetail(
            **task.model_dump(),
            priority=round(ranked.priority, 1),
            priority_reasons=ranked.reasons,
            step_count=count,
            step_name=name,
            progress=_progress(task.status, task.step, count, name, task.holder),
            eta=eta.at,
            eta_basis=eta.basis,
            worked_seconds=worked,
            timeline=[TaskEventOut.model_validate(dict(e)) for e in events],
        )

    async def find(self, query: TaskFilter) -> list[TaskOut]:
        """Tasks matching the filter, newest first, at most ``query.limit`` of them."""
        # The WHERE clause is built from fixed fragments only, so that each combination of
        # filters gets a plan that uses its index; every value is a bind parameter.
        clauses: list[str] = []
        args: list[object] = []
        if query.q is not None:
            args.append(query.q)
            quoted = f"customer_ref = ${len(args)} OR external_id = ${len(args)}"
            task_id = quoted_id(query.q)
            if task_id is not None:
                args.append(task_id)
                quoted = f"id = ${len(args)} OR {quoted}"
            clauses.append(f"({quoted})")
        for column, value in (
            ("customer_ref = ${}", query.customer_ref),
            ("external_id = ${}", query.external_id),
            ("source = ${}", query.source),
            ("holder = ${}", query.holder),
            ("status = ANY(${}::text[])", query.status),
            ("type = ${}", query.type),
            ("due_at < ${}", query.due_before),
            ("due_at >= ${}", query.due_after),
            ("id < ${}", query.cursor),
        ):
            if value is not None:
                args.append(value)
                clauses.append(column.format(len(args)))
        where = " AND ".join(clauses) or "true"
        args.append(query.limit)
        sql = f"SELECT {_COLUMNS} FROM tasks WHERE {where} ORDER BY id DESC LIMIT ${len(args)}"
        return [task_out(r) for r in await self._db.fetch(sql, *args)]

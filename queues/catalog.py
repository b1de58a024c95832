"""Task types: the kinds of back-office work, their skills, SLA and handle time, and the
payload fields a lookup may share."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from queues.db import Executor, load_queries
from queues.models import TaskTypeIn, TaskTypeOut

_SQL = load_queries("queues", "catalog.sql")


def shareable(payload: Mapping[str, Any], fields: Sequence[str]) -> list[tuple[str, Any]]:
    """The payload fields a lookup may show, in the task type's order; no other key leaves."""
    return [(key, payload[key]) for key in fields if key in payload]


def _type_out(row: Any) -> TaskTypeOut:
    return TaskTypeOut.model_validate(dict(row))


class Catalog:
    def __init__(self, db: Executor) -> None:
        self._db = db

    async def put(self, name: str, body: TaskTypeIn) -> tuple[TaskTypeOut, bool]:
        """Create or replace a task type; the flag says whether it is new."""
        row = await self._db.fetchrow(
            _SQL["upsert_task_type"],
            name,
            body.skills,
            body.sla_minutes,
            body.handle_minutes,
            body.pausable,
            body.base_priority,
            [s.model_dump() for s in body.steps],
            body.shareable_fields,
        )
        assert row is not None
        return _type_out(row), bool(row["inserted"])

    async def get(self, name: str) -> TaskTypeOut | None:
        row = await self._db.fetchrow(_SQL["get_task_type"], name)
        return _type_out(row) if row else None

    async def all(self) -> list[TaskTypeOut]:
        return [_type_out(r) for r in await self._db.fetch(_SQL["list_task_types"])]

"""Rows set aside because no job could use them, each with its reason, for a person to see.

The migration that made times sane (``0014_sane_times.sql``) moved the rows with impossible
times here; whatever else is set aside later lands here the same way. Nothing in the
quarantine is read by the service again: it is evidence, to be fixed at the source.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from queues.db import Executor


class QuarantinedRow(BaseModel):
    id: int
    at: datetime = Field(description="When it was set aside.")
    table: str = Field(description="The table it came from, e.g. `telephony_events`.")
    reason: str
    row: dict[str, Any] = Field(description="The row as it was, as JSON.")


class Quarantine:
    def __init__(self, db: Executor) -> None:
        self._db = db

    async def rows(
        self, table: str | None = None, *, before: int | None = None, limit: int = 100
    ) -> list[QuarantinedRow]:
        """Newest first; ``before`` (an id) pages back."""
        rows = await self._db.fetch(
            "SELECT id, at, table_name, reason, row FROM quarantine"
            " WHERE ($1::text IS NULL OR table_name = $1)"
            "   AND ($2::bigint IS NULL OR id < $2)"
            " ORDER BY id DESC LIMIT $3",
            table,
            before,
            limit,
        )
        return [
            QuarantinedRow(
                id=r["id"], at=r["at"], table=r["table_name"], reason=r["reason"], row=r["row"]
            )
            for r in rows
        ]

"""Blending on or off: while it is off, agents are offered no back-office work.

One row holds the current state (who set it, when, why); every change is also appended to
``blending_state_changes``. Setting the state it already has changes nothing and records
nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from queues.db import Executor, transaction

_GET = "SELECT blending_on, changed_by, changed_at, reason FROM blending_state"
_LOCK = _GET + " FOR UPDATE"
_SET = """
INSERT INTO blending_state (blending_on, changed_by, reason) VALUES ($1, $2, $3)
ON CONFLICT (singleton) DO UPDATE
SET blending_on = excluded.blending_on, changed_by = excluded.changed_by,
    reason = excluded.reason, changed_at = now()
RETURNING blending_on, changed_by, changed_at, reason
"""
_RECORD = "INSERT INTO blending_state_changes (blending_on, changed_by, reason) VALUES ($1, $2, $3)"


@dataclass(frozen=True)
class Blending:
    on: bool
    by: str | None
    at: datetime
    reason: str | None


def _state(row: Any) -> Blending:
    return Blending(
        on=bool(row["blending_on"]),
        by=row["changed_by"],
        at=row["changed_at"],
        reason=row["reason"],
    )


class BlendingState:
    def __init__(self, db: Executor) -> None:
        self._db = db

    async def get(self) -> Blending:
        row = await self._db.fetchrow(_GET)
        if row is None:  # the row migration 0006 inserts is gone: nobody has paused blending
            return Blending(on=True, by=None, at=datetime.min.replace(tzinfo=UTC), reason=None)
        return _state(row)

    async def set(self, on: bool, by: str, reason: str | None = None) -> tuple[Blending, bool]:
        """Turn blending on or off; give the state and whether this call changed it."""
        async with transaction(self._db) as conn:
            current = await conn.fetchrow(_LOCK)
            if current is not None and bool(current["blending_on"]) == on:
                return _state(current), False
            row = await conn.fetchrow(_SET, on, by, reason)
            await conn.execute(_RECORD, on, by, reason)
        assert row is not None
        return _state(row), True

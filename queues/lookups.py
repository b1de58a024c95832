"""The audit log of task lookups: who looked for what, whether they were allowed, what they
found. Every surface that finds tasks for a person (the API, Slack) records each lookup."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from queues.db import Executor, load_queries

_SQL = load_queries("queues", "lookups.sql")
Surface = Literal["api", "slack", "console"]


@dataclass(frozen=True)
class Lookup:
    at: datetime
    surface: str
    actor: str
    query: dict[str, Any]
    allowed: bool
    found: list[int]


class Lookups:
    def __init__(self, db: Executor) -> None:
        self._db = db

    async def record(
        self,
        surface: Surface,
        actor: str,
        query: Mapping[str, Any],
        found: Sequence[int],
        *,
        allowed: bool = True,
    ) -> None:
        """``actor``: a Slack user id, ``token:<fingerprint>`` for an API token, or the
        console's ``slack:<user id>``."""
        plain = json.loads(json.dumps(dict(query), default=str))
        await self._db.execute(_SQL["record"], surface, actor, plain, allowed, list(found))

    async def recent(self, actor: str | None = None, limit: int = 50) -> list[Lookup]:
        """The latest lookups (of one actor), newest first."""
        rows = await self._db.fetch(_SQL["recent"], actor, limit)
        return [
            Lookup(r["at"], r["surface"], r["actor"], r["query"], r["allowed"], list(r["found"]))
            for r in rows
        ]

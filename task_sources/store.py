"""The task sources' rows in PostgreSQL: configuration, applied deliveries and rejects."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import asyncpg

from queues.db import Executor, load_queries
from task_sources.connector import Action, SourceConfig

_SQL = load_queries("task_sources", "store.sql")


def config_of(row: Any) -> SourceConfig:
    return SourceConfig(
        name=row["name"],
        kind=row["kind"],
        secret=row["secret"],
        api_url=row["api_url"],
        credentials=dict(row["credentials"]),
        mapping=dict(row["mapping"]),
        write_back=dict(row["write_back"]),
        updated_at=row["updated_at"],
    )


class SourceStore:
    """Queries on a pool, or on a connection inside the caller's transaction."""

    def __init__(self, db: Executor) -> None:
        self._db = db

    async def get(self, name: str) -> asyncpg.Record | None:
        return await self._db.fetchrow(_SQL["get"], name)

    async def all(self) -> list[asyncpg.Record]:
        return await self._db.fetch(_SQL["all"])

    async def put(
        self,
        name: str,
        kind: str,
        secret: str | None,
        api_url: str | None,
        credentials: Mapping[str, str] | None,
        mapping: Mapping[str, str | None],
        write_back: Mapping[str, Any],
    ) -> asyncpg.Record:
        row = await self._db.fetchrow(
            _SQL["put"],
            name,
            kind,
            secret,
            api_url,
            dict(credentials) if credentials is not None else None,
            dict(mapping),
            dict(write_back),
        )
        assert row is not None
        return row

    async def delete(self, name: str) -> asyncpg.Record | None:
        return await self._db.fetchrow(_SQL["delete"], name)

    async def first_delivery(self, source: str, delivery_id: str, action: Action) -> bool:
        """Record the delivery as applied; ``False`` when it was applied before."""
        found = await self._db.fetchval(_SQL["first_delivery"], source, delivery_id, action)
        return found is not None

    async def newer_version(self, source: str, external_id: str, version: datetime) -> bool:
        """Record ``version`` as the record's latest; ``False`` when one as new or newer was
        applied before (the delivery is out of date)."""
        found = await self._db.fetchval(_SQL["newer_version"], source, external_id, version)
        return found is not None

    async def delivery_outcome(
        self, source: str, delivery_id: str, outcome: str, task_id: int | None
    ) -> None:
        await self._db.execute(_SQL["delivery_outcome"], source, delivery_id, outcome, task_id)

    async def keep_reject(
        self,
        source: str,
        delivery_id: str,
        action: Action | None,
        headers: Mapping[str, str],
        body: bytes,
        event: dict[str, Any] | None,
        reason: str,
        field: str | None,
        *,
        counted: bool = True,
    ) -> int:
        # The event is stored as JSON text that PostgreSQL can hold: no NUL character.
        safe = json.loads(json.dumps(event).replace("\\u0000", "")) if event is not None else None
        reject_id = await self._db.fetchval(
            _SQL["keep_reject"],
            source,
            delivery_id,
            action,
            dict(headers),
            body,
            safe,
            reason.replace("\x00", ""),
            field,
            1 if counted else 0,
        )
        assert reject_id is not None
        return int(reject_id)

    async def rejects(
        self, source: str, *, include_retried: bool, before: int | None, limit: int
    ) -> list[asyncpg.Record]:
        return await self._db.fetch(_SQL["rejects"], source, include_retried, before, limit)

    async def reject(self, source: str, reject_id: int) -> asyncpg.Record | None:
        return await self._db.fetchrow(_SQL["reject"], source, reject_id)

    async def reject_again(
        self, source: str, reject_id: int, reason: str, field: str | None
    ) -> None:
        await self._db.execute(_SQL["reject_again"], source, reject_id, reason, field)

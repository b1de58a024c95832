"""Group commit of a source's deliveries of new and changed records.

A vendor delivers one record per request, many at once. Applied one by one, each delivery pays
its own transaction: record the delivery, create the task, record the outcome, commit. Here the
deliveries of a source that arrive while its previous batch is being written wait for it and
then go together, in one transaction with one statement per step for all of them (the REST
intake's own :meth:`~queues.tasks.Tasks.create_many`), so that the round trips and the commit
are paid once per batch. Under light load a batch is one delivery and nothing waits.

The outcomes are those of applying the deliveries one after the other: a delivery seen before
(in an earlier batch or earlier in this one) is a ``duplicate``; a record already made into a
task updates it while it is queued; a delivery whose task type is unknown is not recorded (the
caller keeps it as a reject). Only one batch of a source is written at a time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal

import asyncpg

from queues.db import Connection, load_queries, transaction
from queues.models import TaskIn
from queues.tasks import Tasks

_SQL = load_queries("task_sources", "store.sql")
MAX_BATCH = 500

Result = tuple[Literal["created", "updated", "unchanged", "duplicate", "unknown_type"], int | None]
"""What became of one delivery, and its task."""

Update = Callable[[Connection, TaskIn, int], Awaitable[Result]]
"""Apply a delivery to the existing task (by id) of its record, in the batch's transaction."""


@dataclass
class _Waiting:
    delivery_id: str
    item: TaskIn
    done: asyncio.Future[Result] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class GroupCommit:
    """The batches of one source."""

    def __init__(self, pool: asyncpg.Pool, source: str, actor: str, update: Update) -> None:
        self._pool = pool
        self._source = source
        self._actor = actor
        self._update = update
        self._queue: list[_Waiting] = []
        self._writer: asyncio.Task[None] | None = None

    async def apply(self, delivery_id: str, item: TaskIn) -> Result:
        waiting = _Waiting(delivery_id, item)
        self._queue.append(waiting)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write(), name=f"deliveries {self._source}")
        return await asyncio.shield(waiting.done)

    async def _write(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
            try:
                results = await self._batch(batch)
            except Exception as exc:  # each waiting delivery answers with the failure
                for w in batch:
                    if not w.done.done():
                        w.done.set_exception(exc)
                continue
            for w, result in zip(batch, results, strict=True):
                if not w.done.done():
                    w.done.set_result(result)

    async def _batch(self, batch: list[_Waiting]) -> list[Result]:
        async with transaction(self._pool) as conn:
            rows = await conn.fetch(
                _SQL["first_deliveries"],
                self._source,
                [w.delivery_id for w in batch],
                ["upsert"] * len(batch),
            )
            new = {r["delivery_id"] for r in rows}
            results: list[Result | None] = [None] * len(batch)
            applying: list[int] = []
            for index, w in enumerate(batch):
                if w.delivery_id in new:
                    new.discard(w.delivery_id)
                    applying.append(index)
                else:
                    results[index] = ("duplicate", None)
            made = await Tasks(conn).create_many([batch[i].item for i in applying], self._actor)
            unknown: list[str] = []
            for index, intake in zip(applying, made, strict=True):
                row = intake.row  # the stored row: only its id and status are needed
                if intake.outcome == "unknown_type" or row is None:
                    results[index] = ("unknown_type", None)
                    unknown.append(batch[index].delivery_id)
                elif intake.outcome == "created":
                    results[index] = ("created", row["id"])
                elif intake.outcome == "existing" or row["status"] != "queued":
                    results[index] = ("unchanged", row["id"])
                else:
                    results[index] = await self._update(conn, batch[index].item, row["id"])
            if unknown:
                await conn.execute(_SQL["forget_deliveries"], self._source, unknown)
            recorded = [
                (batch[i].delivery_id, r[0], r[1])
                for i, r in enumerate(results)
                if r is not None and r[0] not in ("duplicate", "unknown_type")
            ]
            if recorded:
                await conn.execute(
                    _SQL["delivery_outcomes"],
                    self._source,
                    [d for d, _, _ in recorded],
                    [o for _, o, _ in recorded],
                    [t for _, _, t in recorded],
                )
        return [r if r is not None else ("duplicate", None) for r in results]

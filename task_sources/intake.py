"""Deliveries into tasks: authenticated, deduplicated, mapped, applied through the queues
package, or kept as rejects to be retried once the mapping is fixed.

Each delivery is one transaction: its id is recorded first (a repeat, even a concurrent one,
finds it and changes nothing), then the mapped task is created with the REST intake's own
code (:meth:`queues.tasks.Tasks.create_many`), or the queued task is updated (the deliveries of
new and changed records that arrive together share their transaction: :mod:`task_sources.batch`),
or, for a
record closed at the source, the task is cancelled if nobody holds it — else its holder is
told (:meth:`SourceHooks.closed_while_held`, in the same transaction). A delivery that cannot
be made into a task rolls back and is kept with its reason; one that fails authentication is
refused before anything is read or written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import asyncpg

from queues.db import Connection, transaction
from queues.errors import InvalidTransition, UnknownTaskType
from queues.lifecycle import Lifecycle
from queues.models import TaskIn, TaskOut
from queues.tasks import Tasks
from task_sources.batch import GroupCommit, Result
from task_sources.config import SourceCatalog
from task_sources.connector import Delivery, Reply, SourceConfig, digest
from task_sources.errors import MappingFailed, RejectNotFound, Unreadable
from task_sources.mapping import CompiledMapping
from task_sources.models import (
    DeliveryOutcome,
    Outcome,
    PreviewIn,
    PreviewOut,
    RejectOut,
    TaskPreview,
)
from task_sources.store import SourceStore

UNHELD = ("queued", "offered")
"""The states a close at the source cancels: nobody has started the work."""
FINISHED = ("done", "cancelled")


def actor(source: str) -> str:
    """Who a source's changes are by, on the tasks' timelines."""
    return f"source:{source}"


class SourceHooks(Protocol):
    """What the service does when a source closes a record someone is working on."""

    async def closed_while_held(self, conn: Connection, source: str, task: TaskOut) -> None:
        """Called in the delivery's transaction (tell the holder)."""
        ...


class _Rejected(Exception):
    def __init__(self, field: str | None, reason: str) -> None:
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class Received:
    """What became of a body: each delivery's outcome, and the answer for the vendor."""

    outcomes: list[DeliveryOutcome]
    reply: Reply


class Intake:
    def __init__(
        self,
        pool: asyncpg.Pool,
        catalog: SourceCatalog,
        *,
        hooks: SourceHooks | None = None,
    ) -> None:
        self._pool = pool
        self.catalog = catalog
        self.hooks = hooks
        self._groups: dict[str, GroupCommit] = {}

    async def receive(
        self, name: str, headers: Mapping[str, str], body: bytes, now: datetime
    ) -> Received:
        """Authenticate a vendor's body (:class:`~task_sources.errors.SourceAuthFailed`, stored
        nowhere), read it, and apply each delivery in it."""
        config = await self.catalog.config(name)
        connector = self.catalog.connector(config.kind)
        lowered = {k.lower(): v for k, v in headers.items()}
        connector.authenticate(config, lowered, body, now)
        kept = {k: v for k, v in lowered.items() if k in connector.remap_headers}
        try:
            deliveries = connector.deliveries(config, lowered, body)
        except Unreadable as exc:
            reject_id = await self._reject(
                config, digest(body), None, kept, body, None, None, str(exc)
            )
            outcome = DeliveryOutcome(
                delivery_id=digest(body), outcome="rejected", reject_id=reject_id, reason=str(exc)
            )
            return Received([outcome], connector.reply(config, [outcome]))
        outcomes = [await self.apply(config, d, now, kept, body) for d in deliveries]
        return Received(outcomes, connector.reply(config, outcomes))

    async def apply(
        self,
        config: SourceConfig,
        delivery: Delivery,
        now: datetime,
        headers: Mapping[str, str],
        body: bytes,
        *,
        retry: bool = False,
    ) -> DeliveryOutcome:
        """Apply one delivery, or keep it as a reject (``retry``: of a reject kept before)."""
        try:
            mapping = self.catalog.mapping(config)
            if delivery.action == "upsert" and delivery.version is None and not retry:
                batched = await self._batched(config, mapping, delivery, now)
                if batched is not None:
                    return batched
            async with transaction(self._pool) as conn:
                return await self._apply(conn, config, mapping, delivery, now)
        except _Rejected as exc:
            reject_id = await self._reject(
                config,
                delivery.delivery_id,
                delivery.action,
                headers,
                body,
                delivery.event,
                exc.field,
                exc.reason,
                counted=not retry,
            )
            return DeliveryOutcome(
                delivery_id=delivery.delivery_id,
                outcome="rejected",
                reject_id=reject_id,
                reason=_reason(exc.field, exc.reason),
            )

    async def _batched(
        self, config: SourceConfig, mapping: CompiledMapping, delivery: Delivery, now: datetime
    ) -> DeliveryOutcome | None:
        """A new or changed record, with the other deliveries of its source arriving meanwhile
        (:mod:`task_sources.batch`); ``None`` when it is to be applied on its own. A delivery
        that carries its record's version is always applied on its own, where an older one
        is told from a newer (:meth:`_outdated`)."""
        try:
            item = mapping.task(delivery.event, config.name, now)
        except MappingFailed:
            return None  # applied on its own: a repeat is a duplicate, else it is kept
        group = self._groups.get(config.name)
        if group is None:
            group = GroupCommit(self._pool, config.name, actor(config.name), self._update_queued)
            self._groups[config.name] = group
        try:
            outcome, task_id = await group.apply(delivery.delivery_id, item)
        except asyncpg.DeadlockDetectedError:
            return None  # the batch met a concurrent change of the same record: one by one
        if outcome == "unknown_type":
            raise _Rejected("type", str(UnknownTaskType(item.type)))
        return DeliveryOutcome(delivery_id=delivery.delivery_id, outcome=outcome, task_id=task_id)

    async def _update_queued(self, conn: Connection, item: TaskIn, task_id: int) -> Result:
        updated = await Tasks(conn).update_queued(task_id, item, actor(item.source))
        return ("updated" if updated is not None else "unchanged"), task_id

    async def _apply(
        self,
        conn: Connection,
        config: SourceConfig,
        mapping: CompiledMapping,
        delivery: Delivery,
        now: datetime,
    ) -> DeliveryOutcome:
        store = SourceStore(conn)
        did = delivery.delivery_id
        if not await store.first_delivery(config.name, did, delivery.action):
            return DeliveryOutcome(delivery_id=did, outcome="duplicate")
        try:
            outdated = await self._outdated(conn, config.name, mapping, delivery, now)
            if outdated is not None:
                outcome, task_id = outdated
            elif delivery.action == "close":
                external_id = mapping.external_id(delivery.event, config.name, now)
                outcome, task_id = await self._close(conn, config.name, external_id)
            else:
                item = mapping.task(delivery.event, config.name, now)
                outcome, task_id = await self._upsert(conn, config.name, item)
        except MappingFailed as exc:
            raise _Rejected(exc.field, exc.reason) from None
        await store.delivery_outcome(config.name, did, outcome, task_id)
        return DeliveryOutcome(delivery_id=did, outcome=outcome, task_id=task_id)

    async def _outdated(
        self,
        conn: Connection,
        name: str,
        mapping: CompiledMapping,
        delivery: Delivery,
        now: datetime,
    ) -> tuple[Outcome, int | None] | None:
        """``unchanged`` for a delivery older than (or as old as) the record's version already
        applied; else ``None``, and the delivery's version is now the record's latest."""
        if delivery.version is None:
            return None
        external_id = mapping.external_id(delivery.event, name, now)
        if await SourceStore(conn).newer_version(name, external_id, delivery.version):
            return None
        task = await Tasks(conn).by_key(name, external_id)
        return "unchanged", task.id if task is not None else None

    async def _upsert(self, conn: Connection, name: str, item: Any) -> tuple[Outcome, int | None]:
        tasks = Tasks(conn)
        (result,) = await tasks.create_many([item], actor(name))
        if result.outcome == "unknown_type":
            raise _Rejected("type", str(result.error))
        task = result.task
        assert task is not None
        if result.outcome == "created":
            return "created", task.id
        if result.outcome == "existing" or task.status != "queued":
            return "unchanged", task.id
        updated = await tasks.update_queued(task.id, item, actor(name))
        return ("updated" if updated is not None else "unchanged"), task.id

    async def _close(
        self, conn: Connection, name: str, external_id: str
    ) -> tuple[Outcome, int | None]:
        task = await Tasks(conn).by_key(name, external_id)
        if task is None:
            return "unknown_record", None
        if task.status in FINISHED:
            return "unchanged", task.id
        reason = f"closed at the source ({name})"
        try:
            await Lifecycle(conn).cancel(task.id, actor(name), reason, only=UNHELD)
        except InvalidTransition:
            current = await Tasks(conn).one(task.id)
            if current is None or current.status in FINISHED:
                return "unchanged", task.id
            await Tasks(conn).note(task.id, "source_closed", actor(name), reason)
            if self.hooks is not None:
                await self.hooks.closed_while_held(conn, name, current)
            return "holder_told", task.id
        return "closed", task.id

    async def _reject(
        self,
        config: SourceConfig,
        delivery_id: str,
        action: Any,
        headers: Mapping[str, str],
        body: bytes,
        event: dict[str, Any] | None,
        field: str | None,
        reason: str,
        *,
        counted: bool = True,
    ) -> int:
        return await SourceStore(self._pool).keep_reject(
            config.name, delivery_id, action, headers, body, event, reason, field, counted=counted
        )

    async def rejects(
        self, name: str, *, include_retried: bool = False, before: int | None, limit: int
    ) -> list[RejectOut]:
        """The source's rejects, newest first; those a retry resolved only when asked."""
        await self.catalog.config(name)
        rows = await SourceStore(self._pool).rejects(
            name, include_retried=include_retried, before=before, limit=limit
        )
        return [reject_out(r) for r in rows]

    async def retry(self, name: str, reject_id: int, now: datetime) -> list[DeliveryOutcome]:
        """Map a reject again (after its mapping or task type was fixed). What still cannot
        be made into a task raises :class:`~task_sources.errors.MappingFailed`, and the reject
        keeps the new reason."""
        store = SourceStore(self._pool)
        row = await store.reject(name, reject_id)
        if row is None:
            raise RejectNotFound(name, reject_id)
        config = await self.catalog.config(name)
        connector = self.catalog.connector(config.kind)
        headers = dict(row["headers"])
        body = bytes(row["body"])
        deliveries: Sequence[Delivery]
        if row["event"] is not None:
            deliveries = [Delivery(row["delivery_id"], dict(row["event"]), row["action"])]
        else:
            try:
                deliveries = connector.deliveries(config, headers, body)
            except Unreadable as exc:
                await store.reject_again(name, reject_id, str(exc), None)
                raise MappingFailed(None, str(exc)) from None
        outcomes = [await self.apply(config, d, now, headers, body, retry=True) for d in deliveries]
        failed = [o for o in outcomes if o.outcome == "rejected"]
        if row["event"] is None and not failed:
            await store.delivery_outcome(name, row["delivery_id"], "retried", None)
        if failed and failed[0].delivery_id == row["delivery_id"]:
            raise MappingFailed(None, failed[0].reason or "rejected")
        return outcomes

    async def preview(self, name: str, body: PreviewIn, now: datetime) -> PreviewOut:
        """The task a delivery would make, with the source's mapping or ``body.mapping``;
        nothing is written."""
        config = await self.catalog.config(name)
        mapping = self.catalog.mapping(config, body.mapping)
        try:
            if body.action == "close":
                external_id = mapping.external_id(body.event, name, now)
                task = None
            else:
                item = mapping.task(body.event, name, now)
                external_id = item.external_id
                task = TaskPreview.model_validate(item.model_dump())
        except MappingFailed as exc:
            return PreviewOut(
                action=body.action, task=None, error=_reason(exc.field, exc.reason), field=exc.field
            )
        existing = await Tasks(self._pool).by_key(name, external_id)
        return PreviewOut(
            action=body.action,
            task=task,
            existing_task_id=existing.id if existing else None,
            existing_status=existing.status if existing else None,
        )


def _reason(field: str | None, reason: str) -> str:
    return f"{field}: {reason}" if field else reason


def reject_out(row: Any) -> RejectOut:
    return RejectOut(
        id=row["id"],
        delivery_id=row["delivery_id"],
        action=row["action"],
        reason=row["reason"],
        field=row["field"],
        event=row["event"],
        body=bytes(row["body"]).decode("utf-8", "replace"),
        times=row["times"],
        created_at=row["created_at"],
        last_at=row["last_at"],
        retried_at=row["retried_at"],
        task_id=row["task_id"],
    )

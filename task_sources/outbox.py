"""The sender of the write-back outbox: each lifecycle event of a source's task told to the
source, once, after the transaction that made it committed.

Rows are queued by the database in the transaction of the task event (the trigger of
``migrations/0018_task_sources.sql``), whatever path wrote it. This sends them on every
instance (a row is leased by one sender at a time):

- **in order per task**: a task's write-back is not sent while an earlier one of the same task
  is pending, so a completion never overtakes its claim;
- **exactly once**: a row is marked done in the transaction that puts the success on the
  task's timeline; its idempotency key, one per event, goes to vendors that take one, so an
  answer lost on the way back does not make a second change. For vendors that take none, a
  write-back of several calls records which of them the vendor took (``progress``, kept when a
  later call fails) so that a retry resumes after them, and a retry (``attempt`` > 1) looks for
  the comment an earlier try may have left (marked with the key) before posting it again;
- **throttling** (429): the whole source waits its ``Retry-After`` (or a backoff), without it
  counting as a failure: the rows are put off in the database (for every instance), and this
  sender holds back the source's rows it has already leased and wakes when the wait ends, so
  that a rate-limited vendor is kept busy at its limit rather than polled past it;
- **unreachable or 5xx**: retried with a growing backoff (or the vendor's ``Retry-After``) up
  to ``max_attempts``; **refused** (other 4xx): failed at once.
  A failure is put on the task's timeline and handed to :meth:`WriteBackHooks.failed` in the
  transaction that marks it (the service tells the supervisors there).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import aiohttp
import asyncpg

from clock import Clock
from queues.db import Connection, load_queries, transaction
from queues.tasks import Tasks
from task_sources.config import SourceCatalog
from task_sources.connector import Progress, WriteBack
from task_sources.errors import Permanent, Retryable, SourceNotFound, SourcesError
from task_sources.intake import actor

log = logging.getLogger(__name__)
_SQL = load_queries("task_sources", "outbox.sql")


@dataclass(frozen=True)
class OutboxSettings:
    max_attempts: int = 8
    """Failed attempts (unreachable, 5xx) before a write-back is given up."""
    longest_backoff: float = 300
    send_seconds: float = 15
    """The longest one send may take; longer counts as unreachable."""
    lease_seconds: float = 60
    batch: int = 50
    concurrency: int = 8


@dataclass(frozen=True)
class Failure:
    """A write-back given up: what the supervisors are told."""

    writeback_id: int
    source: str
    event: str
    task_id: int
    external_id: str
    title: str
    detail: str


class WriteBackHooks(Protocol):
    """What the service does with the outbox's outcomes (metrics, telling people)."""

    def sent(self, source: str, event: str) -> None: ...

    def retried(self, source: str, event: str, throttled: bool) -> None: ...

    async def failed(self, conn: Connection, failure: Failure) -> None:
        """Called in the transaction that marks the write-back failed."""
        ...


def write_back_of(row: Any) -> WriteBack:
    """The row as its connector sees it. Its ``attempt`` counts the tries that may have reached
    the vendor: those that failed (not those throttled, which the vendor refused) and those
    whose sender stopped before saying how they went."""
    p = row["payload"]
    return WriteBack(
        id=row["id"],
        idempotency_key=row["idempotency_key"],
        event=row["event"],
        task_id=row["task_id"],
        external_id=p["external_id"],
        title=p["title"],
        type=p["type"],
        status=p.get("status"),
        actor=p["actor"],
        at=str(p["at"]),
        reason=p.get("reason"),
        outcome=p.get("outcome"),
        step=p.get("step"),
        steps=p.get("steps"),
        holder=p.get("holder"),
        payload=p.get("payload") or {},
        attempt=row["attempts"] + 1 + int(bool(row.get("abandoned"))),
        progress=Progress(row.get("progress")),
    )


class WriteBackOutbox:
    def __init__(
        self,
        pool: asyncpg.Pool,
        catalog: SourceCatalog,
        *,
        clock: Clock,
        settings: OutboxSettings | None = None,
        hooks: WriteBackHooks | None = None,
    ) -> None:
        self._pool = pool
        self.catalog = catalog
        self._clock = clock
        self.settings = settings or OutboxSettings()
        self.hooks = hooks
        self._wake = asyncio.Event()
        self._http: aiohttp.ClientSession | None = None
        self._limit = asyncio.Semaphore(self.settings.concurrency)
        self._paused: dict[str, datetime] = {}
        """Until when each throttled source is not to be called (this sender's own view)."""
        self.sent = 0
        self.failed = 0

    def kick(self) -> None:
        """A write-back was queued: send it now rather than at the next poll."""
        self._wake.set()

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None:
            timeout = aiohttp.ClientTimeout(total=self.settings.send_seconds)
            self._http = aiohttp.ClientSession(timeout=timeout)
            # aiohttp sends a PUT (Zendesk's ticket update) again at once when the connection
            # drops before the answer, though the vendor may have applied it: retries are the
            # outbox's, which looks for what a lost answer may have left first. (aiohttp's own
            # test client turns its replay off the same way; there is no public switch.)
            self._http._retry_connection = False
        return self._http

    async def send_due(self) -> int:
        """Send every write-back due now, once; return how many were tried."""
        s = self.settings
        rows = await self._pool.fetch(
            _SQL["lease_due"], self._clock.now(), s.batch, s.lease_seconds
        )
        await asyncio.gather(*(self._send(row) for row in rows))
        return len(rows)

    async def drain(self, within: float = 10) -> None:
        """Send until nothing is due now (write-backs put off for later stay put off)."""
        async with asyncio.timeout(within):
            while await self.send_due():
                pass

    async def run(self, poll: float = 1.0, *, longest_wait: float = 60.0) -> None:
        """Send for ever: woken by :meth:`kick`, or every ``poll`` seconds (the trigger queues
        write-backs in any transaction). A failing round (the database away) is logged once and
        waited out with a growing pause."""
        failures = 0
        while True:
            wait = poll
            try:
                while await self.send_due():
                    pass
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                failures += 1
                wait = min(poll * 2**failures, longest_wait)
                if failures == 1:
                    log.warning("write-back round failed (%s); backing off", exc)
            else:
                failures = 0
            if failures == 0:
                wait = self._until_resumed(wait)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._wake.wait()
            self._wake.clear()

    def _until_resumed(self, wait: float) -> float:
        """``wait``, or less when a throttled source may be called again sooner."""
        now = self._clock.now()
        for source, until in list(self._paused.items()):
            if until <= now:
                del self._paused[source]
            else:
                wait = min(wait, (until - now).total_seconds())
        return wait

    async def _send(self, row: Any) -> None:
        event = write_back_of(row)
        source = row["source"]
        async with self._limit:
            paused = self._paused.get(source)
            if paused is not None and paused > self._clock.now():
                await self._pool.execute(_SQL["put_off"], row["id"], paused)
                return
            try:
                config = await self.catalog.config(source)
                connector = self.catalog.connector(config.kind)
                async with asyncio.timeout(self.settings.send_seconds):
                    await connector.write_back(self._session(), config, event)
            except Retryable as exc:
                await self._retry(row, event, exc)
            except (Permanent, SourceNotFound) as exc:
                await self._fail(row, event, str(exc), counted=True)
            except SourcesError as exc:
                await self._fail(row, event, f"{source}: {exc}", counted=True)
            except (TimeoutError, aiohttp.ClientError, OSError) as exc:
                text = f"{type(exc).__name__}: {exc}" if str(exc) else "no answer in time"
                await self._retry(row, event, Retryable(f"{source}: {text}"))
            except Exception as exc:  # a connector's bug must not stop the sender: retried
                log.exception("write-back %s to %s failed", row["id"], source)
                await self._retry(row, event, Retryable(f"{source}: {type(exc).__name__}: {exc}"))
            else:
                await self._done(row, event)

    async def _done(self, row: Any, event: WriteBack) -> None:
        now = self._clock.now()
        async with transaction(self._pool) as conn:
            done = await conn.fetchval(_SQL["done"], row["id"], now, event.progress.done)
            if done is None:
                return
            await Tasks(conn).note(
                row["task_id"],
                "written_back",
                actor(row["source"]),
                None,
                {"event": event.event, "source": row["source"]},
            )
        self.sent += 1
        if self.hooks is not None:
            self.hooks.sent(row["source"], row["event"])

    async def _retry(self, row: Any, event: WriteBack, exc: Retryable) -> None:
        now = self._clock.now()
        if exc.throttled:
            wait = exc.retry_after if exc.retry_after is not None else self._backoff(1)
            until = now + timedelta(seconds=wait)
            source = row["source"]
            self._paused[source] = max(until, self._paused.get(source, until))
            await self._pool.execute(_SQL["defer_source"], source, until, row["id"])
            await self._pool.execute(
                _SQL["retry"], row["id"], until, row["attempts"], str(exc), event.progress.done
            )
        else:
            attempts = row["attempts"] + 1
            if attempts >= self.settings.max_attempts:
                await self._fail(row, event, f"{exc} ({attempts} attempts)", counted=True)
                return
            wait = exc.retry_after if exc.retry_after is not None else self._backoff(attempts)
            at = now + timedelta(seconds=wait)
            await self._pool.execute(
                _SQL["retry"], row["id"], at, attempts, str(exc), event.progress.done
            )
        if self.hooks is not None:
            self.hooks.retried(row["source"], row["event"], exc.throttled)

    def _backoff(self, attempts: int) -> float:
        return float(min(self.settings.longest_backoff, 2 ** (attempts - 1)))

    async def _fail(self, row: Any, event: WriteBack, detail: str, *, counted: bool) -> None:
        now = self._clock.now()
        payload = row["payload"]
        async with transaction(self._pool) as conn:
            marked = await conn.fetchval(
                _SQL["fail"], row["id"], now, detail, int(counted), event.progress.done
            )
            if marked is None:
                return
            await Tasks(conn).note(
                row["task_id"],
                "write_back_failed",
                actor(row["source"]),
                detail[:500],
                {"event": row["event"], "source": row["source"]},
            )
            log.warning("write-back %s to %s given up: %s", row["id"], row["source"], detail)
            self.failed += 1
            if self.hooks is not None:
                failure = Failure(
                    row["id"],
                    row["source"],
                    row["event"],
                    row["task_id"],
                    payload["external_id"],
                    payload["title"],
                    detail,
                )
                await self.hooks.failed(conn, failure)

"""Bulk import of tasks and agents from CSV files, reporting every bad row by line."""

from __future__ import annotations

import asyncio
import csv
import itertools
import json
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg
from pydantic import TypeAdapter, ValidationError

from queues.db import Connection, Executor, transaction
from queues.errors import QueuesError
from queues.history import (
    HISTORY_COLUMNS,
    ClosedTaskIn,
    check_closed,
    insert_closed,
    roll_up_again,
    type_facts,
)
from queues.models import AgentId, AgentIn, TaskIn
from queues.roster import Roster
from queues.tasks import Tasks

Progress = Callable[[int], None]
"""Called with the number of bytes read since the previous call."""

TASK_COLUMNS = (
    "source",
    "external_id",
    "type",
    "title",
    "customer_ref",
    "customer_tier",
    "value",
    "due_at",
    "payload",
)
"""The columns of open tasks; with :data:`HISTORY_COLUMNS`, all a task file may have."""
TASK_REQUIRED = ("source", "external_id", "type", "title")
ROSTER_COLUMNS = (
    "agent_id",
    "name",
    "slack_user_id",
    "team",
    "cost_per_hour",
    "queue",
    "email",
    "skills",
    "telephony_ids",
)
ROSTER_REQUIRED = ("agent_id", "name")


_AGENT_ID: TypeAdapter[str] = TypeAdapter(AgentId)


class ImportFileError(QueuesError):
    """The file as a whole cannot be imported (no header, unknown or missing columns)."""


@dataclass(frozen=True)
class RowError:
    line: int
    message: str


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    committed: bool = True
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0


class _Rollback(Exception):
    pass


async def _all_or_nothing(
    pool: asyncpg.Pool, run: Callable[[Connection], Awaitable[None]], report: ImportReport
) -> None:
    """Run the import in one transaction, rolled back if any row was bad."""
    try:
        async with transaction(pool) as conn:
            await run(conn)
            if report.errors:
                raise _Rollback
    except _Rollback:
        report.committed = False
        report.created = report.updated = report.unchanged = 0


def _lines(stream: Iterable[str], progress: Progress | None) -> Iterator[str]:
    for line in stream:
        if progress is not None:
            progress(len(line.encode()))
        yield line


def _records(
    stream: Iterable[str],
    columns: tuple[str, ...],
    required: tuple[str, ...],
    progress: Progress | None,
    seen_header: list[str] | None = None,
) -> Iterator[tuple[int, dict[str, str] | str]]:
    """Yield (line number, row with empty cells dropped, or what is wrong with the row); the
    header's names go into ``seen_header`` once read."""
    reader = csv.reader(_lines(stream, progress))
    first = next(reader, None)
    if first is None:
        raise ImportFileError("the file is empty: expected a header row")
    header = [h.strip() for h in first]
    if seen_header is not None:
        seen_header.extend(header)
    unknown = [h for h in header if h not in columns]
    missing = [c for c in required if c not in header]
    if unknown or missing:
        parts = []
        if missing:
            parts.append(f"missing column(s) {', '.join(missing)}")
        if unknown:
            parts.append(f"unknown column(s) {', '.join(unknown)}")
        raise ImportFileError(f"{'; '.join(parts)}: the columns are {', '.join(columns)}")
    start = reader.line_num + 1
    for cells in reader:
        if cells and any(c.strip() for c in cells):
            if len(cells) != len(header):
                yield start, f"has {len(cells)} cells, the header has {len(header)}"
            else:
                yield start, {k: v for k, v in zip(header, cells, strict=True) if v != ""}
        start = reader.line_num + 1


def _describe(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc'] if p != '[key]') or 'row'}: {e['msg']}"
        for e in exc.errors(include_url=False)
    )


def parse_task(row: dict[str, str]) -> TaskIn:
    """An open task, or a closed one of the history when any history cell is filled."""
    data: dict[str, Any] = dict(row)
    if "payload" in data:
        try:
            data["payload"] = json.loads(data["payload"])
        except json.JSONDecodeError as exc:
            raise ValueError(f"payload: not valid JSON ({exc.msg})") from None
    if any(c in data for c in HISTORY_COLUMNS):
        return ClosedTaskIn.model_validate(data)
    return TaskIn.model_validate(data)


async def import_tasks(
    pool: asyncpg.Pool,
    stream: Iterable[str],
    *,
    actor: str,
    all_or_nothing: bool = False,
    batch_size: int = 5000,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> ImportReport:
    """Import tasks; valid rows are kept unless ``all_or_nothing`` and any row is bad.

    A file with history columns (closed tasks) is imported all or nothing: a year of history
    half loaded would teach the forecast a wrong year.
    """
    report = ImportReport()
    started = time.perf_counter()
    header: list[str] = []
    records = _records(stream, (*TASK_COLUMNS, *HISTORY_COLUMNS), TASK_REQUIRED, progress, header)
    first = next(records, None)
    rows = itertools.chain([first] if first is not None else [], records)
    if any(c in header for c in HISTORY_COLUMNS):
        await _import_history(pool, rows, report, actor=actor, batch_size=batch_size, now=now)
        report.seconds = time.perf_counter() - started
        return report

    async def flush(conn: Connection, batch: list[tuple[int, TaskIn]]) -> None:
        results = await Tasks(conn).create_many([item for _, item in batch], actor, rows=False)
        for (line, _), result in zip(batch, results, strict=True):
            if result.error is not None:
                report.errors.append(RowError(line, str(result.error)))
            elif result.outcome == "created":
                report.created += 1
            else:
                report.unchanged += 1

    async def run(conn: Connection | None) -> None:
        # The database inserts batches while the next one is parsed: the parser yields to the
        # event loop now and then, so that pending inserts make progress meanwhile. Without a
        # shared transaction, two batches go in at once, on two connections.
        batch: list[tuple[int, TaskIn]] = []
        pending: list[asyncio.Task[None]] = []
        in_flight = 1 if conn is not None else 2
        try:
            for line, row in rows:
                parse_row(line, row, batch)
                if len(batch) >= batch_size:
                    if len(pending) >= in_flight:
                        await pending.pop(0)
                    pending.append(asyncio.create_task(_flush_with(conn, batch)))
                    batch = []
                    await asyncio.sleep(0)
                elif report.rows % 250 == 0:
                    await asyncio.sleep(0)
            if batch:
                pending.append(asyncio.create_task(_flush_with(conn, batch)))
            while pending:
                await pending.pop(0)
        finally:
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    def parse_row(line: int, row: dict[str, str] | str, batch: list[tuple[int, TaskIn]]) -> None:
        report.rows += 1
        problem = row if isinstance(row, str) else None
        if not isinstance(row, str):
            try:
                batch.append((line, parse_task(row)))
            except ValidationError as exc:
                problem = _describe(exc)
            except ValueError as exc:
                problem = str(exc)
        if problem is not None:
            report.errors.append(RowError(line, problem))

    async def _flush_with(conn: Connection | None, batch: list[tuple[int, TaskIn]]) -> None:
        if conn is not None:
            await flush(conn, batch)
        else:
            async with pool.acquire() as own:
                await flush(own, batch)

    if all_or_nothing:
        await _all_or_nothing(pool, run, report)
    else:
        await run(None)
    report.errors.sort(key=lambda e: e.line)
    report.seconds = time.perf_counter() - started
    return report


async def _import_history(
    pool: asyncpg.Pool,
    rows: Iterable[tuple[int, dict[str, str] | str]],
    report: ImportReport,
    *,
    actor: str,
    batch_size: int,
    now: datetime | None,
) -> None:
    """Open and closed tasks in one transaction, rolled back if any row is bad."""

    async def run(conn: Connection) -> None:
        types = await type_facts(conn)
        moment = now if now is not None else await conn.fetchval("SELECT now()")
        closed: list[tuple[int, ClosedTaskIn]] = []
        open_: list[tuple[int, TaskIn]] = []
        worked: set[tuple[datetime, datetime]] = set()

        async def flush() -> None:
            if closed:
                written = await insert_closed(conn, [i for _, i in closed], types, actor)
                worked.update(written.worked)
                for (line, item), (outcome, task_id) in zip(closed, written.outcomes, strict=True):
                    if outcome == "conflict":
                        report.errors.append(
                            RowError(
                                line,
                                f"task {item.source}/{item.external_id} exists (id {task_id}) "
                                "with a different body",
                            )
                        )
                    elif outcome == "created":
                        report.created += 1
                    else:
                        report.unchanged += 1
                closed.clear()
            if open_:
                results = await Tasks(conn).create_many([i for _, i in open_], actor, rows=False)
                for (line, _), result in zip(open_, results, strict=True):
                    if result.error is not None:
                        report.errors.append(RowError(line, str(result.error)))
                    elif result.outcome == "created":
                        report.created += 1
                    else:
                        report.unchanged += 1
                open_.clear()

        for line, row in rows:
            report.rows += 1
            problem = row if isinstance(row, str) else None
            if not isinstance(row, str):
                try:
                    item = parse_task(row)
                except ValidationError as exc:
                    problem = _describe(exc)
                except ValueError as exc:
                    problem = str(exc)
                else:
                    if isinstance(item, ClosedTaskIn):
                        problem = check_closed(item, types, moment)
                        if problem is None:
                            closed.append((line, item))
                    else:
                        open_.append((line, item))
            if problem is not None:
                report.errors.append(RowError(line, problem))
            if report.errors:
                closed.clear()
                open_.clear()  # nothing will be kept: only the rows' checks go on
            elif len(closed) + len(open_) >= batch_size:
                await flush()
        if not report.errors:
            await flush()
            # The days already rolled up that the history reached are rolled up again, in
            # this transaction (a day of the reports' roll-up reads what the log says).
            await roll_up_again(conn, worked)

    await _all_or_nothing(pool, run, report)
    report.errors.sort(key=lambda e: e.line)


def _pairs(cell: str, what: str) -> dict[str, str]:
    """``"mortgage=3;billing=2"`` → ``{"mortgage": "3", "billing": "2"}``."""
    out: dict[str, str] = {}
    for part in cell.split(";"):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        if not sep:
            raise ValueError(f"{what}: {part.strip()!r} is not name=value")
        out[key.strip()] = value.strip()
    return out


def parse_agent(row: dict[str, str]) -> tuple[str, AgentIn]:
    data: dict[str, Any] = {k: v for k, v in row.items() if k != "agent_id"}
    if "skills" in data:
        data["skills"] = _pairs(data["skills"], "skills")
    if "telephony_ids" in data:
        data["telephony_ids"] = _pairs(data["telephony_ids"], "telephony_ids")
    return row.get("agent_id", "").strip(), AgentIn.model_validate(data)


async def import_roster(
    pool: asyncpg.Pool,
    stream: Iterable[str],
    *,
    all_or_nothing: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Import agents (one row each, skills as ``name=level;...``); an agent id twice is an error."""
    report = ImportReport()
    started = time.perf_counter()
    seen: dict[str, int] = {}

    async def run(db: Executor) -> None:
        for line, row in _records(stream, ROSTER_COLUMNS, ROSTER_REQUIRED, progress):
            report.rows += 1
            problem = row if isinstance(row, str) else None
            if not isinstance(row, str):
                try:
                    agent_id, body = parse_agent(row)
                    _AGENT_ID.validate_python(agent_id)
                    if agent_id in seen:
                        raise ValueError(
                            f"agent_id {agent_id!r} appears again (first on line {seen[agent_id]})"
                        )
                    seen[agent_id] = line
                    if await Roster(db).put(agent_id, body, by="import"):
                        report.created += 1
                    else:
                        report.updated += 1
                except ValidationError as exc:
                    problem = _describe(exc)
                except (ValueError, QueuesError) as exc:
                    problem = str(exc)
            if problem is not None:
                report.errors.append(RowError(line, problem))

    if all_or_nothing:
        await _all_or_nothing(pool, run, report)
    else:
        await run(pool)
    report.seconds = time.perf_counter() - started
    return report

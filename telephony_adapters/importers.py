"""``blendbot import intervals`` and ``blendbot import schedule``: CSV files into the store,
all or nothing."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from blending.errors import UnknownAgent
from blending.telemetry_store import TelemetryStore
from queues.db import Executor, transaction
from telephony_adapters._fields import validation_reason
from telephony_adapters.errors import AdapterError, MalformedPayload
from telephony_adapters.generic import SOURCE, parse_intervals_csv, parse_schedule_csv


@dataclass
class ImportResult:
    rows: int = 0
    agents: int = 0
    errors: list[str] = field(default_factory=list)


async def import_intervals(db: Executor, path: Path, *, interval_minutes: int) -> ImportResult:
    """Per-interval history (``queue, interval_start, offered, answered, abandoned,
    aht_seconds``): each interval's figures replace what it held. Raises
    :class:`~telephony_adapters.errors.MalformedPayload` naming the bad line."""
    rows = parse_intervals_csv(await asyncio.to_thread(path.read_text, "utf-8"), interval_minutes)
    async with transaction(db) as conn:
        count = await TelemetryStore(conn, interval_minutes=interval_minutes).import_intervals(rows)
    return ImportResult(rows=count, agents=0)


async def import_schedule(db: Executor, path: Path) -> ImportResult:
    """Shifts and breaks (``agent_id, kind, start, end``); each agent's entries replace what
    overlapped them. An unknown agent refuses the whole file. A time without an offset is on
    the agent's site clock, or UTC for an agent in no site (as before sites existed)."""
    schedules = parse_schedule_csv(await asyncio.to_thread(path.read_text, "utf-8"))
    result = ImportResult()
    async with transaction(db) as conn:
        store = TelemetryStore(conn)
        for agent_id in sorted(schedules):
            try:
                kept = await store.put_schedule(agent_id, schedules[agent_id])
            except UnknownAgent as exc:
                result.errors.append(str(exc))
                continue
            except ValidationError as exc:
                raise MalformedPayload(
                    SOURCE, f"agent {agent_id}: {validation_reason(exc)}"
                ) from None
            result.rows += len(kept)
            result.agents += 1
        if result.errors:
            raise AdapterError(
                f"{len(result.errors)} unknown agents, nothing imported: "
                + ", ".join(result.errors[:5])
            )
    return result

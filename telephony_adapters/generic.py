"""The generic feed: normalized events as JSON, and the CSV files every ACD can export.

Events: a JSON list of objects ``{"type", "event_id", "at", "queue", "call_id", "agent_id",
"state", "talk_seconds", "wrap_seconds", ...}`` with the fields their type needs (see
:mod:`blending.events`). Interval history: ``queue, interval_start, offered, answered,
abandoned, aht_seconds`` (and optionally ``answered_in_sl``). Schedules: ``agent_id, kind,
start, end`` with ``kind`` one of ``shift``, ``break``.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from blending.events import EVENT, Parsed, Rejected
from blending.interval_stats import interval_start
from blending.presence import Schedule, ScheduleEntry
from blending.telemetry_store import IntervalRow
from queues.bounds import MalformedJson, loads
from telephony_adapters._fields import timestamp, validation_reason, wall_timestamp
from telephony_adapters.errors import MalformedPayload

SOURCE = "generic"
MAX_EVENTS = 10_000


def parse(payload: Any) -> Parsed:
    """A JSON list of events (already decoded, or as bytes). A body that is not such a list
    is refused whole; an event that cannot be read is rejected alone, with the reason."""
    if isinstance(payload, bytes | str):
        try:
            payload = loads(payload)
        except MalformedJson as exc:
            raise MalformedPayload(SOURCE, f"body is not JSON: {exc.detail}") from None
    if not isinstance(payload, list):
        raise MalformedPayload(SOURCE, "body must be a JSON list of events")
    if len(payload) > MAX_EVENTS:
        raise MalformedPayload(SOURCE, f"at most {MAX_EVENTS} events per request")
    parsed = Parsed()
    for index, item in enumerate(payload):
        try:
            parsed.events.append(EVENT.validate_python(item))
        except ValidationError as exc:
            record = json.dumps(item).encode()
            parsed.rejected.append(Rejected(f"event {index}", validation_reason(exc), record))
    return parsed


_INTERVAL_COLUMNS = {
    "queue": ("queue", "queue_name", "skill"),
    "interval_start": ("interval_start", "interval", "start", "timestamp", "ds"),
    "offered": ("offered", "calls_offered", "calls"),
    "answered": ("answered", "calls_answered", "handled"),
    "abandoned": ("abandoned", "calls_abandoned"),
    "aht_seconds": ("aht_seconds", "aht", "average_handle_time"),
    "answered_in_sl": ("answered_in_sl",),
}


def _header(found: Iterable[str], wanted: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    names = {n.strip().lower(): n for n in found}
    out = {}
    for key, aliases in wanted.items():
        for alias in aliases:
            if alias in names:
                out[key] = names[alias]
                break
    return out


def _count(value: str, what: str, line: int) -> int:
    try:
        number = int(value)
    except ValueError:
        raise MalformedPayload(SOURCE, f"line {line}: {what} is not a whole number") from None
    if number < 0:
        raise MalformedPayload(SOURCE, f"line {line}: {what} is negative")
    return number


def parse_intervals_csv(text: str, minutes: int) -> list[IntervalRow]:
    """Per-interval history; each start must sit on the ``minutes`` grid."""
    reader = csv.DictReader(io.StringIO(text))
    columns = _header(reader.fieldnames or [], _INTERVAL_COLUMNS)
    missing = [c for c in ("queue", "interval_start", "offered") if c not in columns]
    if missing:
        raise MalformedPayload(SOURCE, f"intervals CSV has no column {', '.join(missing)}")
    rows: list[IntervalRow] = []
    seen: set[tuple[str, datetime]] = set()
    for line, record in enumerate(reader, start=2):

        def cell(key: str, record: dict[str, str] = record) -> str:
            return (record.get(columns[key]) or "").strip() if key in columns else ""

        queue = cell("queue")
        if not queue:
            raise MalformedPayload(SOURCE, f"line {line}: queue is empty")
        start = timestamp(SOURCE, cell("interval_start"), f"line {line}: interval_start")
        if interval_start(start, minutes) != start:
            raise MalformedPayload(
                SOURCE, f"line {line}: {start.isoformat()} is not on the {minutes}-minute grid"
            )
        if (queue, start) in seen:
            raise MalformedPayload(SOURCE, f"line {line}: {queue} {start.isoformat()} repeated")
        seen.add((queue, start))
        offered = _count(cell("offered"), "offered", line)
        answered = _count(cell("answered") or "0", "answered", line)
        abandoned = _count(cell("abandoned") or "0", "abandoned", line)
        if answered + abandoned > offered:
            raise MalformedPayload(SOURCE, f"line {line}: answered + abandoned exceed offered")
        aht: float | None = None
        if cell("aht_seconds"):
            try:
                aht = float(cell("aht_seconds"))
            except ValueError:
                raise MalformedPayload(SOURCE, f"line {line}: aht is not a number") from None
            if not 0 <= aht < 86_400:
                raise MalformedPayload(SOURCE, f"line {line}: aht is out of range")
        in_sl = (
            _count(cell("answered_in_sl"), "answered_in_sl", line)
            if cell("answered_in_sl")
            else None
        )
        rows.append(IntervalRow(queue, start, offered, answered, abandoned, aht, in_sl))
    return rows


def parse_schedule_csv(text: str) -> dict[str, Schedule]:
    """Shifts and breaks per agent: ``agent_id, kind, start, end``; times without an offset
    are kept so, to be read on the agent's site clock when the schedule is stored."""
    reader = csv.DictReader(io.StringIO(text))
    wanted = {
        "agent_id": ("agent_id", "agent"),
        "kind": ("kind", "type"),
        "start": ("start", "starts_at"),
        "end": ("end", "ends_at"),
    }
    columns = _header(reader.fieldnames or [], wanted)
    missing = [c for c in wanted if c not in columns]
    if missing:
        raise MalformedPayload(SOURCE, f"schedule CSV has no column {', '.join(missing)}")
    entries: dict[str, list[ScheduleEntry]] = {}
    for line, record in enumerate(reader, start=2):
        agent = (record.get(columns["agent_id"]) or "").strip()
        if not agent:
            raise MalformedPayload(SOURCE, f"line {line}: agent_id is empty")
        try:
            entry = ScheduleEntry(
                kind=(record.get(columns["kind"]) or "").strip().lower(),
                start=wall_timestamp(SOURCE, (record.get(columns["start"]) or "").strip(), "start"),
                end=wall_timestamp(SOURCE, (record.get(columns["end"]) or "").strip(), "end"),
            )
        except ValidationError as exc:
            raise MalformedPayload(SOURCE, f"line {line}: {validation_reason(exc)}") from None
        except MalformedPayload as exc:
            raise MalformedPayload(SOURCE, f"line {line}: {exc.reason}") from None
        entries.setdefault(agent, []).append(entry)
    try:
        return {agent: Schedule(items=items) for agent, items in entries.items()}
    except ValidationError as exc:
        raise MalformedPayload(SOURCE, validation_reason(exc)) from None

"""The telephony store: events recorded once, with calls, interval statistics, presence and
queue reports brought up to date in the same transaction."""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from blending.errors import UnknownAgent
from blending.events import (
    AgentStateChanged,
    CallAbandoned,
    CallAnswered,
    CallArrived,
    CallEnded,
    CallEvent,
    Event,
    Parsed,
    QueueSnapshot,
    Rejected,
)
from blending.interval_stats import Call, IntervalOut, QueueOut, deltas, fold_all
from blending.presence import (
    DEFAULT_HEARTBEAT_SECONDS,
    Line,
    PresenceList,
    PresenceOut,
    Schedule,
    ScheduleEntry,
    UnmatchedLine,
    reduce_states,
    resolve,
)
from blending.sites import SiteStore
from queues.bounds import printable
from queues.db import Connection, Executor, load_queries, transaction

log = logging.getLogger(__name__)
_SQL = load_queries("blending", "telemetry.sql")
_CALL_TYPES = (CallArrived, CallAnswered, CallAbandoned, CallEnded)
WAITING_HORIZON = timedelta(hours=4)
"""A call still "waiting" after this long lost its end event; it no longer counts as waiting."""


@dataclass(frozen=True)
class Recorded:
    """What became of one delivery."""

    new: int
    duplicates: int
    ignored: dict[str, int] = field(default_factory=dict)
    rejected: tuple[Rejected, ...] = ()
    """The records set aside: unreadable, or refused by the database."""
    agents: frozenset[str] = frozenset()
    """The feed's ids of the agents whose state the new events changed (presence, calls)."""


@dataclass(frozen=True)
class RejectedOut:
    """A record set aside."""

    source: str
    reason: str
    record: bytes
    delivery: str | None
    first_at: datetime
    last_at: datetime
    times: int


@dataclass(frozen=True)
class IntervalRow:
    """One interval of an ACD export."""

    queue: str
    interval_start: datetime
    offered: int
    answered: int
    abandoned: int
    aht_seconds: float | None
    answered_in_sl: int | None = None


def _agent_of(event: Event) -> str | None:
    return getattr(event, "agent_id", None)


def _call_row(call_id: str, call: Call) -> tuple[Any, ...]:
    return (
        call_id,
        call.queue,
        call.arrived_at,
        call.answered_at,
        call.abandoned_at,
        call.ended_at,
        call.agent_id,
        call.wait_seconds,
        call.talk_seconds,
        call.hold_seconds,
        call.wrap_seconds,
    )


def _columns(rows: Sequence[tuple[Any, ...]], width: int) -> list[list[Any]]:
    return [[row[i] for row in rows] for i in range(width)]


class TelemetryStore:
    """Normalized telephony events in, statistics and presence out."""

    def __init__(
        self,
        db: Executor,
        *,
        interval_minutes: int = 15,
        service_level_seconds: float = 20,
        heartbeats: Mapping[str, float] = DEFAULT_HEARTBEAT_SECONDS,
    ) -> None:
        self._db = db
        self.interval_minutes = interval_minutes
        self.service_level_seconds = service_level_seconds
        self.heartbeats = dict(heartbeats)
        self.listeners: list[Callable[[Recorded], None]] = []
        """Told of each delivery that changed agents' states, once it is committed (the
        interruptible mode pauses work as soon as the feed shows an agent on a call)."""

    async def record(
        self,
        source: str,
        parsed: Parsed,
        received_at: datetime,
        *,
        delivery: str | None = None,
    ) -> Recorded:
        """Record a delivery once: its events in one transaction, and the records that could
        not be read set aside with their reasons (``delivery`` names the delivery, when the
        sender does). Should the database refuse a value among the events, each event is
        tried alone and those refused are set aside too: one never sinks the others."""
        unique: dict[str, Event] = {}
        for event in parsed.events:
            unique.setdefault(event.event_id, event)
        events = list(unique.values())
        ignored: Counter[str] = Counter()
        for kind, count in parsed.ignored.items():
            ignored[printable(kind, 200)] += count
        rejected = list(parsed.rejected)
        try:
            async with transaction(self._db) as conn:
                stored = await self._store(conn, source, events, received_at)
                duplicates = len(parsed.events) - len(stored)
                await self._account(
                    conn, source, received_at, ignored, rejected, delivery, len(stored), duplicates
                )
            return self._told(
                Recorded(len(stored), duplicates, dict(ignored), tuple(rejected)), stored
            )
        except asyncpg.DataError as exc:
            log.warning("%s: a delivery holds a value that cannot be stored (%s)", source, exc)
        stored = []
        for event in events:
            try:
                async with transaction(self._db) as conn:
                    stored += await self._store(conn, source, [event], received_at)
            except asyncpg.DataError as exc:
                reason = f"cannot be stored: {type(exc).__name__}"
                rejected.append(Rejected(f"event {printable(event.event_id)}", reason, _raw(event)))
        fresh = len(stored)
        duplicates = len(parsed.events) - fresh - (len(rejected) - len(parsed.rejected))
        async with transaction(self._db) as conn:
            await self._account(
                conn, source, received_at, ignored, rejected, delivery, fresh, duplicates
            )
        return self._told(Recorded(fresh, duplicates, dict(ignored), tuple(rejected)), stored)

    def _told(self, recorded: Recorded, stored: list[Event]) -> Recorded:
        """``recorded`` with the agents the stored events are about, the listeners told."""
        agents = frozenset(a for e in stored if (a := _agent_of(e)) is not None)
        if not agents:
            return recorded
        recorded = replace(recorded, agents=agents)
        for listener in self.listeners:
            try:
                listener(recorded)
            except Exception:  # a listener's fault never loses the delivery
                log.exception("a telephony listener failed")
        return recorded

    async def _store(
        self, conn: Connection, source: str, events: list[Event], received_at: datetime
    ) -> list[Event]:
        """Insert the events not seen before and apply them; return the new ones."""
        if not events:
            return []
        rows = await conn.fetch(
            _SQL["insert_events"],
            source,
            received_at,
            [e.event_id for e in events],
            [e.type for e in events],
            [e.at for e in events],
            [_agent_of(e) for e in events],
            [getattr(e, "queue", None) for e in events],
            [getattr(e, "call_id", None) for e in events],
            [e.model_dump_json() for e in events],
        )
        new_ids = {r["event_id"] for r in rows}
        fresh = [e for e in events if e.event_id in new_ids]
        await self._apply(conn, source, fresh)
        return fresh

    async def _account(
        self,
        conn: Connection,
        source: str,
        received_at: datetime,
        ignored: Counter[str],
        rejected: list[Rejected],
        delivery: str | None,
        fresh: int,
        duplicates: int,
    ) -> None:
        """The ignored types counted, the rejected records set aside, the source touched."""
        if ignored:
            types = sorted(ignored)
            await conn.execute(
                _SQL["count_ignored"], source, received_at, types, [ignored[t] for t in types]
            )
        if rejected:
            aside = {hashlib.sha256(r.record).digest(): r for r in rejected}
            digests = sorted(aside)
            await conn.execute(
                _SQL["set_aside"],
                source,
                received_at,
                printable(delivery, 200) if delivery else None,
                digests,
                [printable(f"{aside[d].where}: {aside[d].reason}") for d in digests],
                [aside[d].record for d in digests],
            )
        await conn.execute(_SQL["touch_source"], source, received_at, fresh, duplicates)

    async def touch(self, source: str, at: datetime) -> None:
        """A keep-alive from a source: it is alive, though it has nothing to say."""
        await self._db.execute(_SQL["touch_source"], source, at, 0, 0)

    async def _apply(self, conn: Connection, source: str, events: list[Event]) -> None:
        calls = [e for e in events if isinstance(e, _CALL_TYPES)]
        if calls:
            await self._apply_calls(conn, source, calls)
        states = [e for e in events if isinstance(e, AgentStateChanged)]
        if states:
            updates = reduce_states(states)
            for changed in (False, True):
                group = [u for u in updates if u.changed is changed]
                if group:
                    await conn.execute(
                        _SQL["upsert_presence"],
                        source,
                        [u.agent_id for u in group],
                        [u.state for u in group],
                        [u.reason for u in group],
                        [u.since for u in group],
                        [u.state_at for u in group],
                        [u.last_seen for u in group],
                        changed,
                    )
        snapshots: dict[str, QueueSnapshot] = {}
        for event in events:
            if isinstance(event, QueueSnapshot):
                known = snapshots.get(event.queue)
                if known is None or event.at >= known.at:
                    snapshots[event.queue] = event
        if snapshots:
            latest = [snapshots[q] for q in sorted(snapshots)]
            await conn.execute(
                _SQL["upsert_snapshots"],
                source,
                [s.queue for s in latest],
                [s.at for s in latest],
                [s.calls_waiting for s in latest],
                [s.longest_wait_seconds for s in latest],
                [s.agents_available for s in latest],
                [s.agents_on_calls for s in latest],
            )

    async def _apply_calls(self, conn: Connection, source: str, events: list[CallEvent]) -> None:
        ids = sorted({e.call_id for e in events})
        await conn.execute(_SQL["claim_calls"], source, ids)
        rows = await conn.fetch(_SQL["lock_calls"], source, ids)
        before = {
            (source, r["call_id"]): Call(
                queue=r["queue"],
                arrived_at=r["arrived_at"],
                answered_at=r["answered_at"],
                abandoned_at=r["abandoned_at"],
                ended_at=r["ended_at"],
                agent_id=r["agent"],
                wait_seconds=r["wait_seconds"],
                talk_seconds=r["talk_seconds"],
                hold_seconds=r["hold_seconds"],
                wrap_seconds=r["wrap_seconds"],
            )
            for r in rows
        }
        after = fold_all(before, [(source, e) for e in events])
        changed = [(before.get(k, Call()), after[k]) for k in sorted(after)]
        updated = [_call_row(k[1], after[k]) for k in sorted(after) if after[k] != before.get(k)]
        if updated:
            await conn.execute(_SQL["update_calls"], source, *_columns(updated, 11))
        moved = deltas(changed, self.interval_minutes, self.service_level_seconds)
        if moved:
            keys = sorted(moved)
            values = [moved[k] for k in keys]
            await conn.execute(
                _SQL["add_interval_stats"],
                self.interval_minutes,
                [k[0] for k in keys],
                [k[1] for k in keys],
                [v.offered for v in values],
                [v.answered for v in values],
                [v.abandoned for v in values],
                [v.answered_in_sl for v in values],
                [v.handled for v in values],
                [v.handle_seconds for v in values],
                [v.wait_seconds for v in values],
            )

    async def presence(
        self, now: datetime, agent_ids: Sequence[str] | None = None, *, unmatched: bool = True
    ) -> PresenceList:
        """Every agent's state at ``now`` (or those of ``agent_ids``), and the telephony ids no
        agent has yet unless ``unmatched`` is off: an agent's own ask for work needs only their
        state, and counting the unmatched lines' events is no part of it."""
        sources = {r["source"]: r["last_seen"] for r in await self._db.fetch(_SQL["sources"])}
        rows = await self._db.fetch(
            _SQL["presence"], now, list(agent_ids) if agent_ids is not None else None
        )
        items = []
        for row in rows:
            lines = [
                Line(
                    source=x["source"],
                    state=x["state"],
                    reason=x["reason"],
                    since=datetime.fromisoformat(x["since"]),
                    state_at=datetime.fromisoformat(x["state_at"]),
                    last_seen=datetime.fromisoformat(x["last_seen"]),
                )
                for x in _json(row["lines"])
            ]
            schedule = [ScheduleEntry.model_validate(x) for x in _json(row["schedule"])]
            found = resolve(
                lines,
                schedule,
                row["on_task_since"],
                now,
                source_last_seen=sources,
                heartbeats=self.heartbeats,
            )
            items.append(
                PresenceOut(
                    agent_id=row["agent_id"],
                    state=found.state,
                    since=found.since,
                    source=found.source,
                )
            )
        lines_of_no_one = (
            [UnmatchedLine(**dict(r)) for r in await self._db.fetch(_SQL["unmatched"])]
            if unmatched
            else []
        )
        return PresenceList(items=items, unmatched=lines_of_no_one)

    async def intervals(self, queue: str, start: datetime, end: datetime) -> list[IntervalOut]:
        rows = await self._db.fetch(_SQL["intervals"], queue, start, end)
        out = []
        for r in rows:
            answered, handled = r["answered"], r["handled"]
            settled = answered + r["abandoned"]
            in_sl = r["answered_in_sl"]
            out.append(
                IntervalOut(
                    queue=r["queue"],
                    interval_start=r["interval_start"],
                    minutes=r["minutes"],
                    offered=r["offered"],
                    answered=answered,
                    abandoned=r["abandoned"],
                    handled=handled,
                    aht_seconds=r["handle_seconds"] / handled if handled else None,
                    asa_seconds=r["wait_seconds"] / answered
                    if answered and not r["imported"]
                    else None,
                    service_level=in_sl / settled if settled and in_sl is not None else None,
                    imported=r["imported"],
                    updated_at=r["updated_at"],
                )
            )
        return out

    async def queues(self, now: datetime) -> list[QueueOut]:
        rows = await self._db.fetch(_SQL["queues"], now - WAITING_HORIZON)
        out = []
        for r in rows:
            oldest = r["oldest"]
            derived_wait = max(0.0, (now - oldest).total_seconds()) if oldest else None
            out.append(
                QueueOut(
                    queue=r["queue"],
                    calls_waiting=r["waiting"] or 0,
                    longest_wait_seconds=derived_wait,
                    agents_available=r["agents_available"],
                    agents_on_calls=r["agents_on_calls"],
                    reported_by=r["source"],
                    reported_at=r["at"],
                )
            )
            if r["at"] is not None and r["calls_waiting"] is not None and not r["waiting"]:
                # No call events for this queue: the platform's own count is all there is.
                out[-1] = out[-1].model_copy(
                    update={
                        "calls_waiting": r["calls_waiting"],
                        "longest_wait_seconds": r["longest_wait_seconds"],
                    }
                )
        return out

    async def import_intervals(self, rows: Sequence[IntervalRow]) -> int:
        """Store an export's intervals, replacing what they held; return how many."""
        if not rows:
            return 0
        await self._db.execute(
            _SQL["import_intervals"],
            self.interval_minutes,
            [r.queue for r in rows],
            [r.interval_start for r in rows],
            [r.offered for r in rows],
            [r.answered for r in rows],
            [r.abandoned for r in rows],
            [r.answered_in_sl for r in rows],
            [(r.aht_seconds or 0.0) * r.answered for r in rows],
        )
        return len(rows)

    async def put_schedule(
        self, agent_id: str, schedule: Schedule, default_zone: str = "UTC"
    ) -> list[ScheduleEntry]:
        """Replace the agent's schedule over the schedule's span; return what it now holds.
        Times without an offset are read on the agent's site clock (``default_zone`` for an
        agent in no site); a schedule that is then invalid raises ``ValidationError``."""
        async with transaction(self._db) as conn:
            if await conn.fetchval(_SQL["lock_agent"], agent_id) is None:
                raise UnknownAgent(agent_id)
            if schedule.local:
                zone = await SiteStore(conn, default_zone).agent_zone(agent_id)
                schedule = schedule.on_clock(zone)
            span = schedule.span()
            if span is None:
                return []
            await conn.execute(_SQL["delete_schedule"], agent_id, span[0], span[1])
            items = schedule.items
            await conn.execute(
                _SQL["insert_schedule"],
                agent_id,
                [e.kind for e in items],
                [e.start for e in items],
                [e.end for e in items],
            )
            rows = await conn.fetch(_SQL["schedule"], agent_id, span[0], span[1])
        return [ScheduleEntry.model_validate(dict(r)) for r in rows]

    async def sources(self) -> list[dict[str, Any]]:
        return [dict(r) for r in await self._db.fetch(_SQL["sources"])]

    async def ignored(self) -> list[dict[str, Any]]:
        return [dict(r) for r in await self._db.fetch(_SQL["ignored"])]

    async def rejected(self, source: str | None = None, limit: int = 100) -> list[RejectedOut]:
        """The records set aside, the latest first."""
        rows = await self._db.fetch(_SQL["rejected"], source, limit)
        return [RejectedOut(**dict(r)) for r in rows]


def _raw(event: Event) -> bytes:
    """An event as text, whatever it holds."""
    return repr(event).encode("utf-8", "backslashreplace")


def _json(value: Any) -> list[dict[str, Any]]:
    """A ``jsonb`` aggregate, whether or not the connection decodes JSON."""
    if isinstance(value, str):
        decoded: list[dict[str, Any]] = json.loads(value)
        return decoded
    return list(value)

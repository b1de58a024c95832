"""Migration 0010 on a database with history: segments rebuilt from the event log, open tasks'
active time, and the handle-time totals relieved of the paused time the log proves."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from bot.migrate import available, migrate

T0 = datetime(2030, 1, 1, 10, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


async def _task(conn: asyncpg.Connection, key: str, **columns: Any) -> int:
    values = {
        "source": "s",
        "external_id": key,
        "type": "billing",
        "title": key,
        "due_at": at(86_400),
        "request_hash": key,
        "created_at": T0,
        "updated_at": T0,
        **columns,
    }
    names = ", ".join(values)
    marks = ", ".join(f"${n}" for n in range(1, len(values) + 1))
    task_id = await conn.fetchval(
        f"INSERT INTO tasks ({names}) VALUES ({marks}) RETURNING id", *values.values()
    )
    assert isinstance(task_id, int)
    return task_id


async def _log(conn: asyncpg.Connection, task_id: int, *events: tuple[Any, ...]) -> None:
    """(seconds, event, from, to, actor[, data]) rows, after a 'created' one at T0."""
    rows = [(0, "created", None, "queued", "intake"), *events]
    for row in rows:
        seconds, event, from_status, to_status, actor, *data = row
        await conn.execute(
            "INSERT INTO task_events (task_id, at, event, from_status, to_status, actor, data)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)",
            task_id,
            at(seconds),
            event,
            from_status,
            to_status,
            actor,
            json.dumps(data[0] if data else {}),
        )


def _completed(step: int, worked: float) -> dict[str, Any]:
    return {"outcome": "ok", "step": step, "steps": 2, "worked_seconds": worked}


async def test_history_becomes_segments_and_paused_time_leaves_the_estimates(
    empty_db_url: str,
) -> None:
    conn = await asyncpg.connect(empty_db_url)
    try:
        await conn.execute("SET TIME ZONE 'UTC'")
        await migrate(conn, [m for m in available() if m.version < 10])
        await conn.execute(
            "INSERT INTO task_types (name, skills, sla_minutes, handle_minutes, steps) VALUES"
            " ('billing', '{}', 600, 10,"
            ' \'[{"name": "a", "skills": [], "handle_minutes": 5},'
            '   {"name": "b", "skills": [], "handle_minutes": 5}]\')'
        )
        await conn.execute(
            "INSERT INTO agents (agent_id, name) VALUES ('ana', 'Ana'), ('ben', 'Ben')"
        )
        offered = (1, "offered", "queued", "offered", "round")
        # Done: claimed, paused an hour, resumed, both steps completed; 150 s of work on step 2
        # while the completion recorded 3750.
        done = await _task(conn, "done", status="done", step=2)
        await _log(
            conn,
            done,
            offered,
            (5, "claimed", "offered", "in_progress", "ana"),
            (8, "step_completed", "in_progress", "queued", "ana", _completed(1, 3)),
            (9, "offered", "queued", "offered", "round"),
            (10, "claimed", "offered", "in_progress", "ana"),
            (110, "paused", "in_progress", "paused", "ana"),
            (3710, "resumed", "paused", "in_progress", "ana"),
            (3760, "completed", "in_progress", "done", "ana", _completed(2, 3750)),
        )
        # In progress: 30 s, a pause, then resumed and still going.
        going = await _task(
            conn,
            "going",
            status="in_progress",
            holder="ben",
            claimed_at=at(20),
            updated_at=at(1000),
        )
        await _log(
            conn,
            going,
            offered,
            (20, "claimed", "offered", "in_progress", "ben"),
            (50, "paused", "in_progress", "paused", "ben"),
            (1000, "resumed", "paused", "in_progress", "ben"),
            (1200, "nudged", "in_progress", "in_progress", "system"),
        )
        # Paused: 100 s of work.
        paused = await _task(
            conn, "paused", status="paused", holder="ana", claimed_at=at(4000), updated_at=at(4100)
        )
        await _log(
            conn,
            paused,
            offered,
            (4000, "claimed", "offered", "in_progress", "ana"),
            (4100, "paused", "in_progress", "paused", "ana"),
        )
        # Reassigned while in progress: ana 60 s, ben 30 s and completes the first step (the
        # completion counted ana's 60 s as ben's), then ana on the second step.
        moved = await _task(
            conn, "moved", status="in_progress", holder="ana", step=2, claimed_at=at(200)
        )
        await _log(
            conn,
            moved,
            offered,
            (2, "claimed", "offered", "in_progress", "ana"),
            (62, "reassigned", "in_progress", "in_progress", "sam", {"to_agent_id": "ben"}),
            (92, "step_completed", "in_progress", "queued", "ben", _completed(1, 90)),
            (150, "offered", "queued", "offered", "round"),
            (200, "claimed", "offered", "in_progress", "ana"),
        )
        # An in-progress task whose log never said so (a row written by hand).
        bare = await _task(
            conn, "bare", status="in_progress", holder="ben", claimed_at=at(300), updated_at=at(300)
        )
        await conn.execute(
            "INSERT INTO handle_times (agent_id, type, step, completed, total_seconds, last_at,"
            " day, day_seconds) VALUES"
            " ('ana', 'billing', 2, 2, 3950, $1, $2, 3950),"
            " ('ana', 'billing', 1, 1, 3, $1, $2, 3),"
            " ('ben', 'billing', 1, 1, 90, $1, $2 - 1, 0)",
            at(3760),
            T0.date(),
        )

        assert await migrate(conn) == [m.name for m in available() if m.version >= 10]

        async def spans(task_id: int) -> list[tuple[Any, ...]]:
            rows = await conn.fetch(
                "SELECT agent_id, step, extract(epoch FROM started_at - $2)::float8 AS s,"
                " extract(epoch FROM ended_at - $2)::float8 AS e, started_by, ended_by"
                " FROM task_segments WHERE task_id = $1 ORDER BY id",
                task_id,
                T0,
            )
            return [tuple(r.values()) for r in rows]

        assert await spans(done) == [
            ("ana", 1, 5, 8, "claimed", "step_completed"),
            ("ana", 2, 10, 110, "claimed", "paused"),
            ("ana", 2, 3710, 3760, "resumed", "completed"),
        ]
        assert await spans(going) == [
            ("ben", 1, 20, 50, "claimed", "paused"),
            ("ben", 1, 1000, None, "resumed", None),
        ]
        assert await spans(paused) == [("ana", 1, 4000, 4100, "claimed", "paused")]
        assert await spans(moved) == [
            ("ana", 1, 2, 62, "claimed", "reassigned"),
            ("ben", 1, 62, 92, "reassigned", "step_completed"),
            ("ana", 2, 200, None, "claimed", None),
        ]
        assert await spans(bare) == [("ben", 1, 300, None, "migrated", None)]

        rows = await conn.fetch(
            "SELECT external_id, active_seconds, active_since, paused_at FROM tasks ORDER BY id"
        )
        assert [tuple(r.values()) for r in rows] == [
            ("done", 0, None, None),
            ("going", 30, at(1000), None),
            ("paused", 100, None, at(4100)),
            ("moved", 0, at(200), None),
            ("bare", 0, at(300), None),
        ]
        learnt = await conn.fetch(
            "SELECT agent_id, step, completed, total_seconds, day_seconds FROM handle_times"
            " ORDER BY agent_id, step"
        )
        assert [tuple(r.values()) for r in learnt] == [
            ("ana", 1, 1, pytest.approx(3), pytest.approx(3)),
            # 3600 s of the pause come off; the 200 s the log does not explain stay.
            ("ana", 2, 2, pytest.approx(350), pytest.approx(350)),
            # ana's 60 s come off ben's total; his day figure was of another day.
            ("ben", 1, 1, pytest.approx(30), 0),
        ]
    finally:
        await conn.close()

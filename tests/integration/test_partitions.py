"""Task events and raw feed events partitioned by month: the migration of a database with
history, rows in their month's partition, months made ahead (idempotent, two at once), old
months dropped whole, and a feed event still stored once across months."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import asyncpg
import pytest

from blending.events import CallArrived, Parsed
from blending.telemetry_store import TelemetryStore
from bot.migrate import available, migrate
from bot.partitions import PartitionSettings, ensure
from bot.retention import RetentionSettings, drop_months

NOW = datetime(2026, 6, 15, 12, tzinfo=UTC)
"""Months: 2026_06 (now) and the next three are made ahead."""


def month(year: int, number: int, day: int = 10) -> datetime:
    return datetime(year, number, day, 12, tzinfo=UTC)


async def _where(db: asyncpg.Pool | asyncpg.Connection, table: str) -> dict[str, int]:
    """Rows of ``table`` by partition."""
    rows = await db.fetch(
        f"SELECT tableoid::regclass::text AS part, count(*) AS n FROM {table} GROUP BY 1"
    )
    return {r["part"]: r["n"] for r in rows}


async def _task(db: asyncpg.Pool | asyncpg.Connection, key: str) -> int:
    task_id = await db.fetchval(
        "INSERT INTO tasks (source, external_id, type, title, due_at, request_hash)"
        " VALUES ('s', $1, 'billing', $1, $2, $1) RETURNING id",
        key,
        month(2027, 1),
    )
    assert isinstance(task_id, int)
    return task_id


async def _event(db: asyncpg.Pool | asyncpg.Connection, task_id: int, at: datetime) -> int:
    event_id = await db.fetchval(
        "INSERT INTO task_events (task_id, at, event, to_status, actor)"
        " VALUES ($1, $2, 'created', 'queued', 'intake') RETURNING id",
        task_id,
        at,
    )
    assert isinstance(event_id, int)
    return event_id


def _feed(pool: asyncpg.Pool) -> TelemetryStore:
    return TelemetryStore(pool, interval_minutes=15, service_level_seconds=20)


def _arrived(event_id: str, at: datetime) -> Parsed:
    return Parsed(events=[CallArrived(event_id=event_id, at=at, queue="sales", call_id=event_id)])


async def test_the_migration_keeps_the_history_in_its_months(empty_db_url: str) -> None:
    conn = await asyncpg.connect(empty_db_url)
    try:
        await migrate(conn, [m for m in available() if m.version < 27])
        await conn.execute(
            "INSERT INTO task_types (name, skills, sla_minutes, handle_minutes)"
            " VALUES ('billing', '{}', 600, 10)"
        )
        task = await _task(conn, "a")
        before = [await _event(conn, task, month(2025, n)) for n in (1, 1, 3)]
        for n, received in enumerate((month(2025, 2), month(2025, 3))):
            await conn.execute(
                "INSERT INTO telephony_events (source, event_id, type, at, received_at, body)"
                " VALUES ('generic', $1, 'call_arrived', $2, $2, '{}')",
                f"e{n}",
                received,
            )
        await migrate(conn)

        assert await _where(conn, "task_events") == {
            "task_events_2025_01": 2,
            "task_events_2025_03": 1,
        }
        assert await _where(conn, "telephony_events") == {
            "telephony_events_2025_02": 1,
            "telephony_events_2025_03": 1,
        }
        assert [
            r["id"] for r in await conn.fetch("SELECT id FROM task_events ORDER BY id")
        ] == before
        # The identity goes on after the ids it gave; the log is still append-only and its
        # events still belong to tasks.
        assert await _event(conn, task, month(2025, 3)) > before[-1]
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("UPDATE task_events SET actor = 'x'")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("DELETE FROM task_events")
        with pytest.raises(asyncpg.ForeignKeyViolationError):
            await _event(conn, task + 1000, month(2025, 3))
        partitions = {
            r["relname"]
            for r in await conn.fetch(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
                " WHERE i.inhparent = 'task_events'::regclass"
            )
        }
        assert {"task_events_default", "task_events_2025_01", "task_events_2025_03"} < partitions
        # This month and the next three (by the server's clock) are there already.
        assert len(partitions) >= 2 + 1 + 4
    finally:
        await conn.close()


async def test_events_land_in_their_month(pool: asyncpg.Pool) -> None:
    await ensure(pool, NOW, PartitionSettings())
    await pool.execute(
        "INSERT INTO task_types (name, skills, sla_minutes, handle_minutes)"
        " VALUES ('billing', '{}', 600, 10)"
    )
    task = await _task(pool, "a")
    for at in (month(2026, 6), month(2026, 7), month(2026, 7, 31), month(2026, 9)):
        await _event(pool, task, at)
    assert await _where(pool, "task_events") == {
        "task_events_2026_06": 1,
        "task_events_2026_07": 2,
        "task_events_2026_09": 1,
    }
    for n, received in enumerate((month(2026, 6), month(2026, 8))):
        await _feed(pool).record("generic", _arrived(f"c{n}", received), received)
    assert await _where(pool, "telephony_events") == {
        "telephony_events_2026_06": 1,
        "telephony_events_2026_08": 1,
    }


async def test_making_months_ahead_is_idempotent_and_safe_twice_at_once(
    pool: asyncpg.Pool,
) -> None:
    settings = PartitionSettings(ahead=3)
    first, second = await asyncio.gather(ensure(pool, NOW, settings), ensure(pool, NOW, settings))
    made = sorted(first + second)
    assert made == sorted(
        f"{table}_2026_{m:02d}"
        for table in ("task_events", "telephony_events")
        for m in (6, 7, 8, 9)
    )
    assert await ensure(pool, NOW, settings) == []


async def test_what_the_default_caught_moves_into_its_month(pool: asyncpg.Pool) -> None:
    await pool.execute(
        "INSERT INTO task_types (name, skills, sla_minutes, handle_minutes)"
        " VALUES ('billing', '{}', 600, 10)"
    )
    task = await _task(pool, "a")
    caught = await _event(pool, task, month(2024, 2))
    await _feed(pool).record("generic", _arrived("old", month(2024, 2)), month(2024, 2))
    assert await _where(pool, "task_events") == {"task_events_default": 1}

    made = await ensure(pool, NOW, PartitionSettings())
    assert {"task_events_2024_02", "telephony_events_2024_02"} <= set(made)
    assert await _where(pool, "task_events") == {"task_events_2024_02": 1}
    assert await _where(pool, "telephony_events") == {"telephony_events_2024_02": 1}
    assert await pool.fetchval("SELECT id FROM task_events") == caught
    # The move set the append-only trigger aside for itself only.
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await pool.execute("DELETE FROM task_events")


async def test_retention_drops_old_months_whole_and_keeps_newer(pool: asyncpg.Pool) -> None:
    await pool.execute(
        "INSERT INTO task_types (name, skills, sla_minutes, handle_minutes)"
        " VALUES ('billing', '{}', 600, 10)"
    )
    task = await _task(pool, "a")
    # 90 days before NOW is 2026-03-17: February ended before it, March did not.
    for at in (month(2026, 2), month(2026, 3), month(2026, 6)):
        await _feed(pool).record("generic", _arrived(f"c-{at:%m}", at), at)
        await _event(pool, task, at)
    await ensure(pool, NOW, PartitionSettings())

    kept = await drop_months(pool, NOW, RetentionSettings(days=90))
    assert kept == ["telephony_events_2026_02"]
    assert set(await _where(pool, "telephony_events")) == {
        "telephony_events_2026_03",
        "telephony_events_2026_06",
    }
    # Task timelines are kept unless asked.
    assert len(await _where(pool, "task_events")) == 3

    dropped = await drop_months(pool, NOW, RetentionSettings(days=90, task_events_days=90))
    assert dropped == ["task_events_2026_02"]
    assert set(await _where(pool, "task_events")) == {"task_events_2026_03", "task_events_2026_06"}


async def test_a_feed_event_is_stored_once_across_months(pool: asyncpg.Pool) -> None:
    await ensure(pool, NOW, PartitionSettings())
    feed = _feed(pool)
    first = await feed.record("generic", _arrived("x", month(2026, 6, 30)), month(2026, 6, 30))
    # Delivered again a month later, and again through another path with its own time.
    again = await feed.record("generic", _arrived("x", month(2026, 6, 30)), month(2026, 7, 2))
    other = await feed.record("generic", _arrived("x", month(2026, 7, 1)), month(2026, 7, 3))
    both = await asyncio.gather(
        *(feed.record("generic", _arrived("y", NOW), month(2026, 7, 5)) for _ in range(4))
    )
    assert (first.new, again.new, other.new) == (1, 0, 0)
    assert sorted(r.new for r in both) == [0, 0, 0, 1]
    assert await pool.fetchval("SELECT count(*) FROM telephony_events") == 2
    assert await pool.fetchval("SELECT sum(offered) FROM interval_stats") == 2

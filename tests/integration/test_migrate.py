"""The migration runner: in order, once, under a lock, refusing edited files."""

from __future__ import annotations

import asyncio
import sys

import asyncpg
import pytest

from bot.migrate import Migration, MigrationError, available, migrate
from tests.conftest import ROOT


async def test_migrates_an_empty_database_once(empty_db_url: str) -> None:
    conn = await asyncpg.connect(empty_db_url)
    try:
        first = await migrate(conn)
        assert first == [m.name for m in available()]
        assert await migrate(conn) == []
        tables = {r["tablename"] for r in await conn.fetch("SELECT tablename FROM pg_tables")}
        assert {"tasks", "task_events", "task_types", "agents", "schema_migrations"} <= tables
    finally:
        await conn.close()


async def test_a_changed_applied_file_is_refused(empty_db_url: str) -> None:
    conn = await asyncpg.connect(empty_db_url)
    try:
        original = Migration(1, "0001_x.sql", "CREATE TABLE x (a int);")
        await migrate(conn, [original])
        edited = Migration(1, "0001_x.sql", "CREATE TABLE x (a int, b int);")
        with pytest.raises(MigrationError, match=r"0001_x\.sql was changed after it was applied"):
            await migrate(conn, [edited, Migration(2, "0002_y.sql", "CREATE TABLE y ();")])
        assert await conn.fetchval("SELECT to_regclass('y')") is None
    finally:
        await conn.close()


async def test_a_failing_file_is_named_and_rolled_back(empty_db_url: str) -> None:
    conn = await asyncpg.connect(empty_db_url)
    try:
        good = Migration(1, "0001_ok.sql", "CREATE TABLE ok (a int);")
        bad = Migration(2, "0002_bad.sql", "CREATE TABLE half (a int); SELECT nonsense;")
        with pytest.raises(MigrationError, match=r"0002_bad\.sql failed"):
            await migrate(conn, [good, bad])
        assert await conn.fetchval("SELECT to_regclass('ok')") is not None
        assert await conn.fetchval("SELECT to_regclass('half')") is None
        assert await conn.fetchval("SELECT max(version) FROM schema_migrations") == 1
    finally:
        await conn.close()


async def test_a_database_newer_than_the_build_is_refused(empty_db_url: str) -> None:
    conn = await asyncpg.connect(empty_db_url)
    try:
        await migrate(
            conn, [Migration(1, "0001_a.sql", "SELECT 1;"), Migration(2, "0002_b.sql", "SELECT 1;")]
        )
        with pytest.raises(MigrationError, match=r"0002_b\.sql that this build does not know"):
            await migrate(conn, [Migration(1, "0001_a.sql", "SELECT 1;")])
    finally:
        await conn.close()


async def test_five_processes_starting_at_once_migrate_once(empty_db_url: str) -> None:
    script = (
        "import asyncio, sys; from bot.migrate import migrate_url; "
        "print(','.join(asyncio.run(migrate_url(sys.argv[1]))))"
    )
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            script,
            empty_db_url,
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(5)
    ]
    outputs = await asyncio.gather(*(p.communicate() for p in processes))
    assert [p.returncode for p in processes] == [0] * 5, outputs
    applied = [out.decode().strip() for out, _ in outputs]
    expected = ",".join(m.name for m in available())
    assert sorted(applied) == ["", "", "", "", expected]
    conn = await asyncpg.connect(empty_db_url)
    try:
        rows = await conn.fetch("SELECT version FROM schema_migrations ORDER BY version")
        assert [r["version"] for r in rows] == [m.version for m in available()]
    finally:
        await conn.close()


async def test_rows_with_impossible_times_are_quarantined_and_then_refused(
    empty_db_url: str,
) -> None:
    """A database written before times were bounded: its year-1 call is set aside with its
    reason, a task's impossible due time is replaced by its SLA (with an event), good rows
    stay, and from then on the database itself refuses such a time."""
    conn = await asyncpg.connect(empty_db_url)
    try:
        await migrate(conn, [m for m in available() if m.version < 14])
        await conn.execute(
            "INSERT INTO telephony_calls (source, call_id, queue, arrived_at) VALUES"
            " ('generic', 'c-y1', 'q', '-infinity'), ('generic', 'c-ok', 'q', now())"
        )
        await conn.execute(
            "INSERT INTO task_types (name, sla_minutes, handle_minutes) VALUES ('t', 60, 5)"
        )
        task = await conn.fetchval(
            "INSERT INTO tasks (source, external_id, type, title, due_at, request_hash)"
            " VALUES ('s', '1', 't', 'x', '0001-01-01T00:00:00Z', 'h') RETURNING id"
        )
        await migrate(conn)
        calls = await conn.fetch("SELECT call_id FROM telephony_calls")
        assert [c["call_id"] for c in calls] == ["c-ok"]
        kept = await conn.fetch("SELECT table_name, reason, row FROM quarantine")
        assert [(k["table_name"], '"c-y1"' in k["row"]) for k in kept] == [
            ("telephony_calls", True)
        ]
        assert "outside 1970-2100" in kept[0]["reason"]
        due = await conn.fetchval(
            "SELECT due_at - created_at = interval '60 minutes' FROM tasks WHERE id = $1", task
        )
        assert due
        events = await conn.fetch("SELECT event, reason FROM task_events WHERE task_id = $1", task)
        assert [e["event"] for e in events] == ["corrected"]
        assert "0001-01-01" in events[0]["reason"]
        with pytest.raises(asyncpg.CheckViolationError):
            await conn.execute(
                "INSERT INTO telephony_events (source, event_id, type, at, body)"
                " VALUES ('generic', 'e-y1', 'call_arrived', '0001-01-01T00:00:00Z', '{}')"
            )
    finally:
        await conn.close()

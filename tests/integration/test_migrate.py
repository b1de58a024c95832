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

"""Bulk import of tasks and agents from CSV, through the CLI and the importer."""

from __future__ import annotations

import asyncio
import io
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from queues.catalog import Catalog
from queues.importer import ImportFileError, import_roster, import_tasks
from queues.models import TaskTypeIn

HEADER = "source,external_id,type,title,customer_ref,customer_tier,value,due_at,payload\n"
GOOD = "crm,A-1,billing_correction,Refund fee,CUST-1,gold,14.9,2026-12-01T10:00:00Z,\n"


@pytest.fixture
async def typed(pool: asyncpg.Pool) -> asyncpg.Pool:
    body = TaskTypeIn(skills=["billing"], sla_minutes=600, handle_minutes=7)
    await Catalog(pool).put("billing_correction", body)
    return pool


def _csv(*rows: str) -> io.StringIO:
    return io.StringIO(HEADER + "".join(rows))


async def test_bad_rows_are_reported_by_line_and_good_rows_kept(typed: asyncpg.Pool) -> None:
    data = _csv(
        GOOD,
        "crm,A-2,nope,Unknown type,,,,,\n",
        "crm,A-3,billing_correction,,,,,,\n",
        "crm,A-4,billing_correction,Bad value,,,abc,,\n",
        'crm,A-5,billing_correction,Bad payload,,,,,"{not json"\n',
        "crm,A-6,billing_correction,Too,few\n",
        "crm,A-7,billing_correction,Naive date,,,,2026-12-01 10:00,\n",
        'crm,A-8,billing_correction,Fine too,,,,,"{""k"": 1}"\n',
        "crm,A-1,billing_correction,Same key other body,,,,,\n",
    )
    report = await import_tasks(typed, data, actor="import:test")
    assert report.rows == 9
    assert report.created == 2
    lines = {e.line: e.message for e in report.errors}
    assert sorted(lines) == [3, 4, 5, 6, 7, 8, 10]
    assert "unknown task type 'nope'" in lines[3]
    assert "title" in lines[4]
    assert "value" in lines[5]
    assert "payload" in lines[6]
    assert "cells" in lines[7]
    assert "due_at" in lines[8]
    assert "different body" in lines[10]
    assert await typed.fetchval("SELECT count(*) FROM tasks") == 2
    assert await typed.fetchval("SELECT payload FROM tasks WHERE external_id = 'A-8'") == {"k": 1}


async def test_all_or_nothing_keeps_nothing_when_a_row_is_bad(typed: asyncpg.Pool) -> None:
    report = await import_tasks(
        typed, _csv(GOOD, "crm,A-2,nope,x,,,,,\n"), actor="t", all_or_nothing=True
    )
    assert not report.committed
    assert [e.line for e in report.errors] == [3]
    assert await typed.fetchval("SELECT count(*) FROM tasks") == 0
    assert await typed.fetchval("SELECT count(*) FROM task_events") == 0


async def test_importing_the_same_file_twice_changes_nothing(typed: asyncpg.Pool) -> None:
    first = await import_tasks(typed, _csv(GOOD), actor="t")
    second = await import_tasks(typed, _csv(GOOD), actor="t")
    assert (first.created, second.created, second.unchanged) == (1, 0, 1)
    assert await typed.fetchval("SELECT count(*) FROM task_events") == 1


async def test_small_batches_give_the_same_result(typed: asyncpg.Pool) -> None:
    rows = [f"crm,K-{n},billing_correction,Task {n},,,,,\n" for n in range(23)]
    report = await import_tasks(typed, _csv(*rows), actor="t", batch_size=5)
    assert report.created == 23
    assert await typed.fetchval("SELECT count(DISTINCT task_id) FROM task_events") == 23


async def test_a_file_with_wrong_columns_is_refused_whole(typed: asyncpg.Pool) -> None:
    with pytest.raises(ImportFileError, match=r"unknown column.*tittle"):
        await import_tasks(typed, io.StringIO("source,external_id,type,tittle\n"), actor="t")
    with pytest.raises(ImportFileError, match=r"empty"):
        await import_tasks(typed, io.StringIO(""), actor="t")


async def test_roster_import(pool: asyncpg.Pool) -> None:
    data = io.StringIO(
        "agent_id,name,slack_user_id,team,cost_per_hour,skills,telephony_ids\n"
        "dana,Dana Levi,U0DANA,Retail,31.5,mortgage=4;billing=2,twilio=WK1;asterisk=PJSIP/1\n"
        "omar,Omar,U0OMAR,,,billing=9,\n"
        "noa,Noa,U0NOA,,,billing,\n"
        "maya,Maya,U0DANA,,,,\n"
        "dana,Dana again,,,,,\n"
        "lior,Lior,,,,,\n"
    )
    report = await import_roster(pool, data)
    assert report.created == 2
    lines = {e.line: e.message for e in report.errors}
    assert sorted(lines) == [3, 4, 5, 6]
    assert "skills.billing" in lines[3]
    assert "name=value" in lines[4]
    assert "U0DANA" in lines[5]
    assert "first on line 2" in lines[6]
    skills = await pool.fetch("SELECT skill, proficiency FROM agent_skills ORDER BY skill")
    assert [tuple(r) for r in skills] == [("billing", 2), ("mortgage", 4)]


def _blendbot(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_cli_import_reports_and_exits_nonzero_on_bad_rows(
    typed: asyncpg.Pool, cli_env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "tasks.csv"
    path.write_text(HEADER + GOOD + "crm,A-2,nope,x,,,,,\n")
    result = await asyncio.to_thread(_blendbot, cli_env, "import", "tasks", str(path))
    assert result.returncode == 1
    assert "line 3: unknown task type 'nope'" in result.stderr
    assert "1 new tasks" in result.stdout
    assert "Traceback" not in result.stderr
    assert await typed.fetchval("SELECT count(*) FROM tasks") == 1
    missing = await asyncio.to_thread(_blendbot, cli_env, "import", "tasks", "/no/such.csv")
    assert missing.returncode == 2
    assert "cannot read" in missing.stderr


async def test_cli_import_with_wrong_header_is_one_clear_line(
    typed: asyncpg.Pool, cli_env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "tasks.csv"
    path.write_text("id,name\n1,x\n")
    result = await asyncio.to_thread(_blendbot, cli_env, "import", "tasks", str(path))
    assert result.returncode == 1
    assert result.stderr.startswith("error: missing column(s) source")
    assert "Traceback" not in result.stderr

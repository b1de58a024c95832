"""Closed tasks of a ticketing system's history, imported as the lifecycle would have left them."""

from __future__ import annotations

import asyncio
import io
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest

from queues.catalog import Catalog
from queues.importer import import_tasks
from queues.models import StepIn, TaskTypeIn

HEADER = "source,external_id,type,title,created_at,completed_at,worked_minutes,completed_by\n"
NOW = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.fixture
async def typed(pool: asyncpg.Pool) -> asyncpg.Pool:
    await Catalog(pool).put(
        "billing", TaskTypeIn(skills=["billing"], sla_minutes=600, handle_minutes=7)
    )
    steps = [
        StepIn(name="check", skills=["docs"], handle_minutes=10),
        StepIn(name="approve", skills=["credit"], handle_minutes=30),
    ]
    await Catalog(pool).put(
        "mortgage", TaskTypeIn(sla_minutes=2880, handle_minutes=40, steps=steps)
    )
    # A configured source: its tasks' lifecycle events are written back to it, unless imported.
    await pool.execute("INSERT INTO sources (name, kind) VALUES ('zendesk', 'zendesk')")
    return pool


def _csv(*rows: str) -> io.StringIO:
    return io.StringIO(HEADER + "".join(rows))


async def test_closed_tasks_get_their_history_and_nothing_is_sent(typed: asyncpg.Pool) -> None:
    data = _csv(
        "zendesk,Z-1,billing,Refund,2026-05-04T09:00:00Z,2026-05-04T11:00:00Z,12,dana\n",
        "zendesk,Z-2,mortgage,Loan,2026-05-04T09:00:00Z,2026-05-06T09:00:00Z,80,\n",
    )
    report = await import_tasks(typed, data, actor="import:h.csv", now=NOW)
    assert (report.created, report.errors, report.committed) == (2, [], True)
    task = await typed.fetchrow("SELECT * FROM tasks WHERE external_id = 'Z-1'")
    assert task is not None
    assert task["status"] == "done"
    assert task["created_at"] == datetime(2026, 5, 4, 9, tzinfo=UTC)
    assert task["due_at"] == datetime(2026, 5, 4, 19, tzinfo=UTC)  # the type's 600 min SLA
    events = await typed.fetch(
        "SELECT event, from_status, to_status, actor, at, data FROM task_events"
        " WHERE task_id = $1 ORDER BY id",
        task["id"],
    )
    assert [(e["event"], e["from_status"], e["to_status"]) for e in events] == [
        ("created", None, "queued"),
        ("claimed", "queued", "in_progress"),
        ("completed", "in_progress", "done"),
    ]
    assert events[1]["at"] == datetime(2026, 5, 4, 10, 48, tzinfo=UTC)
    assert events[2]["data"]["worked_seconds"] == 720
    assert events[2]["actor"] == "dana"
    # Two steps: 80 minutes split 1:3 by their expected minutes, back to back.
    loan = await typed.fetchval("SELECT id FROM tasks WHERE external_id = 'Z-2'")
    segments = await typed.fetch(
        "SELECT step, agent_id, extract(epoch FROM ended_at - started_at) AS s"
        " FROM task_segments WHERE task_id = $1 ORDER BY id",
        loan,
    )
    assert [(r["step"], r["agent_id"], float(r["s"])) for r in segments] == [
        (1, "import:h.csv", 1200.0),
        (2, "import:h.csv", 3600.0),
    ]
    learnt = await typed.fetchrow(
        "SELECT completed, total_seconds FROM handle_times WHERE agent_id = 'dana'"
    )
    assert learnt is not None
    assert tuple(learnt) == (1, 720.0)
    assert await typed.fetchval("SELECT count(*) FROM source_writebacks") == 0
    assert await typed.fetchval("SELECT count(*) FROM slack_outbox") == 0
    assert await typed.fetchval("SELECT count(*) FROM task_events WHERE event = 'offered'") == 0
    again = await import_tasks(
        typed,
        _csv(
            "zendesk,Z-1,billing,Refund,2026-05-04T09:00:00Z,2026-05-04T11:00:00Z,12,dana\n",
        ),
        actor="import:h.csv",
        now=NOW,
    )
    assert (again.created, again.unchanged) == (0, 1)
    assert await typed.fetchval("SELECT count(*) FROM task_events") == 8


async def test_one_bad_row_names_its_line_and_nothing_is_written(typed: asyncpg.Pool) -> None:
    data = _csv(
        "crm,A-1,billing,Fine,2026-05-04T09:00:00Z,2026-05-04T11:00:00Z,12,\n",
        "crm,A-2,billing,Backwards,2026-05-04T09:00:00Z,2026-05-04T08:00:00Z,12,\n",
        "crm,A-3,billing,Overworked,2026-05-04T09:00:00Z,2026-05-04T09:10:00Z,12,\n",
        "crm,A-4,billing,Future,2026-05-04T09:00:00Z,2026-07-04T09:10:00Z,12,\n",
        "crm,A-5,nope,Unknown,2026-05-04T09:00:00Z,2026-05-04T11:00:00Z,12,\n",
        "crm,A-6,billing,Half,2026-05-04T09:00:00Z,,12,\n",
        "crm,A-7,billing,No minutes,2026-05-04T09:00:00Z,2026-05-04T11:00:00Z,-3,\n",
        "crm,A-8,billing,Open task,,,,\n",
    )
    report = await import_tasks(typed, data, actor="t", now=NOW)
    assert not report.committed
    lines = {e.line: e.message for e in report.errors}
    assert sorted(lines) == [3, 4, 5, 6, 7, 8]
    assert "completed_at is before created_at" in lines[3]
    assert "worked_minutes (12) is more than the 10.0 minutes" in lines[4]
    assert "in the future" in lines[5]
    assert "unknown task type 'nope'" in lines[6]
    assert "completed_at" in lines[7]
    assert "worked_minutes" in lines[8]
    assert await typed.fetchval("SELECT count(*) FROM tasks") == 0
    assert await typed.fetchval("SELECT count(*) FROM task_events") == 0
    assert await typed.fetchval("SELECT count(*) FROM handle_times") == 0


async def test_open_and_closed_rows_mix(typed: asyncpg.Pool) -> None:
    data = _csv(
        "crm,A-1,billing,Closed,2026-05-04T09:00:00Z,2026-05-04T11:00:00Z,12,\n",
        "crm,A-2,billing,Still open,,,,\n",
    )
    report = await import_tasks(typed, data, actor="t", now=NOW, batch_size=1)
    assert report.created == 2
    statuses = await typed.fetch("SELECT external_id, status FROM tasks ORDER BY external_id")
    assert [tuple(r) for r in statuses] == [("A-1", "done"), ("A-2", "queued")]


def _blendbot(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_cli_imports_a_history_file(
    typed: asyncpg.Pool, cli_env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "history.csv"
    rows = [
        f"crm,H-{n},billing,T{n},2026-0{1 + n % 5}-0{1 + n % 9}T09:00:00Z,"
        f"2026-0{1 + n % 5}-0{1 + n % 9}T10:00:00Z,{5 + n % 20},\n"
        for n in range(300)
    ]
    path.write_text(HEADER + "".join(rows))
    result = await asyncio.to_thread(_blendbot, cli_env, "import", "tasks", str(path))
    assert result.returncode == 0, result.stderr
    assert "300 new tasks" in result.stdout
    assert await typed.fetchval("SELECT count(*) FROM tasks WHERE status = 'done'") == 300

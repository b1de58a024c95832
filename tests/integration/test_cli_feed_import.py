"""``blendbot import intervals|schedule`` from the command line."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg

from queues.models import AgentIn
from queues.roster import Roster
from tests.support.cli import blendbot


async def test_import_intervals_and_schedule(
    pool: asyncpg.Pool, cli_env: dict[str, str], tmp_path: Path
) -> None:
    intervals = tmp_path / "intervals.csv"
    intervals.write_text(
        "queue,interval_start,offered,answered,abandoned,aht_seconds\n"
        "billing,2026-11-23T09:00:00Z,40,37,3,210\n"
        "billing,2026-11-23T09:15:00Z,52,50,2,195\n"
    )
    result = await asyncio.to_thread(blendbot, cli_env, "import", "intervals", str(intervals))
    assert result.returncode == 0, result.stderr
    assert "imported 2 intervals" in result.stdout
    await Roster(pool).put("dana", AgentIn(name="Dana"))
    schedule = tmp_path / "schedule.csv"
    schedule.write_text(
        "agent_id,kind,start,end\n"
        "dana,shift,2026-11-23T08:00:00Z,2026-11-23T16:00:00Z\n"
        "dana,break,2026-11-23T12:00:00Z,2026-11-23T12:30:00Z\n"
    )
    result = await asyncio.to_thread(blendbot, cli_env, "import", "schedule", str(schedule))
    assert result.returncode == 0, result.stderr
    schedule.write_text("agent_id,kind,start,end\nnobody,shift,soon,later\n")
    bad = await asyncio.to_thread(blendbot, cli_env, "import", "schedule", str(schedule))
    assert bad.returncode == 1
    assert bad.stderr.startswith("error: ")
    assert "line 2" in bad.stderr
    assert "Traceback" not in bad.stderr

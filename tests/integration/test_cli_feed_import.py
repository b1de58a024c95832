"""``blendbot replay`` and ``blendbot import intervals|schedule`` from the command line."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import asyncpg
from aiohttp.test_utils import TestClient

from queues.models import AgentIn
from queues.roster import Roster
from tests.conftest import AUTH, ROOT, TOKEN


def _blendbot(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli.main", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_replay_sends_a_recording_into_the_service(
    client: TestClient[Any, Any], cli_env: dict[str, str], tmp_path: Path
) -> None:
    events = [
        {
            "type": "call_arrived",
            "event_id": f"a{n}",
            "at": f"2026-11-23T09:0{n}:00Z",
            "queue": "billing",
            "call_id": f"c{n}",
        }
        for n in range(5)
    ]
    recording = tmp_path / "day.jsonl"
    recording.write_text("".join(json.dumps(e) + "\n" for e in events))
    url = str(client.make_url("")).rstrip("/")
    env = {**cli_env, "BLENDBOT_API_TOKENS": TOKEN}
    result = await asyncio.to_thread(
        _blendbot,
        env,
        "replay",
        str(recording),
        "--source",
        "generic",
        "--speed",
        "1e9",
        "--url",
        url,
    )
    assert result.returncode == 0, result.stderr
    assert "sent 5 payloads" in result.stdout
    response = await client.get(
        "/api/v1/queues/billing/intervals?from=2026-11-23T09:00:00Z&to=2026-11-23T10:00:00Z",
        headers=AUTH,
    )
    assert response.status == 200
    body = await response.json()
    assert sum(row["offered"] for row in body["items"]) == 5


async def test_import_intervals_and_schedule(
    pool: asyncpg.Pool, cli_env: dict[str, str], tmp_path: Path
) -> None:
    intervals = tmp_path / "intervals.csv"
    intervals.write_text(
        "queue,interval_start,offered,answered,abandoned,aht_seconds\n"
        "billing,2026-11-23T09:00:00Z,40,37,3,210\n"
        "billing,2026-11-23T09:15:00Z,52,50,2,195\n"
    )
    result = await asyncio.to_thread(_blendbot, cli_env, "import", "intervals", str(intervals))
    assert result.returncode == 0, result.stderr
    assert "imported 2 intervals" in result.stdout
    await Roster(pool).put("dana", AgentIn(name="Dana"))
    schedule = tmp_path / "schedule.csv"
    schedule.write_text(
        "agent_id,kind,start,end\n"
        "dana,shift,2026-11-23T08:00:00Z,2026-11-23T16:00:00Z\n"
        "dana,break,2026-11-23T12:00:00Z,2026-11-23T12:30:00Z\n"
    )
    result = await asyncio.to_thread(_blendbot, cli_env, "import", "schedule", str(schedule))
    assert result.returncode == 0, result.stderr
    schedule.write_text("agent_id,kind,start,end\nnobody,shift,soon,later\n")
    bad = await asyncio.to_thread(_blendbot, cli_env, "import", "schedule", str(schedule))
    assert bad.returncode == 1
    assert bad.stderr.startswith("error: ")
    assert "line 2" in bad.stderr
    assert "Traceback" not in bad.stderr

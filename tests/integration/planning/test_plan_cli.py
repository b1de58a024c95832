"""``blendbot plan`` and ``blendbot backtest --tasks`` on a center with a task history."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

from tests.support.backoffice import agent, history, shifts


def _blendbot(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli.main", *args],
        env={**env, "COLUMNS": "160"},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


async def test_plan_and_task_backtest(
    pool: asyncpg.Pool, cli_env: dict[str, str], tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    await history(pool, weeks=8, now=now)
    await agent(pool, "bo1", "back-office", ["billing"])
    await shifts(pool, "bo1", now.date(), 5)
    out = tmp_path / "plan.json"
    result = await asyncio.to_thread(_blendbot, cli_env, "plan", "--days", "5", "--json", str(out))
    assert result.returncode == 0, result.stderr
    assert "Hours for billing" in result.stdout
    plan = json.loads(out.read_text())
    assert len(plan["days"]) == 5
    assert plan["types"][0]["type"] == "billing"
    assert plan["skills"][0]["days"][1]["dedicated_hours"] == 7.5
    tested = tmp_path / "backtest.json"
    result = await asyncio.to_thread(
        _blendbot, cli_env, "backtest", "--tasks", "--json", str(tested)
    )
    assert result.returncode == 0, result.stderr
    assert "of the weekly seasonal naive" in result.stdout
    score = json.loads(tested.read_text())
    assert score["folds"] == 3
    assert set(score["models"]) == {"mstl", "seasonal_naive"}
    move = tmp_path / "move.json"
    start = now.replace(hour=10, minute=0, second=0, microsecond=0) + timedelta(days=1)
    end = start + timedelta(hours=2)
    move.write_text(json.dumps({"agents": 1, "start": start.isoformat(), "end": end.isoformat()}))
    result = await asyncio.to_thread(_blendbot, cli_env, "plan", "--what-if", str(move))
    assert result.returncode == 0, result.stderr
    assert "tasks that will miss their SLA" in result.stdout
    move.write_text(json.dumps({"agents": 1, "start": end.isoformat(), "end": start.isoformat()}))
    result = await asyncio.to_thread(_blendbot, cli_env, "plan", "--what-if", str(move))
    assert result.returncode == 1
    assert "end must be after start" in result.stderr
    bad = await asyncio.to_thread(_blendbot, cli_env, "plan", "--days", "0")
    assert bad.returncode == 2
    assert "--days" in bad.stderr


async def test_a_sites_plan_and_intervals(
    pool: asyncpg.Pool, cli_env: dict[str, str], tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    await history(pool, weeks=8, now=now)
    await agent(pool, "bo1", "back-office", ["billing"])
    await agent(pool, "bo2", "back-office", ["billing"])
    await shifts(pool, "bo1", now.date(), 3)
    await shifts(pool, "bo2", now.date(), 3)
    await pool.execute("INSERT INTO sites VALUES ('auckland', 'Auckland', 'Pacific/Auckland')")
    await pool.execute("UPDATE agents SET site_id = 'auckland' WHERE agent_id = 'bo1'")
    out = tmp_path / "plan.json"
    args = ("plan", "--days", "3", "--site", "auckland", "--json", str(out))
    result = await asyncio.to_thread(_blendbot, cli_env, *args)
    assert result.returncode == 0, result.stderr
    assert "for site auckland" in result.stdout
    plan = json.loads(out.read_text())
    assert (plan["site"], plan["timezone"]) == ("auckland", "Pacific/Auckland")
    assert 0 < plan["skills"][0]["share"] < 1  # bo2, in no site, gives the rest
    result = await asyncio.to_thread(
        _blendbot, cli_env, "plan", "--intervals", "60", "--site", "auckland"
    )
    assert result.returncode == 0, result.stderr
    assert "billing: arrivals per 60 minutes" in result.stdout
    for site, code, said in (("mars", 1, "site mars not found"), ("Not A Site", 2, "--site")):
        bad = await asyncio.to_thread(_blendbot, cli_env, "plan", "--site", site)
        assert (bad.returncode, said in bad.stderr) == (code, True), bad.stderr

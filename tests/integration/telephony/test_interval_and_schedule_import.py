"""The interval and schedule CSV importers, on a real database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from blending.telemetry_store import TelemetryStore
from queues.models import AgentIn
from queues.roster import Roster
from telephony_adapters.errors import AdapterError, MalformedPayload
from telephony_adapters.importers import import_intervals, import_schedule

DAY = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
END = DAY + timedelta(hours=10)


async def test_import_intervals(pool: asyncpg.Pool, tmp_path: Path) -> None:
    path = tmp_path / "intervals.csv"
    path.write_text(
        "queue,interval_start,offered,answered,abandoned,aht_seconds\n"
        "sales,2026-03-02T09:00:00Z,40,36,4,210\n"
        "sales,2026-03-02T09:15:00Z,20,20,0,180\n"
    )
    result = await import_intervals(pool, path, interval_minutes=15)
    assert result.rows == 2
    rows = await TelemetryStore(pool).intervals("sales", DAY, END)
    assert [(r.offered, r.aht_seconds) for r in rows] == [(40, 210), (20, 180)]
    path.write_text("queue,interval_start,offered\nsales,2026-03-02T09:07:00Z,1\n")
    with pytest.raises(MalformedPayload, match="line 2"):
        await import_intervals(pool, path, interval_minutes=15)


async def test_import_schedule_is_all_or_nothing(pool: asyncpg.Pool, tmp_path: Path) -> None:
    await Roster(pool).put("dana", AgentIn(name="Dana"))
    path = tmp_path / "schedule.csv"
    path.write_text(
        "agent_id,kind,start,end\n"
        "dana,shift,2026-03-02T08:00:00Z,2026-03-02T16:00:00Z\n"
        "omer,shift,2026-03-02T08:00:00Z,2026-03-02T16:00:00Z\n"
    )
    with pytest.raises(AdapterError, match="omer"):
        await import_schedule(pool, path)
    assert await pool.fetchval("SELECT count(*) FROM agent_schedules") == 0
    await Roster(pool).put("omer", AgentIn(name="Omer"))
    result = await import_schedule(pool, path)
    assert (result.agents, result.rows) == (2, 2)


async def test_imported_times_without_an_offset_are_on_the_agents_site_clock(
    pool: asyncpg.Pool, tmp_path: Path
) -> None:
    await Roster(pool).put("dana", AgentIn(name="Dana"))
    await Roster(pool).put("omer", AgentIn(name="Omer"))
    await pool.execute("INSERT INTO sites VALUES ('nyc', 'New York', 'America/New_York')")
    await pool.execute("UPDATE agents SET site_id = 'nyc' WHERE agent_id = 'dana'")
    path = tmp_path / "schedule.csv"
    path.write_text(
        "agent_id,kind,start,end\n"
        "dana,shift,2026-03-09T09:00:00,2026-03-09T17:00:00\n"
        "omer,shift,2026-03-09T09:00:00,2026-03-09T17:00:00\n"
    )
    assert (await import_schedule(pool, path)).rows == 2
    starts = await pool.fetch("SELECT agent_id, starts_at FROM agent_schedules ORDER BY agent_id")
    assert [(r["agent_id"], r["starts_at"].astimezone(UTC).hour) for r in starts] == [
        ("dana", 13),  # 09:00 EDT
        ("omer", 9),  # no site: UTC, as before sites
    ]
    path.write_text(
        "agent_id,kind,start,end\ndana,shift,2026-03-09T09:00:00,2026-03-09T17:00:00Z\n"
    )
    with pytest.raises(MalformedPayload, match="line 2"):
        await import_schedule(pool, path)

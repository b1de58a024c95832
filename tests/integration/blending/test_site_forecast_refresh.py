"""The forecast refresh fits each queue on its own site's clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg

from blending.forecast_store import ForecastSettings, read, refresh
from tests.unit.blending.test_site_forecasts import local_history

NOW = datetime(2026, 1, 20, 0, 0, tzinfo=UTC)


async def _history(pool: asyncpg.Pool, queue: str, zone: str) -> None:
    rows = local_history(ZoneInfo(zone), NOW, 28)
    await pool.executemany(
        "INSERT INTO interval_stats (queue, interval_start, minutes, offered, answered,"
        " abandoned, answered_in_sl, handled, handle_seconds)"
        " VALUES ($1, $2, 15, $3::int, $3, 0, $3, $3, $3 * 240.0)",
        [(queue, at, int(calls)) for at, calls, _ in rows],
    )


async def test_each_queue_peaks_at_ten_on_its_own_sites_clock(pool: asyncpg.Pool) -> None:
    await pool.execute(
        "INSERT INTO sites (site_id, name, time_zone) VALUES"
        " ('london', 'London', 'Europe/London'), ('sg', 'Singapore', 'Asia/Singapore')"
    )
    await pool.execute("INSERT INTO queue_sites VALUES ('uk-sales', 'london'), ('sg-sales', 'sg')")
    for queue, zone in (
        ("uk-sales", "Europe/London"),
        ("sg-sales", "Asia/Singapore"),
        ("hq-sales", "America/New_York"),
    ):
        await _history(pool, queue, zone)
    policy = ForecastSettings(model="mstl_ets", weeks=3, timezone="America/New_York")
    assert await refresh(pool, NOW, policy) == {
        "uk-sales": None,
        "sg-sales": None,
        "hq-sales": None,
    }
    peaks = {}
    for queue in ("uk-sales", "sg-sales", "hq-sales"):
        found = await read(pool, queue, NOW)
        day = [p for p in found.intervals if p.interval_start < NOW + timedelta(days=1)]
        peaks[queue] = max(day, key=lambda p: p.mean).interval_start
    assert peaks == {
        "uk-sales": datetime(2026, 1, 20, 10, tzinfo=UTC),
        "sg-sales": datetime(2026, 1, 20, 2, tzinfo=UTC),
        "hq-sales": datetime(2026, 1, 20, 15, tzinfo=UTC),  # no site: the default clock
    }

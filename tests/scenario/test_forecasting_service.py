"""Forecasts in the service: refreshed in the background, stored, and served by the API."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from aiohttp.test_utils import TestClient

from blending.forecast_store import ForecastSettings, refresh
from tests.conftest import AUTH

NOW = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)


async def add_history(pool: asyncpg.Pool, queue: str, days: int) -> None:
    """``days`` of 15-minute intervals up to NOW: a daytime hump, quieter weekends."""
    start = (NOW - timedelta(days=days)).replace(hour=0, minute=0)
    rows = []
    at = start
    while at < NOW:
        hour = at.hour + at.minute / 60
        base = 30 * max(0.0, math.sin(math.pi * (hour - 7) / 11)) if 7 <= hour <= 18 else 0.5
        calls = round(base * (0.5 if at.weekday() >= 5 else 1.0) * (1 + 0.1 * math.sin(at.day)))
        rows.append((queue, at, 15, calls, calls, 0, calls, calls, calls * 240.0))
        at += timedelta(minutes=15)
    await pool.executemany(
        "INSERT INTO interval_stats (queue, interval_start, minutes, offered, answered,"
        " abandoned, answered_in_sl, handled, handle_seconds) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)",
        rows,
    )


async def test_refresh_stores_forecasts_with_the_agents_needed(
    client: TestClient[Any, Any], pool: asyncpg.Pool
) -> None:
    await add_history(pool, "billing", 28)
    await add_history(pool, "new-line", 3)
    policy = ForecastSettings(model="mstl_ets", weeks=3, target_sl=0.8, target_seconds=20)
    outcome = await refresh(pool, NOW, policy)
    assert outcome["billing"] is None
    assert "history" in (outcome["new-line"] or "")
    assert await refresh(pool, NOW, policy) == {}  # nothing due until time or data moves on
    response = await client.get(
        "/api/v1/queues/billing/forecast?from=2026-11-23T00:00:00Z", headers=AUTH
    )
    assert response.status == 200, await response.text()
    body = await response.json()
    assert body["model"] == "mstl_ets"
    points = body["intervals"]
    assert points[0]["interval_start"] >= "2026-11-23T11:00:00"
    assert points[-1]["interval_start"] >= "2026-11-24T23:00:00"
    for p in points:
        assert p["lo_95"] <= p["lo_80"] <= p["mean"] <= p["hi_80"] <= p["hi_95"]
    noon = next(p for p in points if p["interval_start"].startswith("2026-11-24T12:00"))
    night = next(p for p in points if p["interval_start"].startswith("2026-11-24T03:00"))
    assert noon["mean"] > 10 * max(night["mean"], 0.1)
    assert noon["agents"] > night["agents"] >= 0
    assert noon["aht_seconds"] == 240
    young = await client.get("/api/v1/queues/new-line/forecast", headers=AUTH)
    assert young.status == 404
    assert "history" in (await young.json())["error"]["message"]
    unknown = await client.get("/api/v1/queues/nowhere/forecast", headers=AUTH)
    assert unknown.status == 404
    assert "no interval statistics" in (await unknown.json())["error"]["message"]

"""The SLA urgency computed in PostgreSQL agrees with the one the explanation gives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from queues.priority import sla_urgency

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


async def test_sql_urgency_matches_the_explanation(pool: asyncpg.Pool) -> None:
    created, due = NOW, NOW + timedelta(hours=10)
    for hours in (0, 1, 4.5, 7.9, 8, 12):
        at = NOW + timedelta(hours=hours)
        in_sql = await pool.fetchval(
            "SELECT sla_urgency($1, $2, $3, 0.8)",
            created.timestamp(),
            (due - created).total_seconds(),
            at.timestamp(),
        )
        assert in_sql == pytest.approx(sla_urgency(created, due, at, 0.8))

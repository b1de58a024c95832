"""Days of work for recognition, on top of the reported day of tests/support/reports.py: Omar
on standard five working days running, Lena much quicker than the day before."""

from __future__ import annotations

from datetime import timedelta

import asyncpg

from tests.support.reports import at

# agent, days before the reported day, steps, worked seconds each (billing's standard is 600)
EXTRA = (
    *(("omar", back, 3, 500) for back in (1, 2, 3, 4)),
    ("omar", 0, 3, 500),
    ("lena", 1, 3, 900),
    ("lena", 0, 3, 600),
)


async def seed_recognition(pool: asyncpg.Pool) -> None:
    """Completions of billing task 2 (the log's rows are what recognition reads)."""
    async with pool.acquire() as conn, conn.transaction():
        for agent, back, steps, worked in EXTRA:
            for n in range(steps):
                await conn.execute(
                    "INSERT INTO task_events (task_id, at, event, from_status, to_status, actor,"
                    " data) VALUES (2, $1, 'completed', 'in_progress', 'done', $2, $3)",
                    at(8, n) - timedelta(days=back),
                    agent,
                    {"outcome": "refunded", "step": 1, "steps": 1, "worked_seconds": worked},
                )

"""Retention: old raw events, Slack delivery ids and sent messages go; the rest stays.

Raw feed events go by whole months (their partitions): see test_partitions.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg

from bot.retention import RetentionSettings, prune
from bot.tick import Tick
from clock import FixedClock

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
OLD = NOW - timedelta(days=91)
RECENT = NOW - timedelta(days=89)
OLD_MONTH = datetime(2026, 2, 10, tzinfo=UTC)
"""Within a month that ended more than 90 days before NOW."""


async def _fill(pool: asyncpg.Pool, old: int = 3) -> None:
    for n in range(old):
        await pool.execute(
            "INSERT INTO telephony_events (source, event_id, type, at, received_at, body)"
            " VALUES ('generic', $1, 'call_arrived', $2, $2, '{}')",
            f"old-{n}",
            OLD_MONTH,
        )
        await pool.execute(
            "INSERT INTO slack_events_seen (event_id, at) VALUES ($1, $2)", f"Ev-old-{n}", OLD
        )
        await pool.execute(
            "INSERT INTO telephony_rejected (source, digest, reason, record, first_at, last_at)"
            " VALUES ('amazon_connect', $1, 'bad', 'x', $2, $2)",
            bytes([n]),
            OLD,
        )
        await pool.execute(
            "INSERT INTO slack_outbox (kind, target, body, created_at, sent_at, outcome)"
            " VALUES ('ephemeral', 'C1', '{}', $1, $1, 'sent')",
            OLD,
        )
    await pool.execute(
        "INSERT INTO telephony_events (source, event_id, type, at, received_at, body)"
        " VALUES ('generic', 'recent', 'call_arrived', $1, $1, '{}')",
        RECENT,
    )
    await pool.execute("INSERT INTO slack_events_seen (event_id, at) VALUES ('Ev-new', $1)", RECENT)
    # Owed for months (Slack unreachable): never deleted, however old.
    await pool.execute(
        "INSERT INTO slack_outbox (kind, target, body, created_at) VALUES ('home', 'U1', '{}', $1)",
        OLD,
    )
    await pool.execute(
        "INSERT INTO interval_stats (queue, interval_start, minutes, offered)"
        " VALUES ('q', $1, 15, 4)",
        OLD,
    )
    await pool.execute(
        "INSERT INTO slack_audit (at, user_id, action, allowed) VALUES ($1, 'U1', 'x', true)", OLD
    )


async def _left(pool: asyncpg.Pool) -> dict[str, int]:
    tables = ("telephony_events", "slack_events_seen", "slack_outbox", "interval_stats")
    return {t: await pool.fetchval(f"SELECT count(*) FROM {t}") for t in (*tables, "slack_audit")}


async def test_old_rows_go_and_current_ones_stay(pool: asyncpg.Pool) -> None:
    await _fill(pool)
    gone = await prune(pool, NOW, RetentionSettings(days=90, batch=2))
    assert gone == {
        "telephony_rejected": 3,
        "slack_events_seen": 3,
        "slack_outbox": 3,
    }
    assert await _left(pool) == {
        "telephony_events": 4,
        "slack_events_seen": 1,
        "slack_outbox": 1,
        "interval_stats": 1,
        "slack_audit": 1,
    }
    assert await pool.fetchval("SELECT sent_at FROM slack_outbox") is None


async def test_a_backlog_is_worked_off_in_bounded_runs(pool: asyncpg.Pool) -> None:
    await _fill(pool, old=5)
    first = await prune(pool, NOW, RetentionSettings(days=90, batch=2, batches=1))
    assert first == {
        "telephony_rejected": 2,
        "slack_events_seen": 2,
        "slack_outbox": 2,
    }
    await prune(pool, NOW, RetentionSettings(days=90, batch=2, batches=1))
    third = await prune(pool, NOW, RetentionSettings(days=90, batch=2, batches=1))
    assert third == {
        "telephony_rejected": 1,
        "slack_events_seen": 1,
        "slack_outbox": 1,
    }
    assert (await _left(pool))["slack_events_seen"] == 1


async def test_the_elected_tick_prunes_on_its_own_clock(db_url: str, pool: asyncpg.Pool) -> None:
    await _fill(pool)
    tick = Tick(
        db_url,
        pool,
        clock=FixedClock(NOW),
        retention=RetentionSettings(days=90),
    )
    try:
        await tick.step()
    finally:
        await tick._drop()
    assert tick.jobs["retention"].ok
    assert tick.jobs["partitions"].ok
    assert (await _left(pool))["telephony_events"] == 1
    assert await pool.fetchval("SELECT event_id FROM telephony_events") == "recent"

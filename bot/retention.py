"""Retention: what is kept only for a while is deleted by the elected instance.

Raw feed events and records set aside, Slack's delivery ids and Slack messages sent long ago
grow with every call and every click, and nothing reads them after a few days. Raw feed events
are partitioned by month (``bot/partitions.py``): a month goes whole, by dropping its
partition, once all of it is older than the horizon, so an event is kept up to a month longer
than ``days``. The other tables are pruned oldest first, ``batch`` rows per statement and at
most ``batches`` statements per table per run, so that a large backlog (the first run on an old
database) is worked off over several runs without long locks. Task timelines are kept unless
``task_events_days`` is set (then whole months go, as for feed events); interval statistics,
audits and the quarantine are kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.partitions import drop_before
from queues.db import Executor, load_queries

_SQL = load_queries("bot", "retention.sql")

TABLES = ("telephony_rejected", "slack_events_seen", "slack_outbox")
"""What is pruned row by row, each by its own query in ``retention.sql``."""


@dataclass(frozen=True)
class RetentionSettings:
    days: int = 90
    """Rows older than this go."""
    batch: int = 1000
    batches: int = 20
    """At most this many batches per table per run."""
    every_seconds: float = 300.0
    """How often the tick runs it."""
    task_events_days: int | None = None
    """Task events (timelines) whose month ended longer ago than this go; None keeps them."""


async def prune(db: Executor, now: datetime, settings: RetentionSettings) -> dict[str, int]:
    """Delete the rows older than ``settings.days`` before ``now``; how many went, by table."""
    cutoff = now - timedelta(days=settings.days)
    gone: dict[str, int] = {}
    for table in TABLES:
        total = 0
        for _ in range(settings.batches):
            status = await db.execute(_SQL[table], cutoff, settings.batch)
            deleted = int(status.split()[-1])
            total += deleted
            if deleted < settings.batch:
                break
        gone[table] = total
    return gone


async def drop_months(db: Executor, now: datetime, settings: RetentionSettings) -> list[str]:
    """Drop the month partitions wholly past the horizon: raw feed events after ``days``,
    task events after ``task_events_days`` when set; the names of those dropped."""
    dropped = await drop_before(db, "telephony_events", now - timedelta(days=settings.days))
    if settings.task_events_days is not None:
        cutoff = now - timedelta(days=settings.task_events_days)
        dropped += await drop_before(db, "task_events", cutoff)
    return dropped

"""Month partitions of the tables that grow with the traffic: made ahead, dropped when old.

``task_events`` (by the event's time) and ``telephony_events`` (by when the feed delivered it)
are partitioned by calendar month in UTC (``migrations/0027_monthly_partitions.sql``). The
tick's ``partitions`` job makes this month's partition and the next ones before they are
needed, and gives each month the default partition caught rows of (a clock far off, an event
dated in a month not made yet) its own partition, moving the rows in. Retention drops whole
months (``drop_before``): a partition goes once its whole month is older than the horizon.
Every step runs in its own short transaction under a lock timeout, and the database function
it calls takes an advisory lock per table: two instances at once make each month once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from queues.db import Executor, load_queries, transaction

_SQL = load_queries("bot", "partitions.sql")

TABLES = ("task_events", "telephony_events")
"""The tables partitioned by month."""

LOCK_TIMEOUT = "1s"
"""Making or dropping a partition briefly locks its table; rather than queue the traffic behind
a long transaction, the job gives up and tries again at its next run."""


@dataclass(frozen=True)
class PartitionSettings:
    ahead: int = 3
    """Months made ahead of the current one."""
    caught: int = 12
    """At most this many months moved out of a default partition per run."""
    every_seconds: float = 3600.0
    """How often the tick runs the job."""


def month_start(at: datetime, months: int = 0) -> datetime:
    """The first instant (UTC) of the month ``months`` after the one holding ``at``."""
    index = at.astimezone(UTC).year * 12 + at.astimezone(UTC).month - 1 + months
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


async def _ensure(db: Executor, table: str, month: datetime) -> bool:
    async with transaction(db) as conn:
        await conn.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        made = await conn.fetchval(_SQL["ensure"], table, month)
    return bool(made)


async def ensure(db: Executor, now: datetime, settings: PartitionSettings) -> list[str]:
    """Make the partitions of this month, the next ``settings.ahead`` and the months the
    default partitions caught; the names of those this call made."""
    made: list[str] = []
    for table in TABLES:
        months = [month_start(now, n) for n in range(settings.ahead + 1)]
        rows = await db.fetch(_SQL["caught"], table, settings.caught)
        months += [r["month"] for r in rows if r["month"] not in months]
        for month in months:
            if await _ensure(db, table, month):
                made.append(f"{table}_{month.astimezone(UTC):%Y_%m}")
    return made


async def drop_before(db: Executor, table: str, cutoff: datetime) -> list[str]:
    """Drop the month partitions of ``table`` whose whole month ended by ``cutoff``."""
    async with transaction(db) as conn:
        await conn.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        rows = await conn.fetch(_SQL["drop_before"], table, cutoff)
    return [r["name"] for r in rows]

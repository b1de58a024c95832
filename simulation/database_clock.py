"""A database whose clock is the simulation's.

The engine's SQL reads the time from ``now()`` (offers lapse, SLAs run, handle times are
measured). In a database made for a simulation, ``public.now()`` and
``public.clock_timestamp()`` read the simulated time from a one-row table, and the database's
``search_path`` puts ``public`` before ``pg_catalog``, so every unqualified call, column
defaults included, resolves to them. The engine runs unchanged, on simulated time.
"""

from __future__ import annotations

from datetime import datetime

from queues.db import Executor

INSTALL = """
CREATE TABLE sim_clock (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    t timestamptz NOT NULL
);
INSERT INTO sim_clock (t) VALUES ($start$::timestamptz);
CREATE FUNCTION public.now() RETURNS timestamptz
    LANGUAGE sql STABLE PARALLEL SAFE AS 'SELECT t FROM public.sim_clock';
CREATE FUNCTION public.clock_timestamp() RETURNS timestamptz
    LANGUAGE sql STABLE PARALLEL SAFE AS 'SELECT t FROM public.sim_clock';
"""


def install_sql(database: str, start: datetime) -> list[str]:
    """The statements that give an empty database the simulated clock (before migrating)."""
    if not database.replace("_", "").isalnum():
        raise ValueError(f"not a plain database name: {database!r}")
    return [
        INSTALL.replace("$start$", f"'{start.isoformat()}'"),
        f"ALTER DATABASE {database} SET search_path = public, pg_catalog",
    ]


class SimClock:
    """Sets the database's time; each change is one statement, skipped when unchanged."""

    def __init__(self, db: Executor, start: datetime) -> None:
        self._db = db
        self._at: datetime | None = None
        self.start = start

    async def set(self, at: datetime) -> None:
        if at != self._at:
            await self._db.execute("UPDATE sim_clock SET t = $1", at)
            self._at = at

    async def read(self) -> datetime:
        value = await self._db.fetchval("SELECT now()")
        assert isinstance(value, datetime)
        return value

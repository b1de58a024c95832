"""The tick: one elected instance runs the timers and the blending round every few seconds.

Leadership is a PostgreSQL session advisory lock held on a connection of its own: when the
leader dies, its connection closes, the lock is released, and another instance takes over at
its next attempt (every ``interval`` seconds).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime

import asyncpg

from blending.forecast_store import ForecastSettings, refresh
from bot.blending_round import Blender
from bot.database import DatabaseError, connect
from bot.slack.notify import Notifier
from clock import Clock
from queues.priority_store import Ranker
from queues.timers import TimerSettings, run_timers

log = logging.getLogger(__name__)

LEADER_KEY = 0x626C656E645F7469  # an arbitrary constant: "blend_ti" in ASCII


class Tick:
    def __init__(
        self,
        url: str,
        pool: asyncpg.Pool,
        *,
        clock: Clock,
        interval: float = 5.0,
        policy: TimerSettings | None = None,
        notifier: Notifier | None = None,
        forecasts: ForecastSettings | None = None,
        blender: Blender | None = None,
    ) -> None:
        self._url = url
        self._pool = pool
        self._clock = clock
        self._interval = interval
        self._policy = policy or TimerSettings()
        self._ranker = Ranker(pool)
        self._notifier = notifier
        self._forecasts = forecasts
        self.blender = blender
        self._forecasting: asyncio.Task[dict[str, str | None]] | None = None
        self._lock_conn: asyncpg.Connection | None = None
        self.is_leader = False
        self.rounds = 0

    async def _hold_leadership(self) -> bool:
        if self._lock_conn is not None:
            try:
                await self._lock_conn.fetchval("SELECT 1")
                return True
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                log.warning("lost the leader connection; standing for election again")
                await self._drop()
        conn = await connect(self._url)
        if await conn.fetchval("SELECT pg_try_advisory_lock($1)", LEADER_KEY):
            self._lock_conn = conn
            log.info("this instance now runs the tick")
            return True
        await conn.close()
        return False

    def _refresh_forecasts(self, now: datetime) -> None:
        """Start a forecast refresh in the background unless one is running; it fits models
        off the event loop and takes as long as it takes, the timers meanwhile go on."""
        if self._forecasts is None:
            return
        if self._forecasting is not None and not self._forecasting.done():
            return
        if self._forecasting is not None and self._forecasting.exception() is not None:
            log.warning("forecast refresh failed: %s", self._forecasting.exception())
        self._forecasting = asyncio.create_task(refresh(self._pool, now, self._forecasts))

    async def _drop(self) -> None:
        conn, self._lock_conn = self._lock_conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.close()

    async def step(self) -> None:
        """One round: stand for election, and run the timers if elected; the clock is read
        once, so that ranking, the forecast refresh and blending decide at the same time."""
        was_leader = self.is_leader
        self.is_leader = await self._hold_leadership()
        if not self.is_leader:
            return
        if not was_leader:
            self._ranker = Ranker(self._pool)  # a new leader re-ranks everything once
        now = self._clock.now()
        ranked = await self._ranker.tick(now)
        if ranked.changed:
            log.info("re-ranked %d of %d open tasks", ranked.changed, ranked.examined)
        self._refresh_forecasts(now)
        report = await run_timers(self._pool, self._policy)
        if self._notifier is not None:
            await self._notifier.timers(report)
        if self.blender is not None:
            await self.blender.step(now)
        self.rounds += 1
        if (
            report.expired
            or report.nudged
            or report.escalated
            or report.returned
            or report.paused_escalated
        ):
            log.info(
                "tick: %d offers lapsed, %d nudges, %d escalations, %d paused tasks returned"
                " to the queue, %d escalated",
                len(report.expired),
                len(report.nudged),
                len(report.escalated),
                len(report.returned),
                len(report.paused_escalated),
            )

    async def run(self) -> None:
        """Run until cancelled; a failing round is logged and the next one tried."""
        try:
            while True:
                try:
                    await self.step()
                except (DatabaseError, OSError, asyncpg.PostgresError) as exc:
                    log.warning("tick round failed: %s", exc)
                await asyncio.sleep(self._interval)
        finally:
            if self._forecasting is not None:
                self._forecasting.cancel()
                await asyncio.gather(self._forecasting, return_exceptions=True)
            await self._drop()

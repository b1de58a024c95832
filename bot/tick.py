"""The tick: one elected instance runs the timers and the blending round every few seconds.

Leadership is a PostgreSQL session advisory lock held on a connection of its own: when the
leader dies, its connection closes, the lock is released, and another instance takes over at
its next attempt (every ``interval`` seconds).

Each job of a round (ranking, forecasts, timers, blending, the phone system's watch ``acd``,
the month ``partitions`` made ahead, retention, the daily ``roster`` sync, the reports'
daily ``roll_up`` of the agents' states, and every few rounds the SLA watch) runs in a guard of
its own: an unexpected error is logged with its traceback, counted
(``blendbot_tick_errors_total{job}``), and that job alone waits a few rounds before it is tried
again (1, 2, 4, ... up to ``MAX_BACKOFF_ROUNDS``), while the others go on.
Nothing a job raises ends the tick.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import asyncpg

from blending import reports
from blending.forecast_store import ForecastSettings, refresh
from bot.acd import Watch
from bot.blending_round import Blender
from bot.database import connect
from bot.eta_watch import EtaWatch
from bot.metrics import Metrics
from bot.partitions import PartitionSettings, ensure
from bot.retention import RetentionSettings, drop_months, prune
from bot.roster_sync import DailyRosterSync
from bot.slack.notify import Notifier
from clock import Clock
from queues.priority_store import Ranker
from queues.timers import TimerSettings, run_timers

log = logging.getLogger(__name__)

LEADER_KEY = 0x626C656E645F7469  # an arbitrary constant: "blend_ti" in ASCII
MAX_BACKOFF_ROUNDS = 12
"""A job failing again and again is retried at least this often (in rounds)."""
ROLL_UP_DAYS = 92
"""How many days that are over the reports' roll-up keeps ready (the longest range asked)."""
ROLL_UP_CHUNK = 7
"""Days rolled up in one round, so that a first roll-up of a long history does not hold up
the round's other jobs."""


@dataclass
class JobHealth:
    """How one job of the tick fares: its failures in a row and when it may run again."""

    failures: int = 0
    retry_round: int = 0
    """The first round at which the job runs again."""
    last_error: str | None = None
    failed_at: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.failures == 0


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
        metrics: Metrics | None = None,
        retention: RetentionSettings | None = None,
        partitions: PartitionSettings | None = None,
        watch: EtaWatch | None = None,
        watch_every: int = 12,
        acd: Watch | None = None,
        roster: DailyRosterSync | None = None,
        report_zone: str | None = None,
    ) -> None:
        """``watch``, the SLA watch, runs every ``watch_every`` rounds; the reports' days
        (in ``report_zone``) are rolled up as they end."""
        self._url = url
        self._pool = pool
        self._clock = clock
        self._interval = interval
        self._policy = policy or TimerSettings()
        self._ranker = Ranker(pool)
        self._notifier = notifier
        self._forecasts = forecasts
        self.blender = blender
        self._metrics = metrics
        self._retention = retention
        self._partitions = partitions or PartitionSettings()
        self._partitioned_at: datetime | None = None
        self.watch = watch
        self._watch_every = max(1, watch_every)
        self.acd = acd
        """The agents' states in the phone system: lends and recalls that end, drift, calls
        that interrupt back-office work."""
        self.roster = roster
        """The daily roster sync (who is who in the platforms and Slack)."""
        self._report_zone = report_zone
        self._rolled_up_to: date | None = None
        self._rolling: date | None = None
        self._pruned_at: datetime | None = None
        self.jobs: dict[str, JobHealth] = {}
        """Each job's health, by name: what ``/healthz`` and the logs report."""
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

    async def _refresh_forecasts(self, now: datetime) -> None:
        """Start a forecast refresh in the background unless one is running; it fits models
        off the event loop and takes as long as it takes, the timers meanwhile go on. The
        last refresh's error, if any, is raised here, so that it counts as the job's."""
        if self._forecasts is None:
            return
        last = self._forecasting
        if last is not None and not last.done():
            return
        error = None if last is None or last.cancelled() else last.exception()
        self._forecasting = asyncio.create_task(refresh(self._pool, now, self._forecasts))
        if error is not None:
            raise error

    async def _guarded(self, job: str, run: Callable[[], Awaitable[None]], now: datetime) -> None:
        """Run one job unless it is backing off; an error is logged, counted and backed off,
        never raised: the other jobs of the round go on."""
        health = self.jobs.setdefault(job, JobHealth())
        if self.rounds < health.retry_round:
            return
        try:
            await run()
        except Exception as exc:  # the guard of the job: anything, so the tick goes on
            health.failures += 1
            wait = min(2 ** (health.failures - 1), MAX_BACKOFF_ROUNDS)
            health.retry_round = self.rounds + wait
            health.last_error = f"{type(exc).__name__}: {exc}"
            health.failed_at = now
            if self._metrics is not None:
                self._metrics.tick_errors.labels(job).inc()
            log.error(
                "tick job %s failed (%d in a row); retried in %d round(s)",
                job,
                health.failures,
                wait,
                exc_info=exc,
            )
            return
        if health.failures:
            log.info("tick job %s works again after %d failures", job, health.failures)
        self.jobs[job] = JobHealth()

    def failing(self) -> dict[str, str]:
        """The jobs failing now, with their last error and how often in a row."""
        return {
            job: f"{h.last_error} ({h.failures} in a row)"
            for job, h in self.jobs.items()
            if not h.ok
        }

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
            self._ranker = Ranker(self._pool)  # goes on from the last leader's ranking
        started = time.perf_counter()
        now = self._clock.now()
        await self._guarded("rank", lambda: self._rank(now), now)
        await self._guarded("forecasts", lambda: self._refresh_forecasts(now), now)
        await self._guarded("timers", self._timers, now)
        if self.blender is not None:
            blender = self.blender
            await self._guarded("blending", lambda: self._blend(blender, now), now)
        if self.acd is not None:
            acd = self.acd
            await self._guarded("acd", lambda: acd.step(now), now)
        await self._guarded("partitions", lambda: self._ensure_partitions(now), now)
        if self._retention is not None:
            retention = self._retention
            await self._guarded("retention", lambda: self._prune(retention, now), now)
        if self.roster is not None:
            roster = self.roster
            await self._guarded("roster", lambda: self._sync_roster(roster, now), now)
        if self._report_zone is not None:
            zone = self._report_zone
            await self._guarded("roll_up", lambda: self._roll_up(zone, now), now)
        if self.watch is not None and self.rounds % self._watch_every == 0:
            watch = self.watch
            await self._guarded("sla_watch", lambda: self._watch(watch, now), now)
        self.rounds += 1
        if self._metrics is not None:
            took = time.perf_counter() - started
            self._metrics.tick_rounds.observe(took)
            self._metrics.tick_last_round.set(took)

    async def _roll_up(self, zone: str, now: datetime) -> None:
        """When a day is over, roll up the agents' states of the last ``ROLL_UP_DAYS`` days not
        rolled up yet, newest first, ``ROLL_UP_CHUNK`` days a round."""
        last = reports.last_closed_day(now, zone)
        if self._rolled_up_to != last:
            self._rolled_up_to, self._rolling = last, last
        if self._rolling is None:
            return
        oldest = last - timedelta(days=ROLL_UP_DAYS - 1)
        first = max(oldest, self._rolling - timedelta(days=ROLL_UP_CHUNK - 1))
        stored = await reports.roll_up(self._pool, zone, first, self._rolling, now)
        if stored:
            log.info("roll-up: stored the agents' states of %d day(s) from %s", stored, first)
        self._rolling = first - timedelta(days=1) if first > oldest else None

    async def _prune(self, settings: RetentionSettings, now: datetime) -> None:
        """Every ``settings.every_seconds``, delete what is past its retention."""
        if self._pruned_at is not None and (now - self._pruned_at).total_seconds() < (
            settings.every_seconds
        ):
            return
        dropped = await drop_months(self._pool, now, settings)
        gone = await prune(self._pool, now, settings)
        self._pruned_at = now
        if dropped:
            log.info("retention: dropped the month partitions %s", ", ".join(dropped))
        if any(gone.values()):
            log.info("retention: deleted %s", ", ".join(f"{n} {t}" for t, n in gone.items() if n))

    async def _ensure_partitions(self, now: datetime) -> None:
        """Every ``every_seconds`` (first in this instance's first round as leader), make the
        coming months' partitions and move what the default partitions caught into its month's."""
        settings = self._partitions
        if self._partitioned_at is not None and (now - self._partitioned_at).total_seconds() < (
            settings.every_seconds
        ):
            return
        made = await ensure(self._pool, now, settings)
        self._partitioned_at = now
        if made:
            log.info("partitions made: %s", ", ".join(made))

    async def _rank(self, now: datetime) -> None:
        ranked = await self._ranker.tick(now)
        if ranked.changed:
            log.info("re-ranked %d of %d open tasks", ranked.changed, ranked.examined)

    async def _timers(self) -> None:
        report = await run_timers(self._pool, self._policy)
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
        if self._notifier is not None:
            await self._notifier.timers(report)

    async def _sync_roster(self, roster: DailyRosterSync, now: datetime) -> None:
        await roster.step(self._pool, now)

    @staticmethod
    async def _blend(blender: Blender, now: datetime) -> None:
        await blender.step(now)

    @staticmethod
    async def _watch(watch: EtaWatch, now: datetime) -> None:
        await watch.run(now)

    async def run(self) -> None:
        """Run until cancelled; a round that fails (the election itself: each job has its own
        guard) is logged and the next one tried."""
        failed = 0
        try:
            while True:
                try:
                    await self.step()
                except Exception as exc:  # the tick must outlive any one round
                    failed += 1
                    if failed == 1:  # once per outage, not once per round
                        log.warning("tick round failed: %s: %s", type(exc).__name__, exc)
                    await self._drop()
                else:
                    if failed:
                        log.warning("the tick runs again after %d failed rounds", failed)
                    failed = 0
                await asyncio.sleep(self._interval)
        finally:
            if self._forecasting is not None:
                self._forecasting.cancel()
                await asyncio.gather(self._forecasting, return_exceptions=True)
            await self._drop()

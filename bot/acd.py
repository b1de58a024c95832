"""The service's side of agent states in the platform: supervisors' lends and recalls
(:class:`Steering`, for the API and Slack alike), what the command outbox's outcomes do
(metrics, the supervisors told), and the tick's watch.

The watch (:class:`Watch`, a job of the elected tick) ends the supervisors' lends and recalls
that are over, corrects drift (:func:`blending.acd.drift`: ghost agents, agents routable while
lent, a state the platform changed by itself) by queueing commands, and in ``interruptible``
mode pauses the task of an agent a call was routed to, and resumes it when their wrap-up ends,
saying so on the task's card (:class:`Interruptions`, which every instance also runs as soon as
a feed shows an agent's state change).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

import asyncpg
from aiohttp import web

from blending import acd_store
from blending.acd import AcdModes, Watched, drift
from bot import work
from bot.metrics import Metrics
from bot.slack import blocks
from bot.slack.notify import Notifier
from clock import Clock
from queues.db import Connection
from queues.dispatch import DispatchSettings, Offer
from queues.models import TaskOut
from telephony_adapters.control_outbox import ControlOutbox, Failure, Targets

log = logging.getLogger(__name__)

RETRY_SECONDS = 1.0


@dataclass(frozen=True)
class AcdSettings:
    """What the service is told about acting on the platform (from the settings)."""

    modes: AcdModes = field(default_factory=AcdModes)
    confirm_seconds: float = 30
    confirm_tries: int = 3
    ghost_seconds: float = 120
    recall_hold_seconds: float = 180
    """A supervisor's recall keeps new work from the agent this long (the guard's calm time)."""


class Hooks:
    """The outbox's outcomes: counted, and a failure told to the supervisors and the agent."""

    def __init__(self, metrics: Metrics, notifier: Notifier | None = None) -> None:
        self._metrics = metrics
        self.notifier = notifier

    def sent(self, target: str, state: str) -> None:
        self._metrics.acd_sent.labels(target, state).inc()

    def confirmed(self, target: str, state: str) -> None:
        self._metrics.acd_confirmed.labels(target, state).inc()

    async def failed(self, conn: Connection, failure: Failure) -> None:
        self._metrics.acd_failed.labels(failure.target or "none", failure.kind).inc()
        if self.notifier is not None:
            await self.notifier.state_failed(
                conn,
                failure.agent_id,
                failure.state,
                failure.target,
                failure.detail,
                str(failure.command_id),
            )


class Interruptions:
    """Work paused and resumed for the phones' sake, as soon as it is due.

    - ``interruptible`` groups: the task of an agent the feed shows on a call (or wrapping one
      up) is paused; it resumes when the feed shows their wrap-up over, unless they are recalled.
    - ``control`` groups: a recalled agent is routable again, so their task is paused (they
      resume it themselves once the calls are quiet; work of a type that cannot be paused stays
      in progress, and the recall card asks them to finish it).

    Every instance runs it, woken by each feed delivery that changes an agent's state
    (:meth:`kick`) and by a supervisor's recall; the tick's watch runs it too, after the
    blending round's recalls. Each pause and resume is a conditional change of the task, so two
    instances acting on one delivery change it once.
    """

    def __init__(
        self,
        pool: asyncpg.Pool,
        modes: AcdModes,
        *,
        metrics: Metrics | None = None,
        notifier: Notifier | None = None,
    ) -> None:
        self._pool = pool
        self.modes = modes
        self._metrics = metrics
        self.notifier = notifier
        self._wake = asyncio.Event()

    @property
    def needed(self) -> bool:
        return self.modes.uses("interruptible") or self.modes.uses("control")

    def kick(self, _: object = None) -> None:
        """Run soon (a feed listener: the delivery itself is not needed)."""
        self._wake.set()

    async def run(self) -> None:
        """Step each time it is woken, for ever: a failure is logged, never the end of it."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self.step()
            except Exception:
                log.exception("pausing or resuming work for the phones failed; tried again soon")
                await asyncio.sleep(RETRY_SECONDS)
                self._wake.set()

    async def step(self) -> None:
        done = await acd_store.work_for_phones(self._pool, self.modes)
        if self._metrics is not None:
            paused = len(done.interrupted) + len(done.recalled)
            self._metrics.interruptions.labels("pause").inc(paused)
            self._metrics.interruptions.labels("resume").inc(len(done.resumed))
        await self._tell(done.interrupted, done.resumed, blocks.INTERRUPTED)
        await self._tell(done.recalled, [], blocks.RECALLED)

    async def _tell(self, paused: list[TaskOut], resumed: list[TaskOut], note: str) -> None:
        if self.notifier is not None and (paused or resumed):
            await self.notifier.interrupted(paused, resumed, note=note)


class Watch:
    """The tick's ``acd`` job."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        targets: Targets,
        *,
        settings: AcdSettings,
        metrics: Metrics | None = None,
        notifier: Notifier | None = None,
        outbox: ControlOutbox | None = None,
        interruptions: Interruptions | None = None,
    ) -> None:
        self._pool = pool
        self._targets = targets
        self.settings = settings
        self._metrics = metrics
        self.notifier = notifier
        self._outbox = outbox
        self._interruptions = interruptions

    async def step(self, now: datetime) -> None:
        ended = await acd_store.end_lends(self._pool, now)
        ended += await acd_store.end_recalls(self._pool, now)
        fixed = await self.correct(now)
        if ended or fixed:
            log.info("acd: %d lends or recalls ended, %d drift corrections", len(ended), fixed)
            if self._outbox is not None:
                self._outbox.kick()
        if self._interruptions is not None:
            await self._interruptions.step()

    async def correct(self, now: datetime) -> int:
        """Queue the commands that drift calls for; return how many."""
        rows = await acd_store.watched(self._pool)
        targets = {r.agent_id: self._targets.resolve(r.agent_id, r.telephony_ids) for r in rows}
        keys = [(t.feed_source, t.feed_id) for t in targets.values() if t is not None]
        lines = await acd_store.lines(self._pool, keys)
        watched = []
        for r in rows:
            target = targets[r.agent_id]
            line = lines.get((target.feed_source, target.feed_id)) if target else None
            watched.append(
                Watched(
                    r.agent_id,
                    r.mode,  # type: ignore[arg-type]
                    r.wanted,  # type: ignore[arg-type]
                    line[0] if line else None,
                    line[1] if line else None,
                    r.last_state,  # type: ignore[arg-type]
                    r.last_status,
                    r.last_at,
                    r.last_done_at,
                )
            )
        fixed = 0
        for fix in drift(watched, now, ghost_seconds=self.settings.ghost_seconds):
            if await acd_store.correct(self._pool, fix) is None:
                continue
            fixed += 1
            log.warning("acd drift: %s %s: %s", fix.cause, fix.agent_id, fix.reason)
            if self._metrics is not None:
                self._metrics.acd_drift.labels(fix.cause).inc()
        return fixed


class Steering:
    """A supervisor's lend or recall, from the API or Slack: :mod:`bot.work` decides and
    records it (the state command is queued with it), the outbox is woken, and the agent is
    told in Slack when Slack is on (``notifier``, set by the root once Slack is built)."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        settings: AcdSettings,
        policy: DispatchSettings,
        *,
        clock: Clock,
        zone: tzinfo,
        outbox: ControlOutbox | None = None,
        interruptions: Interruptions | None = None,
    ) -> None:
        self._pool = pool
        self.settings = settings
        self._policy = policy
        self._clock = clock
        self._zone = zone
        self._outbox = outbox
        self._interruptions = interruptions
        self.notifier: Notifier | None = None

    def _kick(self) -> None:
        if self._outbox is not None:
            self._outbox.kick()

    async def lend(
        self, agent_id: str, minutes: float, by: str, *, override: bool = False
    ) -> work.Lent:
        now = self._clock.now()
        lent = await work.lend(
            self._pool, agent_id, minutes, by, self._policy, now, override=override, zone=self._zone
        )
        self._kick()
        if self.notifier is not None:
            await self.notifier.lent(agent_id, f"{lent.ends_at.astimezone(lent.zone):%H:%M}", by)
            offer = lent.offer
            if isinstance(offer, Offer) and offer.task.status == "offered":
                await self.notifier.offers([offer.task])
        return lent

    async def recall(self, agent_id: str, by: str, reason: str) -> work.Recalled:
        now = self._clock.now()
        hold = self.settings.recall_hold_seconds
        done = await work.recall(self._pool, agent_id, by, reason, now, hold_seconds=hold)
        self._kick()
        if self._interruptions is not None:
            self._interruptions.kick()  # in control mode, their work is paused
        if self.notifier is not None:
            await self.notifier.withdrawn(done.withdrawn)
            await self.notifier.recall([agent_id])
        return done


STEERING = web.AppKey("steering", Steering)

"""The blending round of the tick: decide who is lent and who is recalled, and say so.

Read the center (:func:`blending.snapshot.snapshot`), decide (:func:`blending.policy.decide`),
carry it out (:func:`blending.decision_store.act`), then tell the agents through Slack:
offers, asks to resume paused work, and recalls. Nothing happens while a supervisor has
paused blending.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from blending import decision_store
from blending.policy import BlendPolicy, Decision, decide
from blending.snapshot import snapshot
from blending.switch import BlendingState
from bot.metrics import Metrics
from bot.slack.notify import Notifier
from queues.dispatch import DispatchSettings

log = logging.getLogger(__name__)


@dataclass
class Round:
    decision: Decision
    acted: decision_store.Acted


class Blender:
    def __init__(
        self,
        pool: asyncpg.Pool,
        switch: BlendingState,
        policy: BlendPolicy,
        dispatch: DispatchSettings,
        *,
        target: tuple[float, float] = (0.8, 20.0),
        notifier: Notifier | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self._pool = pool
        self._switch = switch
        self.policy = policy
        self._dispatch = dispatch
        self._target = target
        self._notifier = notifier
        self._metrics = metrics
        self.last: Round | None = None
        self._told: set[int] = set()
        """Paused tasks whose holder was told they may resume (told once, not every round)."""

    async def step(self, now: datetime) -> Round | None:
        """One round; None while blending is paused."""
        if not (await self._switch.get()).on:
            return None
        started = time.perf_counter()
        snap = await snapshot(self._pool, now, self.policy, target=self._target)
        work = await decision_store.waiting_work(self._pool)
        guards = await decision_store.load_guards(self._pool)
        # The decision is pure computation, long for a large center: off the event loop, so
        # the requests this instance serves meanwhile are not held up by it.
        decision = await asyncio.to_thread(
            decide, self.policy, now, snap.groups, snap.agents, work, guards
        )
        acted = await decision_store.act(self._pool, decision, now, self._dispatch, guards)
        self.last = Round(decision, acted)
        if self._metrics is not None:
            self._measure(decision, acted, time.perf_counter() - started)
        if acted.offers or acted.recalled or acted.withdrawn:
            log.info(
                "blending: %d offers, %d recalled, %d offers withdrawn, %d asked to resume",
                len(acted.offers),
                len(acted.recalled),
                len(acted.withdrawn),
                len(acted.resume),
            )
        fresh = [t for t in acted.resume if t.id not in self._told]
        self._told = {t.id for t in acted.resume}
        if self._notifier is not None:
            await self._notifier.offers(acted.offers)
            await self._notifier.withdrawn(acted.withdrawn)
            await self._notifier.recall(acted.recalled)
            await self._notifier.resume(fresh)
        return self.last

    def _measure(self, decision: Decision, acted: decision_store.Acted, seconds: float) -> None:
        m = self._metrics
        assert m is not None
        m.blending_rounds.observe(seconds)
        m.offers.inc(len(acted.offers))
        m.recalls.inc(len(acted.recalled))
        modes = {"open": 0, "hold": 1, "recall": 2}
        for group in decision.groups.values():
            m.lent.labels(group.group).set(group.lent)
            m.surplus.labels(group.group).set(group.surplus_now)
            m.guard.labels(group.group).set(modes[group.guard.mode])

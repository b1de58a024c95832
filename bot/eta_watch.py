"""The SLA watch the tick runs every few ticks: tasks whose ETA passes their due time are
found in bounded batches (:meth:`queues.eta_store.EtaStore.at_risk`) and the supervisors are
warned of each once, before the breach (:meth:`bot.slack.notify.Notifier.sla_risks`)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from bot.slack.notify import Notifier
from queues.eta import EtaSettings, Outlook
from queues.eta_store import EtaStore, WatchSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WatchRun:
    examined: int
    """Tasks whose ETA was worked out."""
    at_risk: int
    warned: int
    seconds: float


class EtaWatch:
    def __init__(
        self,
        pool: asyncpg.Pool,
        outlook: Outlook,
        notifier: Notifier,
        settings: WatchSettings,
        *,
        eta: EtaSettings | None = None,
        sla_top_share: float = 0.8,
    ) -> None:
        self._pool = pool
        self._outlook = outlook
        self._notifier = notifier
        self.settings = settings
        self._eta = eta or EtaSettings()
        self._top_share = sla_top_share
        self.last: WatchRun | None = None

    async def run(self, now: datetime) -> WatchRun:
        started = time.perf_counter()
        lending = await self._outlook.lending(now)
        report = await EtaStore(self._pool, self._eta).at_risk(
            now, lending, self.settings, top_share=self._top_share
        )
        warned = await self._notifier.sla_risks(report.at_risk)
        self.last = WatchRun(
            report.examined, len(report.at_risk), warned, time.perf_counter() - started
        )
        if warned:
            log.info(
                "SLA watch: %d tasks will likely miss their due time; supervisors warned",
                warned,
            )
        return self.last

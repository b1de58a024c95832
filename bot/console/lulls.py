"""The Now page's lull windows ahead: per staffing group, the agents the forecast calls need
against the agents scheduled, interval by interval over the next hours, and the runs of
intervals with agents to spare, read as the engine reads them (:func:`blending.snapshot`
under the planner's blending policy and service target) and kept a minute: the forecast
moves slowly, and a page load must not re-read it for every console."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from typing import Any

from aiohttp import web

from blending.snapshot import snapshot
from blending.windows import Lull, lulls
from bot.stores import Stores

HOURS = 8
KEEP_SECONDS = 60.0
GROUPS_SHOWN = 12


@dataclass(frozen=True)
class GroupAhead:
    group: str
    windows: list[Lull]
    chart: dict[str, Any]
    """The figures the page's chart is drawn from (interval, need, scheduled)."""
    problem: str | None


class LullCache:
    """Kept per clock the chart's labels are read on (a site's Now page reads its own)."""

    def __init__(self) -> None:
        self._kept: dict[str, tuple[float, list[GroupAhead]]] = {}
        self._lock = asyncio.Lock()

    async def ahead(self, stores: Stores, now: datetime, zone: tzinfo) -> list[GroupAhead]:
        key = str(zone)
        async with self._lock:
            kept = self._kept.get(key)
            if kept is not None and time.monotonic() - kept[0] < KEEP_SECONDS:
                return kept[1]
            found = await read(stores, now, zone)
            self._kept = {k: v for k, v in self._kept.items() if k != key}
            self._kept[key] = (time.monotonic(), found)
            return found


CACHE = web.AppKey("console_lulls", LullCache)


async def read(stores: Stores, now: datetime, zone: tzinfo) -> list[GroupAhead]:
    settings = stores.planner.settings
    policy = replace(settings.policy, max_minutes=HOURS * 60)
    snap = await snapshot(stores.pool, now, policy, target=settings.target)
    shown = []
    for group in snap.groups[:GROUPS_SHOWN]:
        ahead = list(group.ahead)
        shown.append(
            GroupAhead(
                group.group,
                lulls(ahead, policy.windows.safety_margin),
                {
                    "type": "lulls",
                    "labels": [f"{n.start.astimezone(zone):%H:%M}" for n in ahead],
                    "need": [n.required for n in ahead],
                    "staffed": [n.staffed for n in ahead],
                },
                group.problem,
            )
        )
    return shown

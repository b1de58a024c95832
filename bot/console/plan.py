"""The Plan page: the back-office plan for the next days, from the same planner as
``GET /api/v1/plan`` (its forecast runs off the event loop). A plan takes seconds to work out
and changes slowly, so the last one per horizon is kept for a minute and loads arriving
together share one computation."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from blending.planning.model import Plan
from bot.console.pages import required
from bot.console.render import page
from bot.http.errors import ApiError
from bot.http.keys import CLOCK, STORES
from bot.http.operations import read_query
from bot.http.planning import PlanQuery

FRESH = timedelta(minutes=1)
MISSES_SHOWN = 200
HORIZONS = (7, 14, 28)


@dataclass
class PlanCache:
    """The last plan per horizon (``None``: the configured one), with when it was made."""

    fresh: timedelta = FRESH
    _plans: dict[int | None, tuple[datetime, Plan]] = field(default_factory=dict)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def get(self, request: web.Request, days: int | None) -> Plan:
        now = request.config_dict[CLOCK].now()
        async with self._lock:
            kept = self._plans.get(days)
            if kept is not None and timedelta(0) <= now - kept[0] < self.fresh:
                return kept[1]
            plan = await request.config_dict[STORES].planner.plan(now, days)
            self._plans[days] = (now, plan)
            return plan


CACHE = web.AppKey("console_plan_cache", PlanCache)


async def plan_page(request: web.Request) -> web.Response:
    found = await required(request)
    error = None
    try:
        days = read_query(request, PlanQuery).days
    except ApiError as exc:
        error = str(exc).removeprefix("invalid request: ")
        days = None
    plan = await request.app[CACHE].get(request, days)
    return await page(
        request,
        "plan.html",
        {
            "plan": plan,
            "days": len(plan.days),
            "horizons": HORIZONS,
            "error": error,
            "misses": plan.misses[:MISSES_SHOWN],
            "hours_chart": hours_chart(plan),
            "backlog_chart": backlog_chart(plan),
        },
        viewer=found,
    )


def skill_name(skills: list[str]) -> str:
    return " + ".join(skills) or "no skill"


def hours_chart(plan: Plan) -> dict[str, Any]:
    """Per skill set, the extra hours needed (up) and the hours to spare (down) each day."""
    series = []
    for s in plan.skills:
        name = skill_name(s.skills)
        series.append({"label": f"extra: {name}", "values": [d.extra_hours for d in s.days]})
        series.append(
            {"label": f"extra at 80%: {name}", "values": [d.extra_hours_80 for d in s.days]}
        )
        series.append({"label": f"spare: {name}", "values": [-d.spare_hours for d in s.days]})
    return {"type": "plan", "labels": [d.isoformat() for d in plan.days], "series": series}


def backlog_chart(plan: Plan) -> dict[str, Any]:
    """Per type, the backlog hours at each day's end with the arrivals' 80% band."""
    return {
        "type": "bands",
        "labels": [d.isoformat() for d in plan.days],
        "series": [
            {
                "label": t.type,
                "values": [d.backlog_hours.mean for d in t.days],
                "lo": [d.backlog_hours.lo_80 for d in t.days],
                "hi": [d.backlog_hours.hi_80 for d in t.days],
            }
            for t in plan.types
        ],
    }

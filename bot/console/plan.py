"""The Plan page: the back-office plan for the next days, from the same planner as
``GET /api/v1/plan`` (its forecast runs off the event loop), for the whole center or a site
(``?site=``: its staff and its share of the work, on its clock), with the arrivals expected
per hour over the next days and their 80% band. A plan takes seconds to work out and changes
slowly, so the last one per horizon and site is kept for a minute and loads arriving together
share one computation."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from blending.planning.intraday import TypeIntervals
from blending.planning.model import Plan
from blending.sites import DEFAULT_SITE, UnknownSite
from bot.console.pages import required
from bot.console.render import page
from bot.http.errors import ApiError
from bot.http.keys import CLOCK, STORES
from bot.http.operations import read_query
from bot.http.planning import PlanQuery

FRESH = timedelta(minutes=1)
MISSES_SHOWN = 200
HORIZONS = (7, 14, 28)
INTERVAL_DAYS = 2
"""The arrivals per hour shown: today and tomorrow on the plan's clock."""


Planned = tuple[Plan, list[TypeIntervals]]


@dataclass
class PlanCache:
    """The last plan and arrivals per interval per horizon (``None``: the configured one) and
    site (``None``: the center), with when they were made."""

    fresh: timedelta = FRESH
    _plans: dict[tuple[int | None, str | None], tuple[datetime, Planned]] = field(
        default_factory=dict
    )
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def get(self, request: web.Request, days: int | None, site: str | None) -> Planned:
        now = request.config_dict[CLOCK].now()
        async with self._lock:
            kept = self._plans.get((days, site))
            if kept is not None and timedelta(0) <= now - kept[0] < self.fresh:
                return kept[1]
            planner = request.config_dict[STORES].planner
            plan = await planner.plan(now, days, site)
            found = await planner.intervals(now, INTERVAL_DAYS, 60, site, plan=plan)
            self._plans[(days, site)] = (now, (plan, found))
            return plan, found


CACHE = web.AppKey("console_plan_cache", PlanCache)


async def plan_page(request: web.Request) -> web.Response:
    """Bad input is said on the page (422) over the center's plan; an unknown site is a 404."""
    found = await required(request)
    error, status = None, 200
    try:
        query = read_query(request, PlanQuery)
        days, site = query.days, query.site
    except ApiError as exc:
        error, status = str(exc).removeprefix("invalid request: "), 422
        days, site = None, None
    try:
        plan, intervals = await request.app[CACHE].get(request, days, site)
    except UnknownSite as exc:
        raise web.HTTPNotFound(reason=str(exc)) from None
    sites = [s.site_id for s in await request.config_dict[STORES].sites.all()]
    return await page(
        request,
        "plan.html",
        {
            "plan": plan,
            "days": len(plan.days),
            "horizons": HORIZONS,
            "site": site,
            "sites": [*sites, DEFAULT_SITE] if sites else [],
            "error": error,
            "misses": plan.misses[:MISSES_SHOWN],
            "hours_chart": hours_chart(plan),
            "backlog_chart": backlog_chart(plan),
            "intervals": intervals,
            "arrivals_chart": arrivals_chart(intervals, ZoneInfo(plan.timezone)),
            "arrival_rows": arrival_rows(intervals, ZoneInfo(plan.timezone)),
        },
        viewer=found,
        status=status,
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


def _starts(found: list[TypeIntervals]) -> list[datetime]:
    return sorted({i.start for t in found for i in t.intervals})


def arrivals_chart(found: list[TypeIntervals], zone: ZoneInfo) -> dict[str, Any]:
    """Per type, the arrivals expected each interval with their 80% band, on the clock."""
    starts = _starts(found)
    series = []
    for t in found:
        at = {i.start: i for i in t.intervals}
        series.append(
            {
                "label": t.type,
                "values": [at[s].mean if s in at else 0.0 for s in starts],
                "lo": [at[s].lo_80 if s in at else 0.0 for s in starts],
                "hi": [at[s].hi_80 if s in at else 0.0 for s in starts],
            }
        )
    labels = [f"{s.astimezone(zone):%a %H:%M}" for s in starts]
    return {"type": "bands", "y": "arrivals per hour", "labels": labels, "series": series}


def arrival_rows(found: list[TypeIntervals], zone: ZoneInfo) -> list[dict[str, Any]]:
    """One row per interval with any arrivals expected: its local start and, per type, the
    arrivals with their 80% band (None: none expected)."""
    return [
        {
            "start": s.astimezone(zone),
            "types": [next((i for i in t.intervals if i.start == s), None) for t in found],
        }
        for s in _starts(found)
    ]

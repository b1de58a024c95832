"""The report pages: People (each agent's and team's time and work), Cost and skills (unit
cost, skills gaps, coaching) and Trends (30/60/90 days), read through the same functions as
the reporting API; their CSV exports are the API's own CSV behind the console's sign-in. A
page's reports are read side by side, each on a connection of its own."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from aiohttp import web
from pydantic import Field

from blending import recognition, reports
from blending.sites import Site
from bot.console.pages import known_site, required
from bot.console.render import page
from bot.http import reports as api
from bot.http.errors import ApiError
from bot.http.keys import CLOCK, STORES
from bot.http.operations import read_query

PACE_SLOW = reports.SLOWER
COACHING_PAGE = 50
"""Coaching suggestions of each kind shown on a page of Cost and skills (a center's can run
to thousands; the CSV has them all)."""


PEOPLE_PAGE = 100
"""Agents shown on a page of People, with their work by type (the teams and the CSV have
everyone)."""


class PeopleQuery(api.SiteQuery):
    page: int = Field(default=1, ge=1, le=100_000, description="Page of the agents.")


class CostsQuery(api.SiteQuery):
    slower: int = Field(default=1, ge=1, le=100_000, description="Page of the slower agents.")
    candidates: int = Field(
        default=1, ge=1, le=100_000, description="Page of the training candidates."
    )


@dataclass(frozen=True)
class Asked:
    """A report page's query, its days on the site's clock, and the site's choices."""

    query: Any
    span: reports.Span
    error: str | None
    """Why the range asked for was refused (the default one is shown)."""
    zone: tzinfo
    sites: list[Site]

    @property
    def site(self) -> str | None:
        site: str | None = self.query.site
        return site

    def shown(self, request: web.Request) -> dict[str, Any]:
        """What every report page shows of it: the days, the clock, the site picker, and
        whether the page follows what changes (a range reaching the site's today: work
        claimed or completed and decisions at once, agents' states at most once a minute)."""
        today = api.local_today(request, self.zone)
        return {
            "span": self.span,
            "error": self.error,
            "zone": self.zone,
            "sites": self.sites,
            "site": self.site,
            "live_on": "work decisions any" if self.span.last >= today else None,
        }


async def _range(
    request: web.Request, model: type[api.SiteQuery], default_days: int | None
) -> Asked:
    """The range asked for on the site's clock, or the default one with the reason the asked
    one was refused; ``default_days`` None: the query's own ``days``."""
    error = None
    try:
        query = read_query(request, model)
        span, zone = await _span(request, query, default_days)
    except ApiError as exc:
        error = str(exc).removeprefix("invalid request: ")
        query = model()
        span, zone = await _span(request, query, default_days)
    return Asked(query, span, error, zone, await request.config_dict[STORES].sites.listed())


async def _span(
    request: web.Request, query: api.SiteQuery, default_days: int | None
) -> tuple[reports.Span, tzinfo]:
    with known_site(query.site):
        return await api.site_span(request, query, default_days=_days(query, default_days))


def _days(query: api.RangeQuery, default_days: int | None) -> int:
    return default_days if default_days is not None else int(getattr(query, "days", 1))


def _here(asked: Asked) -> str:
    """The page's range and site, for its own links and its exports."""
    query = f"from={asked.span.first}&to={asked.span.last}"
    return query if asked.site is None else f"{query}&site={asked.site}"


def _link(name: str, asked: Asked, table: str | None = None, **extra: Any) -> str:
    query = _here(asked)
    if table:
        query += f"&table={table}"
    for key, value in extra.items():
        query += f"&{key}={value}"
    return f"/console/export/{name}?{query}"


async def people_page(request: web.Request) -> web.Response:
    found = await required(request)
    asked = await _range(request, PeopleQuery, 1)
    query, span = asked.query, asked.span
    now = request.config_dict[CLOCK].now()
    stores = request.config_dict[STORES]
    everyone, recognized = await asyncio.gather(
        reports.agents(stores.pool, span, now),
        recognition.recognition(stores.pool, span, now, asked.site),
    )
    members = None if asked.site is None else await stores.sites.agents_of(asked.site)
    report = reports.only(everyone, members)
    teams = reports.teams_of(report)
    size = PEOPLE_PAGE
    skip = (query.page - 1) * size
    agents = report.agents[skip : skip + size]
    on_page = {a.agent_id for a in agents}
    work = [w for w in report.work if w.agent_id in on_page]
    pager = _pager(
        len(report.agents),
        query.page,
        size,
        f"/console/people?{_here(asked)}&page=",
    )
    chart = {
        "type": "time",
        "labels": [a.name for a in agents],
        "series": [
            {"label": label, "values": [round(getattr(a, key) / 3600, 2) for a in agents]}
            for key, label in TIME_PARTS
        ],
    }
    return await page(
        request,
        "people.html",
        {
            **asked.shown(request),
            "report": report,
            "agents": agents,
            "work": work,
            "pager": pager,
            "teams": teams,
            "recognition": recognized,
            "badges": recognition.BADGES,
            "chart_data": chart,
            "slow": PACE_SLOW,
            "exports": {
                "agents": _link("agents", asked),
                "work": _link("agents", asked, "work"),
                "teams": _link("teams", asked),
                "top": _link("recognition", asked, "top"),
                "improved": _link("recognition", asked, "improved"),
                "standings": _link("recognition", asked, "agents"),
            },
        },
        viewer=found,
    )


TIME_PARTS = (
    ("on_call_seconds", "on calls"),
    ("wrap_seconds", "wrap-up"),
    ("back_office_seconds", "back office"),
    ("paused_seconds", "paused"),
    ("idle_seconds", "idle"),
    ("break_seconds", "break"),
)


async def costs_page(request: web.Request) -> web.Response:
    found = await required(request)
    asked = await _range(request, CostsQuery, 30)
    query, span = asked.query, asked.span
    pool = request.config_dict[STORES].pool
    now = request.config_dict[CLOCK].now()
    week_end = api.week_end(api.local_today(request, asked.zone), asked.zone)
    size = COACHING_PAGE
    costs, coaching = await asyncio.gather(
        reports.costs(pool, span, now, asked.site),
        reports.skills_page(
            pool,
            span,
            now,
            week_end,
            slower=reports.Slice((query.slower - 1) * size, size),
            candidates=reports.Slice((query.candidates - 1) * size, size),
            site=asked.site,
        ),
    )
    skills = coaching.report
    link = f"/console/costs?{_here(asked)}"
    pagers = {
        "slower": _pager(
            coaching.slower, query.slower, size, f"{link}&candidates={query.candidates}&slower="
        ),
        "candidates": _pager(
            coaching.candidates, query.candidates, size, f"{link}&slower={query.slower}&candidates="
        ),
    }
    chart = {
        "type": "bar",
        "labels": [t.type for t in costs.types],
        "series": [{"label": "unit cost", "values": [t.unit_cost for t in costs.types]}],
    }
    return await page(
        request,
        "costs.html",
        {
            **asked.shown(request),
            "costs": costs,
            "skills": skills,
            "pagers": pagers,
            "chart_data": chart,
            "exports": {
                "costs": _link("costs", asked),
                "gaps": _link("skills-gaps", asked, "gaps"),
                "coaching": _link("skills-gaps", asked, "coaching"),
            },
        },
        viewer=found,
    )


def _pager(total: int, page: int, size: int, link: str) -> dict[str, Any]:
    """Where a page of ``size`` lines of ``total`` is, and the links to the pages beside it
    (``link`` ends with the page parameter)."""
    pages = max(1, -(-total // size))
    first = (page - 1) * size + 1
    return {
        "total": total,
        "page": page,
        "pages": pages,
        "first": first,
        "last": min(total, first + size - 1),
        "previous": f"{link}{min(page - 1, pages)}" if page > 1 else None,
        "next": f"{link}{page + 1}" if page < pages else None,
    }


async def trends_page(request: web.Request) -> web.Response:
    found = await required(request)
    asked = await _range(request, api.TrendsQuery, None)
    query, span = asked.query, asked.span
    days = query.days if query.first is None else None
    report = await reports.trends(
        request.config_dict[STORES].pool,
        span,
        request.config_dict[CLOCK].now(),
        getattr(asked.zone, "key", "UTC"),
        asked.site,
    )
    chart = {
        "type": "trends",
        "labels": [d.day.isoformat() for d in report.days],
        "marks": [d.day.isoformat() for d in report.days if d.blending_switched_on],
        "series": [
            {"label": label, "values": [_pct(getattr(d, key)) for d in report.days]}
            for key, label in TREND_PARTS
        ],
        "throughput": [d.throughput for d in report.days],
    }
    return await page(
        request,
        "trends.html",
        {
            **asked.shown(request),
            "days": days,
            "report": report,
            "chart_data": chart,
            "export": _link("trends", asked),
        },
        viewer=found,
    )


TREND_PARTS = (
    ("utilization", "utilization"),
    ("service_level", "service level"),
    ("abandonment", "abandonment"),
    ("sla_attainment", "SLA attainment"),
)


def _pct(share: float | None) -> float | None:
    return None if share is None else round(share * 100, 1)


async def export(request: web.Request) -> web.StreamResponse:
    """A report's table as CSV, for a supervisor signed in to the console."""
    await required(request)
    name = request.match_info["name"]
    if name not in api.REPORTS:
        raise web.HTTPNotFound(reason=f"There is no report {name[:40]}.")
    try:
        with known_site(request.query.get("site")):
            return await api.answer(request, name, as_csv=True)
    except ApiError as exc:
        raise web.HTTPUnprocessableEntity(reason=str(exc)) from None

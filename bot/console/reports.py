"""The report pages: People (each agent's and team's time and work), Cost and skills (unit
cost, skills gaps, coaching) and Trends (30/60/90 days), read through the same functions as
the reporting API; their CSV exports are the API's own CSV behind the console's sign-in. A
page's reports are read side by side, each on a connection of its own."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

from aiohttp import web
from pydantic import Field

from blending import recognition, reports
from bot.console.pages import required
from bot.console.render import page
from bot.http import reports as api
from bot.http.errors import ApiError
from bot.http.keys import CLOCK, STORES, ZONE
from bot.http.operations import read_query

PACE_SLOW = reports.SLOWER
COACHING_PAGE = 50
"""Coaching suggestions of each kind shown on a page of Cost and skills (a center's can run
to thousands; the CSV has them all)."""


PEOPLE_PAGE = 100
"""Agents shown on a page of People, with their work by type (the teams and the CSV have
everyone)."""


class PeopleQuery(api.RangeQuery):
    page: int = Field(default=1, ge=1, le=100_000, description="Page of the agents.")


class CostsQuery(api.RangeQuery):
    slower: int = Field(default=1, ge=1, le=100_000, description="Page of the slower agents.")
    candidates: int = Field(
        default=1, ge=1, le=100_000, description="Page of the training candidates."
    )


def _today(request: web.Request) -> date:
    return request.config_dict[CLOCK].now().astimezone(request.config_dict[ZONE]).date()


def _range(
    request: web.Request, model: type[api.RangeQuery], default_days: int | None
) -> tuple[Any, reports.Span, str | None]:
    """The range asked for, or the default one with the reason the asked one was refused;
    ``default_days`` None: the query's own ``days``."""
    error = None
    today = _today(request)
    zone = request.config_dict[ZONE]
    try:
        query = read_query(request, model)
        span = api.span_of(query, today, zone, default_days=_days(query, default_days))
    except ApiError as exc:
        error = str(exc).removeprefix("invalid request: ")
        query = model()
        span = api.span_of(query, today, zone, default_days=_days(query, default_days))
    return query, span, error


def _days(query: api.RangeQuery, default_days: int | None) -> int:
    return default_days if default_days is not None else int(getattr(query, "days", 1))


def _live(request: web.Request, span: reports.Span) -> str | None:
    """Pages whose range reaches today follow what changes (see :mod:`bot.console.live`): work
    claimed or completed and decisions at once, agents' states at most once a minute."""
    return "work decisions any" if span.last >= _today(request) else None


def _link(name: str, span: reports.Span, table: str | None = None, **extra: Any) -> str:
    query = f"from={span.first}&to={span.last}"
    if table:
        query += f"&table={table}"
    for key, value in extra.items():
        query += f"&{key}={value}"
    return f"/console/export/{name}?{query}"


async def people_page(request: web.Request) -> web.Response:
    found = await required(request)
    query, span, error = _range(request, PeopleQuery, 1)
    now = request.config_dict[CLOCK].now()
    pool = request.config_dict[STORES].pool
    report, recognized = await asyncio.gather(
        reports.agents(pool, span, now), recognition.recognition(pool, span, now)
    )
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
        f"/console/people?from={span.first}&to={span.last}&page=",
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
            "span": span,
            "live_on": _live(request, span),
            "error": error,
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
                "agents": _link("agents", span),
                "work": _link("agents", span, "work"),
                "teams": _link("teams", span),
                "top": _link("recognition", span, "top"),
                "improved": _link("recognition", span, "improved"),
                "standings": _link("recognition", span, "agents"),
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
    query, span, error = _range(request, CostsQuery, 30)
    pool = request.config_dict[STORES].pool
    now = request.config_dict[CLOCK].now()
    today = _today(request)
    zone = request.config_dict[ZONE]
    week_end = api.midnight(today + timedelta(days=7 - today.weekday()), zone)
    size = COACHING_PAGE
    costs, coaching = await asyncio.gather(
        reports.costs(pool, span, now),
        reports.skills_page(
            pool,
            span,
            now,
            week_end,
            slower=reports.Slice((query.slower - 1) * size, size),
            candidates=reports.Slice((query.candidates - 1) * size, size),
        ),
    )
    skills = coaching.report
    link = f"/console/costs?from={span.first}&to={span.last}"
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
            "span": span,
            "live_on": _live(request, span),
            "error": error,
            "costs": costs,
            "skills": skills,
            "pagers": pagers,
            "chart_data": chart,
            "exports": {
                "costs": _link("costs", span),
                "gaps": _link("skills-gaps", span, "gaps"),
                "coaching": _link("skills-gaps", span, "coaching"),
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
    query, span, error = _range(request, api.TrendsQuery, None)
    days = query.days if query.first is None else None
    report = await reports.trends(
        request.config_dict[STORES].pool,
        span,
        request.config_dict[CLOCK].now(),
        getattr(request.config_dict[ZONE], "key", "UTC"),
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
            "span": span,
            "live_on": _live(request, span),
            "days": days,
            "error": error,
            "report": report,
            "chart_data": chart,
            "export": _link("trends", span),
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
        return await api.answer(request, name, as_csv=True)
    except ApiError as exc:
        raise web.HTTPUnprocessableEntity(reason=str(exc)) from None

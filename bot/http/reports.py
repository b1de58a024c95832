"""``GET /api/v1/reports/...``: the figures of the console's pages as JSON, and each of their
tables as CSV (``?format=csv``). The console's export links call :func:`answer` too."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, tzinfo
from typing import Any, Literal, Self

from aiohttp import web
from pydantic import BaseModel, Field, model_validator

from blending import recognition, reports
from blending.decision_log import DecisionOut
from blending.sites import Scope, SiteId
from bot.console.board import Board, board
from bot.http.errors import ApiError, ErrorOut
from bot.http.keys import CLOCK, STORES, ZONE
from bot.http.operations import Operation, json_response, read_query
from queues.models import AgentId, Strict

MAX_DAYS = 92
"""The longest range one report covers."""
EARLIEST = date(1970, 1, 2)
LATEST = date(2099, 12, 30)
CHUNK = 500
"""CSV lines written to the client at a time."""


class RangeQuery(Strict):
    first: date | None = Field(
        default=None,
        alias="from",
        description="First local day of the range (`YYYY-MM-DD`); today when left out.",
    )
    last: date | None = Field(
        default=None,
        alias="to",
        description="Last local day, included; `from` when left out. At most 92 days.",
    )
    format: Literal["json", "csv"] = Field(default="json", description="`csv`: one table.")
    table: str | None = Field(
        default=None, max_length=40, description="Which table as CSV, where there are several."
    )

    @model_validator(mode="after")
    def _a_range(self) -> Self:
        for day in (self.first, self.last):
            if day is not None and not EARLIEST <= day <= LATEST:
                raise ValueError("a day between 1970-01-02 and 2099-12-30")
        if self.first is not None and self.last is not None:
            if self.last < self.first:
                raise ValueError("`to` comes before `from`")
            if (self.last - self.first).days >= MAX_DAYS:
                raise ValueError(f"a range spans at most {MAX_DAYS} days")
        return self


class SiteQuery(RangeQuery):
    site: SiteId | None = Field(
        default=None,
        description="Only this site's agents (and queues), with the days on its clock "
        "(`default`: those in no site). Left out: everyone, on the default site's clock.",
    )


class DecisionsQuery(SiteQuery):
    group: str | None = Field(default=None, min_length=1, max_length=200, pattern=r"^[^\x00]+$")
    agent: AgentId | None = None


class AgentsQuery(SiteQuery):
    pass


class TrendsQuery(SiteQuery):
    days: int = Field(
        default=30,
        description="The last 30, 60 or 90 days to today, unless `from` is given.",
        json_schema_extra={"enum": [30, 60, 90]},
    )

    @model_validator(mode="after")
    def _known_days(self) -> Self:
        if self.days not in (30, 60, 90):
            raise ValueError("`days` is 30, 60 or 90")
        return self


class QueueNow(BaseModel):
    queue: str
    calls_waiting: int
    longest_wait_seconds: float
    service_level: float | None = Field(description="The last 15 minutes; null below 5 calls.")
    settled: int
    guard: str
    live: bool


class AgentNow(BaseModel):
    agent_id: str
    name: str
    state: str
    since: datetime | None
    task_id: int | None
    task_status: str | None
    task_type: str | None


class BacklogNow(BaseModel):
    type: str
    open: int
    breached: int
    due_soon: int
    first_due: datetime


class NowReport(BaseModel):
    at: datetime
    time_zone: str = Field(description="The clock the page reads times on: the site's.")
    blending_on: bool
    queues: list[QueueNow]
    agents: list[AgentNow]
    backlog: list[BacklogNow]


class DecisionsReport(BaseModel):
    first: date
    last: date
    items: list[DecisionOut] = Field(description="Oldest first.")


def span_of(query: RangeQuery, today: date, zone: tzinfo, *, default_days: int = 1) -> reports.Span:
    """The local days asked for, as instants: today (or the ``default_days`` to today) when
    no day is given."""
    last = query.last or (query.first if query.first is not None else today)
    first = query.first or last - timedelta(days=default_days - 1)
    if query.first is not None and query.last is None:
        last = first + timedelta(days=default_days - 1)
    if (last - first).days >= MAX_DAYS:
        raise ApiError(422, "invalid", f"invalid request: a range spans at most {MAX_DAYS} days")
    return reports.Span(
        first,
        last,
        midnight(first, zone),
        midnight(last + timedelta(1), zone),
        getattr(zone, "key", None),
    )


def midnight(day: date, zone: tzinfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone)


@dataclass(frozen=True)
class Answer:
    model: BaseModel
    tables: dict[str, tuple[type[BaseModel], Sequence[BaseModel]]]
    """Each table's model and rows, the first the default CSV."""
    first: date | None = None
    last: date | None = None


Reader = Callable[[web.Request, Any], Awaitable[Answer]]


def week_end(today: date, zone: tzinfo) -> datetime:
    """The end of ``today``'s week (the next Monday's midnight) on ``zone``'s clock."""
    return midnight(today + timedelta(days=7 - today.weekday()), zone)


async def site_zone(request: web.Request, site: str | None) -> tzinfo:
    """The site's clock (the default site's when none is asked for);
    :class:`~blending.sites.UnknownSite` for a site that does not exist."""
    if site is None:
        zone: tzinfo = request.config_dict[ZONE]
        return zone
    return await request.config_dict[STORES].sites.zone(site)


def local_today(request: web.Request, zone: tzinfo) -> date:
    now: datetime = request.config_dict[CLOCK].now()
    return now.astimezone(zone).date()


async def site_span(
    request: web.Request, query: SiteQuery, *, default_days: int = 1
) -> tuple[reports.Span, tzinfo]:
    """The days asked for on the site's clock (the default site's when none is asked for),
    and that clock."""
    zone = await site_zone(request, query.site)
    today = local_today(request, zone)
    return span_of(query, today, zone, default_days=default_days), zone


async def _members(request: web.Request, query: SiteQuery) -> set[str] | None:
    if query.site is None:
        return None
    members: set[str] = await request.config_dict[STORES].sites.agents_of(query.site)
    return members


def of_site(shown: Board, scope: Scope) -> Board:
    """The board of the site's queues and agents (the backlog is everyone's: a task belongs
    to no site)."""
    return replace(
        shown,
        queues=[q for q in shown.queues if scope.has_queue(q.queue)],
        agents=[a for a in shown.agents if scope.has_agent(a.agent_id)],
    )


async def _now(request: web.Request, query: SiteQuery) -> Answer:
    scope = await request.config_dict[STORES].sites.scope(query.site)
    everyone = await board(request.config_dict[STORES], request.config_dict[CLOCK].now())
    shown = of_site(everyone, scope)
    report = NowReport(
        at=shown.at,
        time_zone=scope.zone.key,
        blending_on=shown.blending_on,
        queues=[QueueNow.model_validate(q, from_attributes=True) for q in shown.queues],
        agents=[AgentNow.model_validate(a, from_attributes=True) for a in shown.agents],
        backlog=[BacklogNow.model_validate(b, from_attributes=True) for b in shown.backlog],
    )
    return Answer(
        report,
        {
            "queues": (QueueNow, report.queues),
            "agents": (AgentNow, report.agents),
            "backlog": (BacklogNow, report.backlog),
        },
    )


async def _decisions(request: web.Request, query: DecisionsQuery) -> Answer:
    span, _ = await site_span(request, query)
    items = await reports.decisions(
        request.config_dict[STORES].pool,
        span,
        group=query.group,
        agent_id=query.agent,
        site=query.site,
    )
    report = DecisionsReport(first=span.first, last=span.last, items=items)
    return Answer(report, {"decisions": (DecisionOut, items)}, span.first, span.last)


async def _agents(request: web.Request, query: AgentsQuery) -> Answer:
    span, _ = await site_span(request, query)
    pool, now = request.config_dict[STORES].pool, request.config_dict[CLOCK].now()
    report = reports.only(await reports.agents(pool, span, now), await _members(request, query))
    return Answer(
        report,
        {"agents": (reports.AgentTime, report.agents), "work": (reports.TypeWork, report.work)},
        span.first,
        span.last,
    )


async def _teams(request: web.Request, query: SiteQuery) -> Answer:
    span, _ = await site_span(request, query)
    report = await reports.teams(
        request.config_dict[STORES].pool,
        span,
        request.config_dict[CLOCK].now(),
        await _members(request, query),
    )
    return Answer(
        report,
        {"teams": (reports.TeamTime, report.teams), "work": (reports.TeamWork, report.work)},
        span.first,
        span.last,
    )


async def _costs(request: web.Request, query: SiteQuery) -> Answer:
    span, _ = await site_span(request, query)
    report = await reports.costs(
        request.config_dict[STORES].pool, span, request.config_dict[CLOCK].now(), query.site
    )
    return Answer(report, {"types": (reports.TypeCost, report.types)}, span.first, span.last)


async def _skills(request: web.Request, query: SiteQuery) -> Answer:
    span, zone = await site_span(request, query, default_days=30)
    report = await reports.skills(
        request.config_dict[STORES].pool,
        span,
        request.config_dict[CLOCK].now(),
        week_end(local_today(request, zone), zone),
        query.site,
    )
    return Answer(
        report,
        {"gaps": (reports.SkillGap, report.gaps), "coaching": (reports.Coaching, report.coaching)},
        span.first,
        span.last,
    )


async def _trends(request: web.Request, query: TrendsQuery) -> Answer:
    span, zone = await site_span(request, query, default_days=query.days)
    report = await reports.trends(
        request.config_dict[STORES].pool,
        span,
        request.config_dict[CLOCK].now(),
        getattr(zone, "key", str(zone)),
        query.site,
    )
    return Answer(report, {"days": (reports.TrendDay, report.days)}, span.first, span.last)


async def _recognition(request: web.Request, query: SiteQuery) -> Answer:
    span, _ = await site_span(request, query, default_days=30)
    report = await recognition.recognition(
        request.config_dict[STORES].pool, span, request.config_dict[CLOCK].now(), query.site
    )
    return Answer(
        report,
        {
            "top": (recognition.Performer, report.top),
            "improved": (recognition.Improver, report.improved),
            "agents": (recognition.Standing, report.agents),
        },
        span.first,
        span.last,
    )


@dataclass(frozen=True)
class Report:
    name: str
    query: type[SiteQuery]
    read: Reader
    model: type[BaseModel]
    summary: str
    description: str


REPORTS: dict[str, Report] = {
    r.name: r
    for r in (
        Report(
            "now",
            SiteQuery,
            _now,
            NowReport,
            "The center now: queues, agents by state, back-office backlog",
            "What the console's Now page shows. CSV tables: `queues`, `agents`, `backlog`. "
            "With `site`, its queues and its agents (the backlog is everyone's: a task belongs "
            "to no site); `from` and `to` are not read.",
        ),
        Report(
            "decisions",
            DecisionsQuery,
            _decisions,
            DecisionsReport,
            "Every lend, hold, recall and their reasons over a range of days",
            "Oldest first, filtered by `group` (a staffing group: the queue) and `agent`. With "
            "`site`, the decisions about its agents (or its queues, for those about a group "
            "alone) over the site's local days. The CSV (`decisions`) is read through a cursor "
            "and streamed, for a range of any size.",
        ),
        Report(
            "agents",
            AgentsQuery,
            _agents,
            reports.AgentsReport,
            "Per agent: time on calls, wrap-up, back office, paused, idle, break; work by type",
            "CSV tables: `agents` (time), `work` (steps done by type against the standard). "
            "With `site`, the site's agents over the site's local days.",
        ),
        Report(
            "teams",
            SiteQuery,
            _teams,
            reports.TeamsReport,
            "Per team: the agents' figures summed",
            "CSV tables: `teams`, `work`. With `site`, the site's agents over the site's local "
            "days.",
        ),
        Report(
            "costs",
            SiteQuery,
            _costs,
            reports.CostsReport,
            "Unit cost per task type",
            "Each type's cost: `cost_per_hour` times active time, over the tasks done. With "
            "`site`, the steps its agents did over the site's local days. CSV table: `types`.",
        ),
        Report(
            "skills-gaps",
            SiteQuery,
            _skills,
            reports.SkillsReport,
            "Skills gaps now, and coaching suggestions",
            "Waiting work per skill against the agents on shift and the skilled hours left this "
            "week; agents much slower than a type's standard over the range (default the last "
            "30 days) and agents never exposed to a type their team handles. With `site`, its "
            "agents on shift, their hours to the end of the site's week and their coaching, "
            "against all the waiting work. CSV tables: `gaps`, `coaching`.",
        ),
        Report(
            "trends",
            TrendsQuery,
            _trends,
            reports.TrendsReport,
            "Daily utilization, service level, abandonment, throughput, SLA attainment",
            "The last 30, 60 or 90 days (`days`), with the days blending was switched on. With "
            "`site`, its queues' calls and its agents' time and work over the site's local "
            "days. CSV table: `days`.",
        ),
        Report(
            "recognition",
            SiteQuery,
            _recognition,
            recognition.RecognitionReport,
            "Top performers, most improved, streaks and badges",
            "For the agents who take part (each may turn recognition off for themselves, and "
            "then is in none of it): the top performers of the range (default the last 30 "
            "days) by steps done within their type's standard time, then pace; the most "
            "improved, by pace against the equal range before; each agent's streak of working "
            "days on standard and badges (`top_performer`, `most_improved`, `streak_5`, "
            "`streak_10`, `streak_20`). With `site`, its agents ranked among themselves over the "
            "site's local days. CSV tables: `top`, `improved`, `agents`.",
        ),
    )
}


async def answer(request: web.Request, name: str, *, as_csv: bool = False) -> web.StreamResponse:
    """The report as JSON, or one of its tables as CSV (always, with ``as_csv``)."""
    report = REPORTS[name]
    query = read_query(request, report.query)
    if as_csv:
        query = query.model_copy(update={"format": "csv"})
    if query.format == "csv" and name == "decisions":
        assert isinstance(query, DecisionsQuery)
        return await _decisions_csv(request, query)
    found = await report.read(request, query)
    if query.format == "json":
        if query.table is not None:
            raise ApiError(422, "invalid", "invalid request: `table` goes with `format=csv`")
        return json_response(found.model)
    table = query.table or next(iter(found.tables))
    if table not in found.tables:
        known = ", ".join(found.tables)
        raise ApiError(422, "invalid", f"invalid request: table is one of {known}")
    model, rows = found.tables[table]
    return await write_csv(request, _filename(name, table, found), model, _rows(rows))


async def _decisions_csv(request: web.Request, query: DecisionsQuery) -> web.StreamResponse:
    span, _ = await site_span(request, query)
    if query.table not in (None, "decisions"):
        raise ApiError(422, "invalid", "invalid request: table is one of decisions")
    name = f"blendbot-decisions-{span.first}-{span.last}.csv"
    async with request.config_dict[STORES].pool.acquire() as conn, conn.transaction():
        rows = reports.stream_decisions(
            conn, span, group=query.group, agent_id=query.agent, site=query.site
        )
        return await write_csv(request, name, DecisionOut, _arows(rows))


def _filename(name: str, table: str, found: Answer) -> str:
    span = f"-{found.first}-{found.last}" if found.first is not None else ""
    part = "" if table == name else f"-{table}"
    return f"blendbot-{name}{part}{span}.csv"


def _cell(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), sort_keys=True)
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value  # a spreadsheet would run it as a formula
    return value


def _line(model: BaseModel) -> dict[str, Any]:
    return {k: _cell(v) for k, v in model.model_dump(mode="json").items()}


async def _rows(models: Iterable[BaseModel]) -> AsyncIterator[dict[str, Any]]:
    for model in models:
        yield _line(model)


async def _arows(models: AsyncIterator[BaseModel]) -> AsyncIterator[dict[str, Any]]:
    async for model in models:
        yield _line(model)


async def write_csv(
    request: web.Request,
    filename: str,
    model: type[BaseModel],
    rows: AsyncIterator[dict[str, Any]],
) -> web.StreamResponse:
    """Stream ``rows`` as CSV under a header of ``model``'s fields, ``CHUNK`` lines at a
    time."""
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{filename}"',
        }
    )
    await response.prepare(request)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(model.model_fields), lineterminator="\r\n")
    writer.writeheader()
    count = 0
    async for row in rows:
        writer.writerow(row)
        count += 1
        if count % CHUNK == 0:
            await response.write(buffer.getvalue().encode())
            buffer.seek(0)
            buffer.truncate()
    await response.write(buffer.getvalue().encode())
    await response.write_eof()
    return response


def _handler(name: str) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(request: web.Request) -> web.StreamResponse:
        return await answer(request, name)

    return handle


REPORT_OPERATIONS: tuple[Operation, ...] = tuple(
    Operation(
        "GET",
        f"/api/v1/reports/{r.name}",
        _handler(r.name),
        r.summary,
        "reports",
        query=r.query,
        responses={200: r.model, 401: ErrorOut, 404: ErrorOut, 422: ErrorOut},
        description=r.description
        + " Days are local days of the center's time zone (of the site's, where a `site` is "
        "asked for; an unknown `site` is a 404); `from` and `to` (included) span at "
        "most 92 days. With `format=csv`, one table as `text/csv` (nested values as JSON).",
        csv=True,
    )
    for r in REPORTS.values()
)

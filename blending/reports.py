"""The reports every surface shows (the reporting API, its CSV, the console's People, Cost and
skills, and Trends pages): per agent and team time and work, unit cost per task type, skills
gaps and coaching, and the daily trends. Read here once; the surfaces only render.

Time comes from what the center recorded: the telephony feeds' state reports (on a call,
wrap-up, available as idle, break), the back-office work's segments (active time), the task
log (completions, pauses, outcomes) and the blending log (work lent in a lull).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
from pydantic import BaseModel, Field

from blending.decision_log import SITE_OF, DecisionOut, decision_out
from blending.sites import read_for, site_members
from queues.db import Executor, load_queries, transaction

_SQL = load_queries("blending", "reports.sql")
for _name in ("store_state_days", "trend_presence", "trend_presence_site"):
    _SQL[_name] = _SQL[_name].format(trend_states=_SQL["trend_states"])
_SQL["decisions"] = _SQL["decisions"].format(site_of=SITE_OF)
SLOWER = 1.5
"""An agent this many times slower than a type's standard is a coaching suggestion."""
MIN_DONE = 3
"""Below this many steps done, a pace says nothing."""
EXPOSURE_DAYS = 90
"""How far back from a range's end a team's handled types are looked for."""
LIVE_DAYS = 2
"""Today and yesterday are read from the state reports as they stand (a feed may still send a
late report for them); the days before are rolled up once and read from the roll-up."""


@dataclass(frozen=True)
class Span:
    """Local days ``first`` to ``last`` inclusive, as instants ``[start, end)``."""

    first: date
    last: date
    start: datetime
    end: datetime
    zone: str | None = None
    """The time zone's name the days are in; without it every figure is read live."""


class AgentTime(BaseModel):
    agent_id: str
    name: str
    team: str | None
    on_call_seconds: float = Field(description="On a call, by the telephony feed.")
    wrap_seconds: float = Field(description="After-call work (wrap-up).")
    back_office_seconds: float = Field(description="Active time on back-office work.")
    paused_seconds: float = Field(description="Time their back-office work stood paused.")
    idle_seconds: float = Field(description="Available and waiting for a call.")
    break_seconds: float = Field(description="Break or any other away state.")
    tasks_done: int = Field(description="Steps completed (a task's last step completes it).")
    lull_seconds: float = Field(
        description="Back-office hours gained from lulls: active time on work the engine "
        "lent them while calls were quiet."
    )


class TypeWork(BaseModel):
    agent_id: str
    name: str
    team: str | None
    type: str
    done: int
    handle_seconds: float = Field(description="Average active time per step done.")
    standard_seconds: float = Field(description="The type's standard for those steps.")
    pace: float | None = Field(
        description="Handle time over the standard: 1.0 is on standard, 2.0 twice as slow."
    )
    outcomes: dict[str, int] = Field(description="How many were completed with each outcome.")


class AgentsReport(BaseModel):
    first: date
    last: date
    agents: list[AgentTime]
    work: list[TypeWork]


class TeamTime(BaseModel):
    team: str = Field(description="The team, or `(no team)`.")
    agents: int
    on_call_seconds: float
    wrap_seconds: float
    back_office_seconds: float
    paused_seconds: float
    idle_seconds: float
    break_seconds: float
    tasks_done: int
    lull_seconds: float


class TeamWork(BaseModel):
    team: str
    type: str
    done: int
    handle_seconds: float
    standard_seconds: float
    pace: float | None


class TeamsReport(BaseModel):
    first: date
    last: date
    teams: list[TeamTime]
    work: list[TeamWork]


class TypeCost(BaseModel):
    type: str
    tasks_done: int = Field(description="Tasks completed (their last step).")
    steps_done: int
    active_seconds: float
    cost: float = Field(description="Active time at each worker's `cost_per_hour`.")
    unit_cost: float | None = Field(
        description="`cost_per_hour` times active time / tasks done; null when none was done."
    )
    steps_without_cost: int = Field(
        description="Steps done by someone with no `cost_per_hour`: not in `cost`."
    )


class CostsReport(BaseModel):
    first: date
    last: date
    types: list[TypeCost]


class SkillGap(BaseModel):
    skill: str
    waiting_tasks: int = Field(description="Tasks waiting now whose current step needs it.")
    waiting_hours: float = Field(description="Their standard handle time, in hours.")
    uncovered_tasks: int = Field(
        description="Of those, tasks nobody on shift can take (nobody has every skill)."
    )
    skilled_on_shift: int = Field(description="Agents on shift now with the skill.")
    skilled_hours: float = Field(
        description="Scheduled shift hours of agents with the skill, from now to the week's end."
    )
    gap: bool = Field(
        description="Work waits that nobody on shift can take, or more waiting "
        "hours than skilled hours left this week."
    )


class Coaching(BaseModel):
    agent_id: str
    name: str
    team: str | None
    type: str
    kind: str = Field(
        description="`slower`: much slower than the type's standard; `never_exposed`: never "
        "worked a type their team handles (a training candidate)."
    )
    done: int
    pace: float | None


class SkillsReport(BaseModel):
    at: datetime
    week_end: datetime
    gaps: list[SkillGap]
    coaching: list[Coaching]


class TrendDay(BaseModel):
    day: date
    utilization: float | None = Field(
        description="On calls, wrap-up and back-office work over time logged in."
    )
    service_level: float | None = Field(description="Calls answered within target / settled.")
    abandonment: float | None = Field(description="Calls abandoned / offered.")
    throughput: int = Field(description="Back-office tasks completed.")
    sla_attainment: float | None = Field(description="Of those, the share done by their due time.")
    blending_switched_on: bool = Field(description="Blending was switched on that day.")


class TrendsReport(BaseModel):
    first: date
    last: date
    switched_on: list[datetime] = Field(description="Every time blending was switched on.")
    days: list[TrendDay]


def _pace(worked: float, standard: float) -> float | None:
    return worked / standard if standard > 0 else None


async def closed_days(
    db: Executor, zone: str | None, first: date, last: date, now: datetime
) -> tuple[date, date]:
    """The days of ``first`` to ``last`` that are over (all but the last ``LIVE_DAYS``), rolled
    up now if they are not yet; an empty range (last before first) when there are none."""
    if zone is None:
        return first, first - timedelta(days=1)
    last = min(last, last_closed_day(now, zone))
    if last >= first and await db.fetchval(_SQL["state_days_missing"], first, last, zone):
        await roll_up(db, zone, first, last, now)
    return first, last


def last_closed_day(now: datetime, zone: str) -> date:
    """The last local day read from the roll-up rather than live."""
    return _local_day(now, zone) - timedelta(days=LIVE_DAYS)


async def roll_up(db: Executor, zone: str, first: date, last: date, now: datetime) -> int:
    """Store each line's seconds per state (and their sum per day), each agent's completed
    steps and active time of the local days ``first`` to ``last`` not stored yet; returns how
    many days were stored. Meant for days that are over (work written later on a stored day,
    as an imported history's, stores its day again: ``queues.history.roll_up_again``)."""
    async with transaction(db) as conn:
        days = [r["day"] for r in await conn.fetch(_SQL["claim_state_days"], first, last, zone)]
        if days:
            await conn.execute(_SQL["store_state_days"], min(days), max(days), zone, now, days)
            await conn.execute(_SQL["store_work_days"], min(days), max(days), zone, days)
            await conn.execute(_SQL["store_state_totals"], zone, days)
            await conn.execute(_SQL["store_time_days"], min(days), max(days), zone, now, days)
    return len(days)


async def agents(db: Executor, span: Span, now: datetime) -> AgentsReport:
    first, last = await closed_days(db, span.zone, span.first, span.last, now)
    times, work = await _side_by_side(
        db,
        (_SQL["agent_time"], span.start, span.end, now, span.zone, first, last),
        (_SQL["work_done"], span.start, span.end, span.zone, first, last),
    )
    return AgentsReport(
        first=span.first,
        last=span.last,
        agents=[
            AgentTime(
                agent_id=r["agent_id"],
                name=r["name"],
                team=r["team"],
                on_call_seconds=r["on_call"],
                wrap_seconds=r["wrap"],
                back_office_seconds=r["back_office"],
                paused_seconds=r["paused"],
                idle_seconds=r["idle"],
                break_seconds=r["break"],
                tasks_done=r["tasks_done"],
                lull_seconds=r["lull"],
            )
            for r in times
        ],
        work=[
            TypeWork(
                agent_id=r["agent_id"],
                name=r["name"],
                team=r["team"],
                type=r["type"],
                done=r["done"],
                handle_seconds=r["worked"] / r["done"],
                standard_seconds=r["standard"] / r["done"],
                pace=_pace(r["worked"], r["standard"]),
                outcomes=_json(r["outcomes"]),
            )
            for r in work
        ],
    )


NO_TEAM = "(no team)"
_SUMMED = (
    "on_call_seconds",
    "wrap_seconds",
    "back_office_seconds",
    "paused_seconds",
    "idle_seconds",
    "break_seconds",
    "tasks_done",
    "lull_seconds",
)


def teams_of(report: AgentsReport) -> TeamsReport:
    """The agents' figures summed per team."""
    teams: dict[str, dict[str, Any]] = {}
    for a in report.agents:
        team = teams.setdefault(a.team or NO_TEAM, {"agents": 0} | dict.fromkeys(_SUMMED, 0))
        team["agents"] += 1
        for name in _SUMMED:
            team[name] += getattr(a, name)
    work: dict[tuple[str, str], list[float]] = {}
    for w in report.work:
        row = work.setdefault((w.team or NO_TEAM, w.type), [0, 0.0, 0.0])
        row[0] += w.done
        row[1] += w.handle_seconds * w.done
        row[2] += w.standard_seconds * w.done
    return TeamsReport(
        first=report.first,
        last=report.last,
        teams=[TeamTime(team=name, **figures) for name, figures in sorted(teams.items())],
        work=[
            TeamWork(
                team=team,
                type=type_,
                done=int(done),
                handle_seconds=worked / done,
                standard_seconds=standard / done,
                pace=_pace(worked, standard),
            )
            for (team, type_), (done, worked, standard) in sorted(work.items())
        ],
    )


async def teams(
    db: Executor, span: Span, now: datetime, members: Collection[str] | None = None
) -> TeamsReport:
    """The agents' figures summed per team; ``members``: only those agents'."""
    return teams_of(only(await agents(db, span, now), members))


def only(report: AgentsReport, members: Collection[str] | None) -> AgentsReport:
    """The report of ``members`` alone (None: everyone's)."""
    if members is None:
        return report
    return report.model_copy(
        update={
            "agents": [a for a in report.agents if a.agent_id in members],
            "work": [w for w in report.work if w.agent_id in members],
        }
    )


async def costs(db: Executor, span: Span, now: datetime, site: str | None = None) -> CostsReport:
    """``site``: only the steps its agents did (``default``: the agents in no site)."""
    first, last = await closed_days(db, span.zone, span.first, span.last, now)
    rows = await db.fetch(
        *read_for(_SQL["costs"], site, span.start, span.end, span.zone, first, last)
    )
    return CostsReport(
        first=span.first,
        last=span.last,
        types=[
            TypeCost(
                type=r["type"],
                tasks_done=r["tasks_done"],
                steps_done=r["steps_done"],
                active_seconds=r["active_seconds"],
                cost=r["cost"] or 0.0,
                unit_cost=(r["cost"] or 0.0) / r["tasks_done"] if r["tasks_done"] else None,
                steps_without_cost=r["steps_without_cost"],
            )
            for r in rows
        ],
    )


async def skills(
    db: Executor, span: Span, now: datetime, week_end: datetime, site: str | None = None
) -> SkillsReport:
    """The skills gaps now, and coaching suggestions from the work done in ``span``."""
    return (await skills_page(db, span, now, week_end, site=site)).report


@dataclass(frozen=True)
class Slice:
    """``size`` items of a list from the ``skip``-th on."""

    skip: int
    size: int


@dataclass(frozen=True)
class SkillsPage:
    report: SkillsReport
    slower: int
    """How many agents are much slower than a type's standard, in all."""
    candidates: int
    """How many training candidates there are, in all."""


async def skills_page(
    db: Executor,
    span: Span,
    now: datetime,
    week_end: datetime,
    *,
    slower: Slice | None = None,
    candidates: Slice | None = None,
    site: str | None = None,
) -> SkillsPage:
    """``skills`` with only a slice of each kind of coaching suggestion (all of it when None),
    in the order of the whole list, and how many of each there are. A center's coaching can
    run to thousands of lines: a page shows a slice, the CSV all of it. ``site``: only its
    agents on shift, skilled hours and coaching (``default``: those in no site); the waiting
    work is everyone's, since a task belongs to no site."""
    first, last = await closed_days(db, span.zone, span.first, span.last, now)
    since = span.end - timedelta(days=EXPOSURE_DAYS)
    back, back_last = await closed_days(
        db, span.zone, span.last + timedelta(days=1 - EXPOSURE_DAYS), span.last, now
    )
    limit, skip = (None, 0) if candidates is None else (candidates.size, candidates.skip)
    found, done, unexposed = await _side_by_side(
        db,
        read_for(_SQL["skills_gaps"], site, now, week_end),
        (_SQL["work_done"], span.start, span.end, span.zone, first, last),
        read_for(_SQL["never_exposed"], site, since, span.zone, back, back_last, limit, skip),
    )
    gaps = [
        SkillGap(
            skill=r["skill"],
            waiting_tasks=r["waiting_tasks"],
            waiting_hours=r["waiting_hours"],
            uncovered_tasks=r["uncovered_tasks"],
            skilled_on_shift=r["skilled_on_shift"],
            skilled_hours=r["skilled_hours"],
            gap=r["uncovered_tasks"] > 0 or r["waiting_hours"] > r["skilled_hours"],
        )
        for r in found
    ]
    members = await site_members(db, site)
    slow = [
        r
        for r in done
        if r["done"] >= MIN_DONE
        and r["worked"] >= SLOWER * r["standard"] > 0
        and (members is None or r["agent_id"] in members)
    ]
    shown = slow if slower is None else slow[slower.skip : slower.skip + slower.size]
    coaching = [
        Coaching(
            agent_id=r["agent_id"],
            name=r["name"],
            team=r["team"],
            type=r["type"],
            kind="slower",
            done=r["done"],
            pace=_pace(r["worked"], r["standard"]),
        )
        for r in shown
    ]
    coaching += [
        Coaching(
            agent_id=r["agent_id"],
            name=r["name"],
            team=r["team"],
            type=r["type"],
            kind="never_exposed",
            done=0,
            pace=None,
        )
        for r in unexposed
        if r["agent_id"] is not None
    ]
    return SkillsPage(
        SkillsReport(at=now, week_end=week_end, gaps=gaps, coaching=coaching),
        len(slow),
        unexposed[0]["total"] if unexposed else 0,
    )


def _share(part: float | None, whole: float | None) -> float | None:
    if part is None or not whole:
        return None
    return min(1.0, part / whole)


async def trends(
    db: Executor, span: Span, now: datetime, zone: str, site: str | None = None
) -> TrendsReport:
    """One row per local day of ``span``, and the days blending was switched on; ``site``:
    only its queues' calls and its agents' time and work (``default``: those in no site)."""
    first, last = await closed_days(db, zone, span.first, span.last, now)
    live = max(span.first, last + timedelta(days=1))
    states: tuple[Any, ...] = (_SQL["trend_presence"], live, span.last, zone, now, first, last)
    if site is not None:  # the day totals have lost each line's agent: read the lines' days
        states = (_SQL["trend_presence_site"], *states[1:], site)
    read = await _side_by_side(
        db,
        read_for(_SQL["trend_calls"], site, span.first, span.last, zone),
        read_for(_SQL["trend_work"], site, span.first, span.last, zone, first, last),
        states,
        read_for(_SQL["trend_back_office"], site, live, span.last, zone, now, first, last),
        (_SQL["switched_on"], span.end),
    )
    calls, work, presence = ({r["day"]: r for r in rows} for rows in read[:3])
    back_office = {r["day"]: r["seconds"] for r in read[3]}
    switched = [r["at"] for r in read[4]]
    on_days = {_local_day(at, zone) for at in switched}
    days = []
    day = span.first
    while day <= span.last:
        c, w, p = calls.get(day), work.get(day), presence.get(day)
        busy = None if p is None else (p["calls"] or 0) + (back_office.get(day) or 0)
        days.append(
            TrendDay(
                day=day,
                utilization=None if p is None else _share(busy, p["logged_in"]),
                service_level=None if c is None else _share(c["in_sl"], c["settled"]),
                abandonment=None if c is None else _share(c["abandoned"], c["offered"]),
                throughput=0 if w is None else w["done"],
                sla_attainment=None if w is None else _share(w["in_sla"], w["done"]),
                blending_switched_on=day in on_days,
            )
        )
        day += timedelta(days=1)
    return TrendsReport(first=span.first, last=span.last, switched_on=switched, days=days)


async def _side_by_side(db: Executor, *reads: tuple[Any, ...]) -> list[list[Any]]:
    """The rows of each read (a query and its arguments): side by side, each on a connection
    of its own, when ``db`` is a pool; one after the other on a connection."""
    if isinstance(db, asyncpg.Pool):
        return list(await asyncio.gather(*(db.fetch(*read) for read in reads)))
    return [await db.fetch(*read) for read in reads]


def _local_day(at: datetime, zone: str) -> date:
    return at.astimezone(ZoneInfo(zone)).date()


async def decisions(
    db: Executor,
    span: Span,
    *,
    group: str | None = None,
    agent_id: str | None = None,
    site: str | None = None,
) -> list[DecisionOut]:
    """``site``: only the decisions about its agents, or about its queues when they name no
    agent (``default``: those in no site)."""
    return [
        decision_out(r)
        for r in await db.fetch(
            *read_for(_SQL["decisions"], site, span.start, span.end, group, agent_id)
        )
    ]


async def stream_decisions(
    conn: Any,
    span: Span,
    *,
    group: str | None = None,
    agent_id: str | None = None,
    site: str | None = None,
) -> AsyncIterator[DecisionOut]:
    """The decisions of ``span`` read through a cursor (inside the caller's transaction), for
    a CSV of any length without holding it all."""
    read = read_for(_SQL["decisions"], site, span.start, span.end, group, agent_id)
    async for r in conn.cursor(*read):
        yield decision_out(r)


def _json(raw: Any) -> dict[str, int]:
    if isinstance(raw, str):
        loaded: dict[str, int] = json.loads(raw)
        return loaded
    return dict(raw)

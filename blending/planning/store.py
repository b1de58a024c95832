"""What the plan reads: the task history and types, the open tasks, the roster with its
schedules, and the calls' forecast over the plan's days (for the lulls)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from blending.errors import BlendingError
from blending.forecast_store import ForecastSettings, forecast_queue
from blending.intervals import FloatArray
from blending.lending import ForecastLending, Span, Staffer, working_spans
from blending.outlook import group_needs
from blending.planning.model import AgentSupply, OpenTask, Skills, TypeInfo
from blending.policy import BlendPolicy
from blending.sites import DEFAULT_SITE, SiteStore
from blending.snapshot import ForecastRow, staffing_group
from queues.db import Executor, load_queries

_SQL = load_queries("blending.planning", "planning.sql")
HANDLE_DAYS = 56
"""Handle times are learnt from the completions of the last eight weeks."""


def is_back_office(team: str | None, teams: frozenset[str]) -> bool:
    """Whether a team's name marks dedicated back-office staff (case, spaces, ``-`` and
    ``_`` aside)."""
    return team is not None and _norm(team) in {_norm(t) for t in teams}


def _norm(name: str) -> str:
    return "".join(c for c in name.lower() if c.isalnum())


async def daily_arrivals(
    db: Executor, first: date, last: date, zone: ZoneInfo
) -> dict[str, FloatArray]:
    """Tasks that arrived per type and local day, ``first`` to ``last`` included."""
    since = datetime.combine(first, time(), zone)
    until = datetime.combine(last + timedelta(days=1), time(), zone)
    length = (last - first).days + 1
    out: dict[str, FloatArray] = defaultdict(lambda: np.zeros(length))
    for r in await db.fetch(_SQL["arrivals"], since, until, zone.key):
        out[r["type"]][(r["day"] - first).days] = r["tasks"]
    return dict(out)


async def first_arrival(db: Executor) -> datetime | None:
    found: datetime | None = await db.fetchval("SELECT min(created_at) FROM tasks")
    return found


async def task_types(db: Executor, now: datetime) -> dict[str, TypeInfo]:
    """Each type's steps with their skills, and the minutes learnt from the last completions
    (the configured minutes where none were seen)."""
    learnt = {
        (r["type"], r["step"]): float(r["minutes"])
        for r in await db.fetch(_SQL["handle_minutes"], now - timedelta(days=HANDLE_DAYS))
        if r["minutes"] is not None and r["minutes"] > 0
    }
    out: dict[str, TypeInfo] = {}
    for r in await db.fetch(_SQL["types"]):
        steps = r["steps"] or [{"skills": r["skills"], "handle_minutes": r["handle_minutes"]}]
        out[r["name"]] = TypeInfo(
            r["name"],
            r["sla_minutes"],
            tuple(frozenset(s["skills"]) for s in steps),
            tuple(
                learnt.get((r["name"], k), float(s["handle_minutes"]))
                for k, s in enumerate(steps, start=1)
            ),
        )
    return out


async def open_tasks(db: Executor, now: datetime) -> list[OpenTask]:
    return [
        OpenTask(
            r["id"],
            r["type"],
            r["title"],
            r["step"],
            r["created_at"],
            r["due_at"],
            float(r["worked_seconds"]),
        )
        for r in await db.fetch(_SQL["backlog"], now)
    ]


async def recent_arrivals(db: Executor, since: datetime, until: datetime) -> dict[str, float]:
    """Tasks that arrived per type from ``since`` to ``until``."""
    rows = await db.fetch(_SQL["recent_arrivals"], since, until)
    return {r["type"]: float(r["tasks"]) for r in rows}


@dataclass(frozen=True)
class Supply:
    expected: list[AgentSupply]
    low: list[AgentSupply]
    """The lulls when calls run at their 95% bound (dedicated staff as expected)."""
    notes: list[str]
    calls: list[ForecastRow] = field(default_factory=list)
    """The call forecast over the plan's days."""
    groups: dict[str, list[tuple[Span, ...]]] = field(default_factory=dict)
    """Per staffing group, the working hours of each agent who answers calls."""
    staff: dict[str, tuple[Skills, str]] = field(default_factory=dict)
    """Each active agent's skills and site (:data:`~blending.sites.DEFAULT_SITE`: none)."""

    def of_site(self, site: str) -> Supply:
        """The hours of the site's agents only (the calls and their groups stay the center's:
        a move off the phones leaves a queue however many sites answer it)."""
        mine = {a for a, (_, s) in self.staff.items() if s == site}
        return replace(
            self,
            expected=[a for a in self.expected if a.agent_id in mine],
            low=[a for a in self.low if a.agent_id in mine],
        )


async def supply(
    db: Executor,
    now: datetime,
    days: int,
    policy: BlendPolicy,
    forecasts: ForecastSettings,
    *,
    target: tuple[float, float],
    back_office_teams: frozenset[str],
) -> Supply:
    """Each agent's back-office time over the plan: the lulls, as the engine's outlook sees
    them over a call forecast of the plan's days and the schedules, and whole shifts for
    dedicated staff. Agents with no schedule ahead give nothing: nobody knows they work."""
    horizon = now + timedelta(days=days)
    staff = await db.fetch(_SQL["staff"])
    shifts: dict[str, list[Span]] = defaultdict(list)
    breaks: dict[str, list[Span]] = defaultdict(list)
    for r in await db.fetch(_SQL["schedules"], now, horizon):
        (shifts if r["kind"] == "shift" else breaks)[r["agent_id"]].append(
            (r["starts_at"], r["ends_at"])
        )
    dedicated = {r["agent_id"] for r in staff if is_back_office(r["team"], back_office_teams)}
    spans = {
        r["agent_id"]: working_spans(shifts[r["agent_id"]], breaks[r["agent_id"]]) for r in staff
    }
    skills = {r["agent_id"]: frozenset(r["skills"]) for r in staff}
    rows, notes = await call_forecast(db, now, days, forecasts)
    callers = [r for r in staff if r["agent_id"] not in dedicated]
    named = {r["queue"] for r in callers if r["queue"]}
    staffers = [
        Staffer(
            r["agent_id"], staffing_group(r["queue"]), skills[r["agent_id"]], spans[r["agent_id"]]
        )
        for r in callers
    ]

    def lulls(p: BlendPolicy) -> dict[str, list[tuple[datetime, datetime, float]]]:
        lending = ForecastLending(
            now,
            group_needs(rows, named, p, target),
            staffers,
            safety_margin=p.windows.safety_margin,
            lends=p.name != "none",
        )
        out: dict[str, list[tuple[datetime, datetime, float]]] = defaultdict(list)
        for agent, start, end, share in lending.shares():
            out[agent].append((start, end, share))
        return out

    # The lending outlook over every interval is CPU work: off the event loop.
    expected, low = await asyncio.gather(
        asyncio.to_thread(lulls, policy), asyncio.to_thread(lulls, replace(policy, bound="hi_95"))
    )

    def of(pieces: dict[str, list[tuple[datetime, datetime, float]]]) -> list[AgentSupply]:
        out = [AgentSupply(a, skills[a], False, tuple(sorted(p))) for a, p in pieces.items() if p]
        for a in sorted(dedicated):
            own = tuple((max(s, now), e, 1.0) for s, e in spans[a] if e > now)
            out.append(AgentSupply(a, skills[a], True, own))
        return out

    if dedicated and not any(spans[a] for a in dedicated):
        notes.append("the dedicated back-office staff have no shifts in the plan's days")
    groups: dict[str, list[tuple[Span, ...]]] = defaultdict(list)
    for r in callers:
        groups[staffing_group(r["queue"])].append(spans[r["agent_id"]])
    staffed = {r["agent_id"]: (skills[r["agent_id"]], r["site_id"] or DEFAULT_SITE) for r in staff}
    return Supply(of(expected), of(low), notes, rows, dict(groups), staffed)


async def call_forecast(
    db: Executor, now: datetime, days: int, policy: ForecastSettings
) -> tuple[list[ForecastRow], list[str]]:
    """Every queue's calls forecast over ``days`` days from its history (not stored: the
    engine's own forecast reaches a day), fitted on its site's clock and staffed as the engine
    staffs them."""
    since = now - timedelta(weeks=policy.weeks + 1)
    rows: list[ForecastRow] = []
    notes: list[str] = []
    clocks = await SiteStore(db, policy.timezone).clocks()
    for q in await db.fetch(_SQL["call_queues"]):
        queue = q["queue"]
        history = await db.fetch(_SQL["call_history"], queue, since)
        if not history:
            continue
        minutes = history[-1]["minutes"]
        points = [(h["interval_start"], float(h["calls"]), h["aht_seconds"]) for h in history]
        try:
            on_clock = replace(policy, timezone=clocks.of_queue(queue).key)
            forecast, agents = await asyncio.to_thread(
                forecast_queue, points, queue, minutes, on_clock, days
            )
        except BlendingError as exc:
            notes.append(f"no lulls counted for queue {queue}: {exc}")
            continue
        for p, (need, need_high) in zip(forecast.points, agents, strict=True):
            if p.interval_start + timedelta(minutes=minutes) > now:
                rows.append(
                    ForecastRow(
                        queue, p.interval_start, minutes, p.mean, p.aht_seconds, need, need_high
                    )
                )
    if not rows:
        notes.append("no call forecast: the lulls give no hours in this plan")
    return rows, notes

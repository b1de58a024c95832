"""The plan as the service makes it: read, forecast (off the loop), work out."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from blending.forecast_store import ForecastSettings
from blending.intervals import FloatArray
from blending.planning import store
from blending.planning.arrivals import MIN_DAYS, DailyBands
from blending.planning.calibration import forecast_calibrated
from blending.planning.intraday import TypeIntervals, scaled
from blending.planning.model import AgentSupply, OpenTask, Plan, Skills, TypeInfo
from blending.planning.plan import build_plan, type_share
from blending.planning.share import set_pulls, site_shares
from blending.planning.what_if import MoveIn, WhatIf, what_if
from blending.policy import BlendPolicy, policy_for
from blending.sites import SiteStore
from queues.db import Executor

DEFAULT_TEAMS = frozenset({"back office", "backoffice"})


@dataclass(frozen=True)
class PlanSettings:
    days: int = 14
    history_days: int = 730
    """How far back the arrivals are learnt from."""
    back_office_teams: frozenset[str] = DEFAULT_TEAMS
    """Teams whose agents are dedicated back-office staff."""
    timezone: str = "UTC"
    forecasts: ForecastSettings = field(default_factory=ForecastSettings)
    policy: BlendPolicy = field(default_factory=lambda: policy_for("forecast_guard"))
    target: tuple[float, float] = (0.8, 20.0)


async def history(
    db: Executor, now: datetime, settings: PlanSettings, zone: ZoneInfo | None = None
) -> tuple[date, dict[str, FloatArray]]:
    """Arrivals per type and day, up to yesterday (on ``zone``'s clock, default the default
    site's), from the first task seen and at most ``history_days`` back."""
    zone = zone or ZoneInfo(settings.timezone)
    today = now.astimezone(zone).date()
    first_seen = await store.first_arrival(db)
    first = today - timedelta(days=settings.history_days)
    if first_seen is not None:
        first = max(first, first_seen.astimezone(zone).date())
    last = today - timedelta(days=1)
    if last < first:
        return today, {}
    return first, await store.daily_arrivals(db, first, last, zone)


@dataclass(frozen=True)
class PlanInputs:
    """Everything a plan is worked out from, read at once: a what-if reworks it."""

    now: datetime
    zone: ZoneInfo
    days: int
    types: dict[str, TypeInfo]
    forecast: dict[str, DailyBands]
    supply: store.Supply
    backlog: list[OpenTask]
    notes: list[str]
    site: str | None = None
    """The site planned for (None: the whole center)."""
    shares: dict[Skills, float] | None = None
    """The site's share of each skill set's work (None: all of it)."""

    def plan(self, extra: Sequence[AgentSupply] = ()) -> Plan:
        return build_plan(
            self.now,
            self.zone,
            self.days,
            self.types,
            self.forecast,
            [*self.supply.expected, *extra],
            self.supply.low,
            self.backlog,
            notes=self.notes,
            shares=self.shares,
            site=self.site,
        )


async def make_plan(
    db: Executor,
    now: datetime,
    settings: PlanSettings,
    *,
    days: int | None = None,
    zone: ZoneInfo | None = None,
    site: str | None = None,
) -> Plan:
    """The plan with days on ``zone``'s clock (default the default site's): the whole
    center's, or ``site``'s (its staff and its share of the work)."""
    inputs = await gather(db, now, settings, days=days, zone=zone, site=site)
    return await asyncio.to_thread(inputs.plan)  # seconds of arithmetic for a large center


async def gather(
    db: Executor,
    now: datetime,
    settings: PlanSettings,
    *,
    days: int | None = None,
    zone: ZoneInfo | None = None,
    site: str | None = None,
) -> PlanInputs:
    horizon = days or settings.days
    zone = zone or ZoneInfo(settings.timezone)
    notes: list[str] = []
    first, arrivals = await history(db, now, settings, zone)
    types = await store.task_types(db, now)
    forecast: dict[str, DailyBands] = {}
    length = len(next(iter(arrivals.values()))) if arrivals else 0
    if length >= MIN_DAYS:
        known = {t: arrivals[t] for t in types if t in arrivals}
        if known:
            forecast = await asyncio.to_thread(forecast_calibrated, known, first, horizon)
        new = sorted(set(types) - set(arrivals))
        if new:
            notes.append(f"no arrivals seen yet for {', '.join(new)}: none forecast")
    else:
        notes.append(
            f"{length} day(s) of task history, {MIN_DAYS} needed: no arrivals forecast "
            "(import the history with `blendbot import tasks`)"
        )
    today = now.astimezone(zone).date()
    start = datetime.combine(today, time(), zone)
    end = datetime.combine(today + timedelta(days=1), time(), zone)
    rest_of_today = (end - now) / (end - start)  # a DST day is 23 or 25 hours long
    forecast = {t: _today_scaled(b, rest_of_today) for t, b in forecast.items()}
    backlog = await store.open_tasks(db, now)
    supply = await center_supply(db, now, settings, horizon)
    notes += supply.notes
    if site is None:
        return PlanInputs(now, zone, horizon, types, forecast, supply, backlog, notes)
    shares = await site_shares_of(db, now, horizon, site, types, backlog, supply)
    mine = supply.of_site(site)
    if not mine.expected:
        notes.append(f"no agent of site {site} gives back-office hours in the plan's days")
    return PlanInputs(
        now, zone, horizon, types, forecast, mine, backlog, notes, site=site, shares=shares
    )


async def site_shares_of(
    db: Executor,
    now: datetime,
    days: int,
    site: str,
    types: dict[str, TypeInfo],
    backlog: list[OpenTask],
    supply: store.Supply,
) -> dict[Skills, float]:
    """``site``'s share of each skill set's work (:mod:`blending.planning.share`)."""
    recent = await store.recent_arrivals(db, now - timedelta(days=days), now)
    end = now + timedelta(days=days)
    split = site_shares(set_pulls(types, recent, backlog), supply.expected, supply.staff, now, end)
    return {skills: by_site.get(site, 0.0) for skills, by_site in split.items()}


async def center_supply(
    db: Executor, now: datetime, settings: PlanSettings, days: int
) -> store.Supply:
    """Every agent's back-office hours over the next ``days`` days."""
    return await store.supply(
        db,
        now,
        days,
        settings.policy,
        settings.forecasts,
        target=settings.target,
        back_office_teams=settings.back_office_teams,
    )


def _today_scaled(bands: DailyBands, share: float) -> DailyBands:
    """Today's arrivals so far are in the backlog already: only the rest of the day comes."""
    values = [v.copy() for v in (bands.mean, bands.lo_80, bands.hi_80, bands.lo_95, bands.hi_95)]
    for v in values:
        v[0] *= share
    return DailyBands(bands.days, *values)


class Planner:
    """The plan on a pool, for every surface (API, Slack, CLI, console).

    ``site`` None plans the whole center on the default site's clock; a site's name (or
    :data:`~blending.sites.DEFAULT_SITE` for the agents and queues in none) plans that site's
    staff and its share of the work on its clock; :class:`~blending.sites.UnknownSite` for a
    site that does not exist."""

    def __init__(self, db: Executor, settings: PlanSettings | None = None) -> None:
        self._db = db
        self.settings = settings or PlanSettings()

    async def plan(self, now: datetime, days: int | None = None, site: str | None = None) -> Plan:
        zone = await SiteStore(self._db, self.settings.timezone).zone(site)
        return await make_plan(self._db, now, self.settings, days=days, zone=zone, site=site)

    async def intervals(
        self,
        now: datetime,
        days: int,
        minutes: int,
        site: str | None = None,
        *,
        plan: Plan | None = None,
    ) -> list[TypeIntervals]:
        """Each type's arrivals per interval over the next ``days`` days on the site's clock,
        a site's being its share of each type's (``plan``: the site's plan already made,
        whose shares are taken)."""
        # The intraday split reads this module's history: imported here, not at the top.
        from blending.planning.intraday_store import interval_forecast

        zone = await SiteStore(self._db, self.settings.timezone).zone(site)
        found = await interval_forecast(
            self._db, now, self.settings, days=days, minutes=minutes, zone=zone
        )
        if site is None or not found:
            return found
        if plan is None or plan.site != site:
            types = await store.task_types(self._db, now)
            backlog = await store.open_tasks(self._db, now)
            supply = await center_supply(self._db, now, self.settings, self.settings.days)
            shares = await site_shares_of(
                self._db, now, self.settings.days, site, types, backlog, supply
            )
            by_type = {name: type_share(info, shares) for name, info in types.items()}
        else:
            by_type = {t.type: t.share for t in plan.types}
        return [scaled(t, by_type[t.type]) for t in found if by_type.get(t.type, 0.0) > 0]

    async def what_if(self, now: datetime, move: MoveIn, site: str | None = None) -> WhatIf:
        """The plan with the move, against the plan without it."""
        zone = await SiteStore(self._db, self.settings.timezone).zone(site)
        inputs = await gather(self._db, now, self.settings, zone=zone, site=site)
        return what_if(inputs, move, target_seconds=self.settings.target[1])

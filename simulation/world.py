"""The simulated days: calls, a roster, and back-office work, built from a real profile.

Everything here is drawn from its own random stream of one seed, so every policy of a run
meets the same callers, the same agents and the same back-office work.

* **Calls** follow the profile's weekday-by-slot means, times a day level drawn around 1 (the
  part of a day's volume a forecast cannot know), as a non-homogeneous Poisson process; the
  weeks before the first day are drawn the same way, as the history the forecast learns from.
  Surge days (``surge_days``) run ``surge`` times that, unannounced: neither the history nor
  the planned shifts know of them, so the forecast is that much short (the days a guard is for).
* **Agents** have two or three back-office skills, a proficiency in each, and a speed.
* **Back-office work** arrives in bursts: the morning mail, a trickle through office hours, and
  more billing corrections at month end; a backlog is waiting at the start.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field, model_validator

from blending.errors import BlendingError
from blending.staffing import agents_needed
from simulation.center import CallStream, Shift, draw_calls
from simulation.profile import CenterProfile
from simulation.shifts import FOUR_HOURS, FULL_DAY, plan_shifts


class TaskKind(BaseModel):
    name: str
    skills: list[str]
    minutes: float = Field(gt=0)
    sla_minutes: int = Field(gt=0)
    pausable: bool = True
    share: float = Field(gt=0)
    """Share of the arriving work."""
    month_end: float = 1.0
    """How much more of it arrives in the last three days of a month."""


TASK_KINDS = [
    TaskKind(name="address_change", skills=["accounts"], minutes=6, sla_minutes=1440, share=0.3),
    TaskKind(
        name="billing_correction",
        skills=["billing"],
        minutes=12,
        sla_minutes=2880,
        share=0.25,
        month_end=2.5,
    ),
    TaskKind(name="card_dispute", skills=["cards"], minutes=15, sla_minutes=4320, share=0.2),
    TaskKind(
        name="mortgage_document_check",
        skills=["mortgage"],
        minutes=20,
        sla_minutes=7200,
        share=0.15,
    ),
    TaskKind(
        name="account_opening",
        skills=["accounts", "kyc"],
        minutes=25,
        sla_minutes=2880,
        pausable=False,
        share=0.1,
    ),
]
SKILLS = ["accounts", "billing", "cards", "mortgage", "kyc"]


class WorldSpec(BaseModel):
    """What the simulated center looks like, beyond the profile."""

    start: datetime = datetime(1999, 8, 1, tzinfo=UTC)
    """The first simulated day, at midnight of the center's clock (a Sunday, the bank's
    busiest weekday; its weekend is Friday and Saturday)."""
    days: int = Field(default=1, ge=1, le=366)
    history_weeks: int = Field(default=9, ge=3, le=60)
    interval_minutes: Literal[5, 10, 15, 30, 60] = 15
    """The statistics interval: what the forecast and the staffing are per."""
    scale: float = Field(default=1.0, gt=0, le=100)
    """Calls times this (and so the agents needed)."""
    roster: int | None = Field(default=None, ge=1, le=10_000)
    """Agents on the roster; default: enough for the busiest day's shifts."""
    backlog_start: int = Field(default=150, ge=0)
    mail: float = Field(default=80, ge=0)
    """Mean tasks in the morning mail (at 08:00) of a weekday."""
    trickle_per_hour: float = Field(default=9, ge=0)
    """Mean tasks arriving per office hour (08:00-18:00) of a weekday."""
    min_staff: int = Field(default=2, ge=0, le=10_000)
    """Agents on the phones at every hour, however quiet (a center's own rule)."""
    shift_starts_every: int = Field(default=60, ge=15, le=240)
    """Minutes between the times a shift may start."""
    task_cv: float = Field(default=0.5, gt=0)
    """Spread of a task's time around its type's handle minutes."""
    speed_sd: float = Field(default=0.2, ge=0)
    surge_days: tuple[int, ...] = ()
    """Days (0 = the first) whose calls run ``surge`` times their drawn volume, unannounced."""
    surge: float = Field(default=1.3, gt=0, le=10)
    """How much more the calls of a surge day are than the forecast expects."""

    @model_validator(mode="after")
    def _surge_within(self) -> WorldSpec:
        outside = [d for d in self.surge_days if not 0 <= d < self.days]
        if outside:
            raise ValueError(f"surge days {outside} are not among the {self.days} simulated days")
        return self

    def level(self, day: int) -> float:
        """The calls of ``day`` relative to a day's drawn volume (``surge`` on a surge day)."""
        return self.surge if day in self.surge_days else 1.0


@dataclass(frozen=True)
class SimTask:
    external_id: str
    kind: TaskKind
    arrives: float
    """Seconds from the start of the first day (negative: waiting before it)."""
    seconds: float
    """The work it takes an agent of speed 1."""


@dataclass(frozen=True)
class RosterAgent:
    agent_id: str
    name: str
    skills: dict[str, int]
    speed: float


@dataclass
class World:
    spec: WorldSpec
    profile: CenterProfile
    calls: CallStream
    history: list[tuple[datetime, float]]
    """Calls per slot in the weeks before the first day."""
    day_levels: list[float]
    tasks: list[SimTask]
    seed: int

    def clock(self, seconds: float) -> datetime:
        return self.spec.start + timedelta(seconds=seconds)


def _streams(seed: int) -> list[np.random.Generator]:
    return [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(5)]


def build_world(profile: CenterProfile, spec: WorldSpec, seed: int) -> World:
    calls_rng, history_rng, task_rng, _, level_rng = _streams(seed)
    levels = np.exp(level_rng.normal(0, profile.day_level_sd, spec.days)).tolist()
    per_minute = np.concatenate(
        [
            profile.per_minute((spec.start + timedelta(days=d)).weekday())
            * spec.scale
            * lvl
            * spec.level(d)
            for d, lvl in enumerate(levels)
        ]
    )
    sigma2 = math.log(1 + (profile.handle_sd / profile.handle_mean) ** 2)
    mu = math.log(profile.handle_mean) - sigma2 / 2
    calls = draw_calls(
        per_minute,
        lambda n: calls_rng.lognormal(mu, math.sqrt(sigma2), n),
        lambda n: calls_rng.exponential(profile.patience_mean, n),
        calls_rng,
    )
    return World(
        spec=spec,
        profile=profile,
        calls=calls,
        history=_history(profile, spec, history_rng),
        day_levels=levels,
        tasks=draw_tasks(spec, task_rng),
        seed=seed,
    )


def _history(
    profile: CenterProfile, spec: WorldSpec, rng: np.random.Generator
) -> list[tuple[datetime, float]]:
    minutes = spec.interval_minutes
    step = timedelta(minutes=minutes)
    out = []
    for back in range(spec.history_weeks * 7, 0, -1):
        day = spec.start - timedelta(days=back)
        level = math.exp(rng.normal(0, profile.day_level_sd))
        per_minute = profile.per_minute(day.weekday()).reshape(-1, minutes).sum(axis=1)
        means = per_minute * spec.scale * level
        for slot, count in enumerate(rng.poisson(means)):
            out.append((day + slot * step, float(count)))
    return out


def _draw_kind(rng: np.random.Generator, month_end: bool) -> TaskKind:
    weights = np.array([k.share * (k.month_end if month_end else 1.0) for k in TASK_KINDS])
    return TASK_KINDS[int(rng.choice(len(TASK_KINDS), p=weights / weights.sum()))]


BACKLOG_SECONDS = 2 * 86400.0
"""The work waiting at the start came over this long before the first day."""


def draw_tasks(spec: WorldSpec, rng: np.random.Generator) -> list[SimTask]:
    sigma = math.sqrt(math.log(1 + spec.task_cv**2))
    out: list[SimTask] = []

    def add(at: float, month_end: bool) -> None:
        kind = _draw_kind(rng, month_end)
        seconds = kind.minutes * 60 * float(rng.lognormal(-(sigma**2) / 2, sigma))
        out.append(SimTask(f"BO-{len(out) + 1:06d}", kind, at, seconds))

    for _ in range(spec.backlog_start):
        add(-float(rng.uniform(0, BACKLOG_SECONDS)), False)
    for d in range(spec.days):
        day = spec.start + timedelta(days=d)
        if day.weekday() == 5:  # Saturday: no mail, no office
            continue
        month_end = (day + timedelta(days=3)).month != day.month
        base = d * 86400.0
        for _ in range(int(rng.poisson(spec.mail))):
            add(base + 8 * 3600 + float(rng.uniform(0, 600)), month_end)
        trickle = rng.poisson(spec.trickle_per_hour * 10)
        for at in np.sort(rng.uniform(8 * 3600, 18 * 3600, trickle)):
            add(base + float(at), month_end)
    out.sort(key=lambda t: t.arrives)
    return out


def need_of_day(world: World, day: int, target: tuple[float, float, float]) -> list[int]:
    """Agents per interval that workforce management plans a day for, weeks ahead: the
    profile's mean for its weekday (not the day's own forecast), at the service target, and
    never fewer than the center's minimum."""
    spec, profile = world.spec, world.profile
    weekday = (spec.start + timedelta(days=day)).weekday()
    minutes = spec.interval_minutes
    calls = profile.per_minute(weekday).reshape(-1, minutes).sum(axis=1) * spec.scale
    need = []
    for c in calls:
        try:
            n = agents_needed(float(c), minutes, profile.handle_mean, *target).agents if c else 0
        except BlendingError:
            n = spec.min_staff
        need.append(max(n, spec.min_staff))
    return need


def plan_day(world: World, day: int, target: tuple[float, float, float]) -> list[Shift]:
    """The day's shifts: full days and half days starting on the hour, as rosters are made."""
    return plan_shifts(
        need_of_day(world, day, target),
        world.spec.interval_minutes,
        day_start=day * 86400.0,
        templates=(FULL_DAY, FOUR_HOURS),
        start_every_minutes=world.spec.shift_starts_every,
    )


def make_roster(world: World, size: int) -> list[RosterAgent]:
    """The first ``size`` agents of the world's roster (the same agents whatever the size)."""
    rng = _streams(world.seed)[3]
    roster = []
    for i in range(size):
        skills = rng.choice(SKILLS, size=int(rng.integers(2, 4)), replace=False)
        roster.append(
            RosterAgent(
                agent_id=f"agent{i + 1:03d}",
                name=f"Agent {i + 1}",
                skills={str(s): int(rng.integers(1, 6)) for s in skills},
                speed=float(np.exp(rng.normal(0, world.spec.speed_sd))),
            )
        )
    return roster

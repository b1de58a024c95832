"""The back-office plan checked against the simulated center.

A run of the simulated days learns from a task history drawn as the days' work is (the weeks
before the first day, imported as closed tasks), and from the schedules of its roster written
as workforce management plans them (:func:`roster_schedules`). After the first ``plan_after``
days the service makes its plan (:func:`blending.planning.service.make_plan`, the engine's own
reading of the database at that moment); at the end of each later day the open work left per
type is measured in the plan's own units (hours by the plan's handle times) and set against
the plan's 80% band for that day. A second run of the same world adds the plan's extra hours
as dedicated back-office agents (:mod:`simulation.dedicated`), and the back-office SLA
attainment of the days after the plan is compared with and without them.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from functools import partial

import numpy as np
from pydantic import BaseModel, Field

from blending.planning.model import Plan, TypeInfo
from blending.planning.plan import remaining_hours
from blending.planning.service import PlanSettings, history, make_plan
from blending.planning.store import open_tasks, task_types
from blending.presence import Schedule, ScheduleEntry
from blending.telemetry_store import TelemetryStore
from queues.db import Executor, load_queries
from queues.history import ClosedTaskIn, insert_closed, roll_up_again, type_facts
from simulation.center import Center, Shift
from simulation.dedicated import DedicatedStaff, ExtraShift, extra_shifts
from simulation.real_engine import DAY, EngineBackoffice
from simulation.shifts import free_longest
from simulation.world import BACKLOG_SECONDS, RosterAgent, World, draw_tasks, plan_day

_SQL = load_queries("simulation", "results.sql")
TOLERANCE = 0.01
"""Hours: the plan's figures are rounded to the hundredth."""


def history_tasks(world: World) -> list[ClosedTaskIn]:
    """The closed tasks of the ``history_weeks`` before the first day, drawn as the days'
    work is (its own random stream), each done within its SLA after its worked time."""
    spec = world.spec
    weeks = spec.history_weeks
    start = spec.start - timedelta(weeks=weeks)
    before = spec.model_copy(update={"start": start, "days": 7 * weeks, "backlog_start": 0})
    rng = np.random.default_rng(np.random.SeedSequence(world.seed).spawn(6)[5])
    drawn = draw_tasks(before, rng)
    # The work waiting at the start (the world's backlog) is the part of the last days'
    # arrivals not done by then: as many of those days' tasks are left out of the closed
    # history, so that those days' arrivals are the days' work, not that and the backlog.
    window = [i for i, t in enumerate(drawn) if t.arrives >= 7 * weeks * 86400 - BACKLOG_SECONDS]
    left_out = set(
        rng.choice(window, min(len(window), spec.backlog_start), replace=False).tolist()
        if window
        else []
    )
    out = []
    for t in (t for i, t in enumerate(drawn) if i not in left_out):
        created = start + timedelta(seconds=t.arrives)
        worked = t.seconds / 60
        wait = timedelta(minutes=float(rng.uniform(0.05, 0.8)) * t.kind.sla_minutes)
        done = max(created + timedelta(minutes=worked), min(created + wait, spec.start))
        out.append(
            ClosedTaskIn(
                source="history",
                external_id=f"H{t.external_id}",
                type=t.kind.name,
                title=t.kind.name.replace("_", " "),
                created_at=created,
                completed_at=done,
                worked_minutes=worked,
            )
        )
    return out


async def import_history(db: Executor, world: World, batch: int = 2000) -> int:
    """The task history into the (template) database, as ``blendbot import tasks`` would."""
    items = history_tasks(world)
    facts = await type_facts(db)
    worked: set[tuple[datetime, datetime]] = set()
    for i in range(0, len(items), batch):
        written = await insert_closed(db, items[i : i + batch], facts, "import:history")
        worked |= written.worked
    await roll_up_again(db, worked)
    return len(items)


def roster_shifts(
    world: World,
    roster: Sequence[RosterAgent],
    target: tuple[float, float, float],
    days: int | None = None,
) -> dict[str, list[Shift]]:
    """The shifts of the first ``days`` days (default: the simulated ones) by agent, as the
    run assigns them (planned weeks ahead: the same whatever happens on the days)."""
    booked: dict[str, list[Shift]] = {r.agent_id: [] for r in roster}
    for day in range(days or world.spec.days):
        for shift in plan_day(world, day, target):
            chosen = free_longest(booked, shift)
            if chosen is not None:
                booked[chosen].append(shift)
    return booked


async def roster_schedules(
    db: Executor, world: World, shifts: dict[str, list[Shift]], since: float
) -> None:
    """The shifts and breaks from ``since`` (seconds) as the agents' schedules."""
    store = TelemetryStore(db, interval_minutes=world.spec.interval_minutes)
    for agent_id, mine in shifts.items():
        items = []
        for s in mine:
            if s.end <= since:
                continue
            items.append(
                ScheduleEntry(kind="shift", start=world.clock(s.start), end=world.clock(s.end))
            )
            items += [
                ScheduleEntry(kind="break", start=world.clock(b), end=world.clock(e))
                for b, e in s.breaks
            ]
        if items:
            await store.put_schedule(agent_id, Schedule(items=items))


class TypeDayCheck(BaseModel):
    type: str
    day: str
    backlog_hours: float = Field(description="Open work left at the end of the day, measured.")
    lo_80: float
    hi_80: float
    mean: float
    inside: bool


class DayArrivals(BaseModel):
    day: str
    counted: int = Field(description="Tasks the plan's history counts as that day's arrivals.")
    drawn: int = Field(description="Tasks the simulated world made arrive that day.")


def drawn_per_day(world: World, days: int) -> list[int]:
    """The world's own arrivals on each of its first ``days`` days (the work waiting at the
    start came before the first)."""
    out = [0] * days
    for t in world.tasks:
        d = math.floor(t.arrives / DAY)
        if 0 <= d < days:
            out[d] += 1
    return out


class RunChecked(BaseModel):
    sla_attainment: float | None = Field(
        description="Of the tasks due after the plan was made, the share done by their due time."
    )
    due: int
    backlog_end: int


@dataclass
class Probe:
    """What one run records: the plan (made in the run, or given), the backlog measured at
    the end of each day after it, and the SLA attainment of those days."""

    plan_after: int
    settings: PlanSettings
    plan: Plan | None = None
    types: dict[str, TypeInfo] = field(default_factory=dict)
    measured: dict[tuple[str, int], float] = field(default_factory=dict)
    figures: RunChecked | None = None
    arrivals: list[DayArrivals] = field(default_factory=list)
    """The simulated days before the plan: the arrivals its history counted, against the
    world's."""

    def schedule(self, controller: EngineBackoffice, make: bool) -> None:
        end = controller.world.spec.days
        if make:
            controller._later(self.plan_after * DAY, partial(self._plan, controller))
        for day in range(self.plan_after + 1, end + 1):
            # A second before midnight: the last day's end is the end of the run.
            controller._later(day * DAY - 1, partial(self._measure, controller, day - 1))
        controller._later(end * DAY - 1, partial(self._attainment, controller, end * DAY - 1))

    async def _plan(self, controller: EngineBackoffice) -> None:
        await controller._on_time()
        now = controller.clock.now()
        self.plan = await make_plan(controller.db, now, self.settings)
        self.types = await task_types(controller.db, now)
        world = controller.world
        first, counts = await history(controller.db, now, self.settings)
        drawn = drawn_per_day(world, self.plan_after)
        for d in range(self.plan_after):
            day = world.clock(d * DAY).date()
            i = (day - first).days
            counted = sum(int(c[i]) for c in counts.values()) if i >= 0 else 0
            self.arrivals.append(DayArrivals(day=day.isoformat(), counted=counted, drawn=drawn[d]))

    async def _measure(self, controller: EngineBackoffice, day: int) -> None:
        await controller._on_time()
        types = self.types or await task_types(controller.db, controller.clock.now())
        left: dict[str, float] = defaultdict(float)
        for task in await open_tasks(controller.db, controller.clock.now()):
            info = types.get(task.type)
            if info is not None:
                left[task.type] += sum(remaining_hours(task, info).values())
        for name in types:
            self.measured[(name, day)] = left.get(name, 0.0)

    async def _attainment(self, controller: EngineBackoffice, end: float) -> None:
        await controller._on_time()
        world = controller.world
        # The run's own tasks: the imported history's are done before the first day.
        row = await controller.db.fetchrow(
            _SQL["sla_attainment_of_source"],
            world.clock(self.plan_after * DAY),
            world.clock(end),
            "simulation",
        )
        assert row is not None
        backlog = int(await controller.db.fetchval(_SQL["open_tasks"]))
        due = int(row["due"])
        self.figures = RunChecked(
            sla_attainment=row["met"] / due if due else None, due=due, backlog_end=backlog
        )

    def checks(self) -> list[TypeDayCheck]:
        """Each type and day of the plan that was run: the measured backlog against its band."""
        assert self.plan is not None
        out = []
        for t in self.plan.types:
            for offset, d in enumerate(t.days):
                key = (t.type, self.plan_after + offset)
                if key not in self.measured:
                    continue
                b, got = d.backlog_hours, self.measured[key]
                out.append(
                    TypeDayCheck(
                        type=t.type,
                        day=d.day.isoformat(),
                        backlog_hours=round(got, 2),
                        lo_80=b.lo_80,
                        hi_80=b.hi_80,
                        mean=b.mean,
                        inside=b.lo_80 - TOLERANCE <= got <= b.hi_80 + TOLERANCE,
                    )
                )
        return out


def plan_extra(plan: Plan, world: World, *, bound: str = "mean") -> list[ExtraShift]:
    """The plan's extra hours (``bound``: at the mean or at the upper 80% bound of the
    arrivals) per skill set and day, as shifts of dedicated agents."""
    extra: dict[tuple[frozenset[str], datetime], float] = {}
    zone = world.spec.start.tzinfo
    for skill in plan.skills:
        for d in skill.days:
            hours = d.extra_hours_80 if bound == "80" else d.extra_hours
            if hours > 0:
                extra[(frozenset(skill.skills), datetime.combine(d.day, time(), zone))] = hours
    return extra_shifts(extra)


Setup = Callable[[EngineBackoffice, Center], Awaitable[None]]


def wiring(
    probe: Probe,
    shifts: dict[str, list[Shift]],
    *,
    make_plan_in_run: bool,
    extra: Sequence[ExtraShift] = (),
) -> Setup:
    """What a run needs set up before its center starts: the schedules, the probe's jobs and
    the dedicated agents."""

    async def setup(controller: EngineBackoffice, center: Center) -> None:
        await roster_schedules(controller.db, controller.world, shifts, 0.0)
        probe.schedule(controller, make_plan_in_run)
        if extra:
            await DedicatedStaff(controller).add(center, extra)

    return setup


def coverage(checks: Sequence[TypeDayCheck]) -> float:
    return sum(c.inside for c in checks) / len(checks) if checks else math.nan


async def plan_after_run(
    db: Executor, controller: EngineBackoffice, settings: PlanSettings
) -> Plan:
    """The plan at the end of a run, for the days after it: the task history imported and the
    roster's shifts ahead written first (a run of the center has neither)."""
    world = controller.world
    end = world.spec.days * DAY
    await controller._on_time()
    await import_history(db, world)
    f = controller.s.forecast
    target = (f.target_sl, f.target_seconds, f.max_occupancy)
    ahead = roster_shifts(
        world, list(controller.roster.values()), target, world.spec.days + settings.days
    )
    await roster_schedules(db, world, ahead, end)
    return await make_plan(db, controller.clock.now(), settings)

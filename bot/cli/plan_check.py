"""``blendbot simulate --plan-check``: the back-office plan against the simulated center.

Two runs of one world under ``forecast_guard``: the first makes the plan after its first
days and measures the backlog the plan projected; the second adds the plan's extra hours as
dedicated back-office agents. See :mod:`simulation.plan_check`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Literal

from pydantic import BaseModel, Field
from rich.console import Console
from rich.table import Table

from blending.planning.service import PlanSettings
from bot import root
from bot.cli.simulated_days import prepared_world, run_on_clone
from bot.cli.what_if import engine_settings
from bot.settings import Settings
from simulation.plan_check import (
    DayArrivals,
    Probe,
    RunChecked,
    TypeDayCheck,
    coverage,
    import_history,
    plan_extra,
    roster_shifts,
    wiring,
)
from simulation.real_engine import EngineSettings
from simulation.world import WorldSpec

Bound = Literal["mean", "80"]


class PlanCheck(BaseModel):
    days: int
    seed: int
    plan_after: int = Field(description="Simulated days run before the plan was made.")
    hours: Bound = Field(description="Which of the plan's extra hours were added.")
    target: float = Field(description="The back-office SLA attainment aimed at.")
    coverage_80: float = Field(description="Share of (type, day) backlogs inside the 80% band.")
    checks: list[TypeDayCheck]
    arrivals: list[DayArrivals] = Field(
        description="The simulated days before the plan: arrivals counted by the plan and drawn."
    )
    extra_hours: float = Field(description="Hours of dedicated agents added.")
    extra_by_skills: dict[str, float]
    without: RunChecked
    with_extra: RunChecked

    @property
    def met(self) -> bool:
        got = self.with_extra.sla_attainment
        return self.coverage_80 >= 0.75 and got is not None and got >= self.target


async def plan_check(
    settings: Settings,
    spec: WorldSpec,
    seed: int,
    *,
    plan_after: int,
    hours: Bound = "mean",
    target: float = 0.9,
    progress: Callable[[str, float], None] | None = None,
) -> PlanCheck:
    base = replace(
        engine_settings(settings), policy=root.blend_policy(settings, "forecast_guard", k=None)
    )
    f = base.forecast
    plan_settings = simulated_plan_settings(settings, base, spec.days - plan_after)
    total = spec.days * 86400.0

    def tick(label: str) -> Callable[[float], None] | None:
        if progress is None:
            return None
        return lambda at: progress(label, at / total)

    async with prepared_world(settings, spec, seed, base, also=import_history) as prepared:
        world = prepared.world
        shifts = roster_shifts(
            world, prepared.roster, (f.target_sl, f.target_seconds, f.max_occupancy)
        )
        first = Probe(plan_after, plan_settings)
        await run_on_clone(
            prepared,
            base,
            setup=wiring(first, shifts, make_plan_in_run=True),
            progress=tick("plan, as is"),
        )
        assert first.plan is not None
        assert first.figures is not None
        extra = plan_extra(first.plan, world, bound=hours)
        second = Probe(plan_after, plan_settings, plan=first.plan, types=first.types)
        await run_on_clone(
            prepared,
            base,
            setup=wiring(second, shifts, make_plan_in_run=False, extra=extra),
            progress=tick("with the plan's hours"),
        )
        assert second.figures is not None
    checks = first.checks()
    by_skills: dict[str, float] = {}
    for s in extra:
        name = " + ".join(sorted(s.skills))
        by_skills[name] = round(by_skills.get(name, 0.0) + s.hours, 2)
    return PlanCheck(
        days=spec.days,
        seed=seed,
        plan_after=plan_after,
        hours=hours,
        target=target,
        coverage_80=round(coverage(checks), 4),
        checks=checks,
        arrivals=first.arrivals,
        extra_hours=round(sum(s.hours for s in extra), 2),
        extra_by_skills=by_skills,
        without=first.figures,
        with_extra=second.figures,
    )


def simulated_plan_settings(settings: Settings, engine: EngineSettings, days: int) -> PlanSettings:
    """The plan as the service would make it in the simulated center: its clock (UTC), the
    engine's forecast and policy."""
    f = engine.forecast
    return replace(
        root.plan_settings(settings),
        days=days,
        timezone="UTC",
        forecasts=f,
        policy=engine.policy,
        target=(f.target_sl, f.target_seconds),
    )


def render(result: PlanCheck, console: Console) -> None:
    console.print(
        f"Plan made after {result.plan_after} of {result.days} simulated days "
        f"(seed {result.seed}), checked over the {result.days - result.plan_after} after"
    )
    if result.arrivals:
        console.print(
            "arrivals the plan learnt from, of the simulated days before it (counted/drawn): "
            + ", ".join(f"{a.day} {a.counted}/{a.drawn}" for a in result.arrivals)
        )
    table = Table(title="Backlog at the end of each day against the plan's 80% band (hours)")
    for column in ("type", "day", "measured", "projected", "80% band", "inside"):
        table.add_column(column, justify="left" if column in ("type", "day") else "right")
    for c in result.checks:
        table.add_row(
            c.type,
            c.day,
            f"{c.backlog_hours:.1f}",
            f"{c.mean:.1f}",
            f"{c.lo_80:.1f}-{c.hi_80:.1f}",
            "yes" if c.inside else "no",
        )
    console.print(table)
    console.print(f"inside the 80% band: {result.coverage_80:.0%} (at least 75% wanted)")
    sla = Table(title="Back-office SLA attainment of the tasks due after the plan")
    for column in ("run", "due", "in SLA", "backlog at end"):
        sla.add_column(column, justify="left" if column == "run" else "right")
    for label, r in (
        ("as planned before (no extra hours)", result.without),
        (f"with the plan's extra hours ({result.extra_hours:.1f} h)", result.with_extra),
    ):
        got = "-" if r.sla_attainment is None else f"{r.sla_attainment:.1%}"
        sla.add_row(label, str(r.due), got, str(r.backlog_end))
    console.print(sla)
    if result.extra_by_skills:
        console.print(
            "extra hours added: "
            + ", ".join(f"{k} {v:.1f} h" for k, v in sorted(result.extra_by_skills.items()))
        )
    verdict = "met" if result.met else "NOT met"
    console.print(f"target {result.target:.0%} in SLA and 75% inside the band: {verdict}")

"""``blendbot simulate``: a scenario file with the policy code alone, or simulated days of the
default center on the real engine, a table per policy and the issue's JSON.

The simulated days run with the service's settings (:mod:`bot.cli.what_if`: the environment,
``.env``, ``--set``), and ``--sweep`` runs them once per value of one setting."""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TimeElapsedColumn
from rich.table import Table

from blending.errors import BlendingError
from blending.policy import BlendPolicy, policy_for
from blending.policy_names import POLICIES, PolicyName
from bot import root
from bot.cli.simulated_days import (
    Limits,
    PolicyRun,
    Prepared,
    prepared_world,
    run_on_clone,
    simulate_policies,
    tune_reserve_k,
)
from bot.cli.what_if import Sweep, engine_settings, settings_with, used
from bot.settings import Settings
from simulation.real_engine import EngineSettings
from simulation.world import WorldSpec

Figures = Mapping[str, float | int | None]
COLUMNS = (
    ("service level", "service_level", "{:.1%}"),
    ("ASA", "asa_seconds", "{:.1f} s"),
    ("abandoned", "abandon_rate", "{:.2%}"),
    ("utilization", "utilization", "{:.1%}"),
    ("back-office done", "backoffice_completed", "{}"),
    ("back-office in SLA", "backoffice_sla_attainment", "{:.1%}"),
    ("backlog at end", "backlog_end", "{}"),
    ("recall delay", "recall_delay_seconds", "{:.1f} s"),
    ("of hindsight", "hindsight_share", "{:.1%}"),
)
MakePolicy = Callable[[PolicyName, int | None], BlendPolicy]


def policies_of(settings: Settings) -> MakePolicy:
    """Each policy as the settings would run it (``k`` in place of theirs)."""
    return lambda name, k: root.blend_policy(settings, name, k=k)


def policy_table(title: str, rows: Mapping[str, Figures], first: str = "policy") -> Table:
    table = Table(title=title)
    table.add_column(first)
    for heading, _, _ in COLUMNS:
        table.add_column(heading, justify="right")
    for name, figures in rows.items():
        cells = []
        for _, key, form in COLUMNS:
            value = figures.get(key)
            cells.append("-" if value is None else form.format(value))
        table.add_row(name, *cells)
    return table


def simulate(
    args: argparse.Namespace,
    console: Console,
    settings: Settings,
    sweep: Sweep | None = None,
    overrides: Mapping[str, str] | None = None,
) -> int:
    """``settings`` are the service's with ``--set`` applied; ``sweep`` varies one of them
    over its values on top of ``overrides``."""
    if args.scenario is not None:
        return _scenario(args, console)
    if not 1 <= args.days <= 366:
        raise BlendingError("--days must be between 1 and 366")
    if args.k is not None and args.k < 0:
        raise BlendingError("--k must be zero or more")
    try:
        spec = WorldSpec(
            days=args.days,
            scale=args.scale,
            surge_days=tuple(d - 1 for d in args.surge),
            surge=args.surge_factor,
            **(
                {"start": datetime.combine(args.start, datetime.min.time(), UTC)}
                if args.start
                else {}
            ),
        )
    except ValidationError as exc:
        raise BlendingError(_problems(exc, "the simulation")) from None
    if getattr(args, "plan_check", False):
        return _plan_check(args, spec, console, settings)
    names = policy_names(args.policy, settings)
    k = args.k
    if k is None and "reserve_k" in settings.model_fields_set:
        k = settings.reserve_k
    if sweep is not None:
        body = asyncio.run(_sweep(dict(overrides or {}), sweep, spec, args.seed, names, k, console))
    else:
        body = asyncio.run(_days(settings, spec, args.seed, names, k, console))
    if args.json_out:
        args.json_out.write_text(json.dumps(body, indent=2))
        console.print(f"wrote {args.json_out}")
    return 0


def _plan_check(
    args: argparse.Namespace, spec: WorldSpec, console: Console, settings: Settings
) -> int:
    from bot.cli.plan_check import plan_check, render

    if not 1 <= args.plan_after < spec.days:
        raise BlendingError("--plan-after must be at least 1 and less than --days")
    if not 0 < args.plan_target <= 1:
        raise BlendingError("--plan-target must be above 0 and at most 1")
    with _bar(console) as bar:
        result = asyncio.run(
            plan_check(
                settings,
                spec,
                args.seed,
                plan_after=args.plan_after,
                hours=args.plan_hours,
                target=args.plan_target,
                progress=bar.update,
            )
        )
    render(result, console)
    if args.json_out:
        args.json_out.write_text(result.model_dump_json(indent=2))
        console.print(f"wrote {args.json_out}")
    return 0


def policy_names(chosen: str | None, settings: Settings) -> list[PolicyName]:
    """``--policy``; without it, the one ``BLENDBOT_BLENDING_POLICY`` names if set, else all."""
    if chosen is None and "blending_policy" in settings.model_fields_set:
        chosen = settings.blending_policy
    if chosen is None or chosen == "all":
        return list(POLICIES)
    return [chosen]  # type: ignore[list-item]


def _label(spec: WorldSpec, seed: int) -> str:
    days = f"{spec.days} simulated day{'s' if spec.days > 1 else ''} from {spec.start:%Y-%m-%d}"
    if spec.surge_days:
        surged = ", ".join(str(d + 1) for d in spec.surge_days)
        days += f" (calls {spec.surge - 1:+.0%} over the forecast on day {surged})"
    return f"{days}, seed {seed}"


async def _days(
    settings: Settings,
    spec: WorldSpec,
    seed: int,
    names: list[PolicyName],
    k: int | None,
    console: Console,
) -> dict[str, Any]:
    base = replace(engine_settings(settings), policy=policy_for("none"))
    make = policies_of(settings)
    with _bar(console) as bar:
        async with prepared_world(settings, spec, seed, base) as prepared:
            runs, tuning = await run_all(prepared, base, names, k, bar, make=make)
            arrived = len(prepared.world.tasks)
    rows = {name: run.figures for name, run in runs.items()}
    title = f"{_label(spec, seed)}, ACD mode {base.acd_mode}"
    console.print(policy_table(title, _labels(rows, runs)))
    _compare(console, rows)
    body: dict[str, Any] = {
        "days": spec.days,
        "seed": seed,
        "acd_mode": base.acd_mode,
        "policies": rows,
        "backoffice_arrived": arrived,
        "settings": used(settings),
        "surge_days": [d + 1 for d in spec.surge_days],
        "surge": spec.surge,
    }
    if tuning is not None:
        body["reserve_k"] = tuning
    return body


async def sweep_runs(
    overrides: dict[str, str],
    sweep: Sweep,
    spec: WorldSpec,
    seed: int,
    names: list[PolicyName],
    k: int | None,
    bar: _Bar | None = None,
) -> list[dict[str, Any]]:
    """One run of each policy per value of the swept setting (a world prepared for each
    value: the first forecast follows the target). ``reserve_k`` runs with its settings' k."""
    rows: list[dict[str, Any]] = []
    for value in sweep.values:
        settings = settings_with({**overrides, sweep.field: value})
        base = replace(engine_settings(settings), policy=policy_for("none"))
        make = policies_of(settings)
        async with prepared_world(settings, spec, seed, base) as prepared:
            for name in names:
                tick = None
                if bar is not None:
                    label = f"{sweep.key}={value} {name}"

                    def tick(share: float, label: str = label) -> None:
                        bar.update(label, share)

                policy = make(name, k)
                run = await run_on_clone(prepared, replace(base, policy=policy), progress=tick)
                rows.append(
                    {
                        "value": value,
                        "policy": name,
                        "figures": run.figures,
                        "backoffice_arrived": len(prepared.world.tasks),
                        "settings": used(settings),
                    }
                )
    return rows


async def _sweep(
    overrides: dict[str, str],
    sweep: Sweep,
    spec: WorldSpec,
    seed: int,
    names: list[PolicyName],
    k: int | None,
    console: Console,
) -> dict[str, Any]:
    with _bar(console) as bar:
        rows = await sweep_runs(overrides, sweep, spec, seed, names, k, bar)
    table = {f"{sweep.key}={r['value']} {r['policy']}": r["figures"] for r in rows}
    console.print(policy_table(f"{_label(spec, seed)}, {sweep.key} swept", table, "run"))
    return {
        "days": spec.days,
        "seed": seed,
        "sweep": {"key": sweep.key, "values": list(sweep.values), "rows": rows},
        "backoffice_arrived": rows[0]["backoffice_arrived"] if rows else 0,
        "settings": rows[0]["settings"] if rows else {},
    }


async def run_all(
    prepared: Prepared,
    base: EngineSettings,
    names: list[PolicyName],
    k: int | None,
    bar: _Bar | None = None,
    *,
    make: MakePolicy | None = None,
) -> tuple[dict[str, PolicyRun], dict[str, Any] | None]:
    """Each policy once; unless k is given, reserve_k tuned by :func:`tune_against`."""
    progress = None if bar is None else bar.update
    tune = "reserve_k" in names and k is None
    first: list[PolicyName] = [n for n in names if n != "reserve_k" or not tune]
    if tune and "none" not in first:
        first.insert(0, "none")
    runs: dict[str, PolicyRun] = {}
    build = make or (lambda n, k: policy_for(n, k=k))
    policies = [build(n, k) for n in first]
    for run in await simulate_policies(prepared, base, policies, progress):
        runs[run.policy.name] = run
    tuning = await tune_against(prepared, base, runs, bar) if tune else None
    ordered: dict[str, PolicyRun] = {n: runs[n] for n in POLICIES if n in runs and n in names}
    return ordered, tuning


async def tune_against(
    prepared: Prepared, base: EngineSettings, runs: dict[str, PolicyRun], bar: _Bar | None
) -> dict[str, Any]:
    """Add the best-tuned reserve_k to ``runs``: the smallest k (the most lending) whose
    service level is at least forecast_guard's (or the target's, without it) and whose
    abandonment rises no more than half a point over none."""
    baseline = runs["none"].figures["abandon_rate"]
    assert isinstance(baseline, float)
    level = base.forecast.target_sl
    if "forecast_guard" in runs:
        guarded = runs["forecast_guard"].figures["service_level"]
        assert isinstance(guarded, float)
        level = max(level, guarded)
    progress = None if bar is None else bar.update
    run, tuned = await tune_reserve_k(
        prepared, base, Limits(service_level=level), baseline, progress=progress
    )
    runs["reserve_k"] = run
    return {
        "k": tuned.k,
        "service_level_at_least": level,
        "tried": {str(x): f for x, f in tuned.tried.items()},
    }


def _labels(rows: Mapping[str, Figures], runs: Mapping[str, PolicyRun]) -> dict[str, Figures]:
    return {
        (f"reserve_k (k = {runs[n].policy.k})" if n == "reserve_k" else n): f
        for n, f in rows.items()
    }


def _compare(console: Console, rows: Mapping[str, Figures]) -> None:
    none, guard = rows.get("none"), rows.get("forecast_guard")
    if none is None or guard is None:
        return
    u0, u1 = float(none["utilization"] or 0), float(guard["utilization"] or 0)
    a0, a1 = float(none["abandon_rate"] or 0), float(guard["abandon_rate"] or 0)
    if u0 > 0:
        console.print(
            f"forecast_guard against none: utilization {u1 / u0 - 1:+.1%} "
            f"({(u1 - u0) * 100:+.1f} points), abandonment {(a1 - a0) * 100:+.2f} points"
        )


class _Bar:
    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._tasks: dict[str, TaskID] = {}

    def update(self, name: str, share: float) -> None:
        if name not in self._tasks:
            self._tasks[name] = self._progress.add_task(name, total=1.0)
        self._progress.update(self._tasks[name], completed=min(share, 1.0))


class _bar:  # noqa: N801 - a context manager used like a function
    def __init__(self, console: Console) -> None:
        self._progress = Progress(
            *Progress.get_default_columns()[:1],
            BarColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )

    def __enter__(self) -> _Bar:
        self._progress.__enter__()
        return _Bar(self._progress)

    def __exit__(self, *exc: object) -> None:
        self._progress.__exit__(None, None, None)


def _problems(exc: ValidationError, what: object) -> str:
    problems = "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'scenario'}: {e['msg']}"
        for e in exc.errors(include_url=False)
    )
    return f"{what} is not valid: {problems}"


def _scenario(args: argparse.Namespace, console: Console) -> int:
    from simulation.scenario import Scenario
    from simulation.scenario_run import simulate as run_scenario

    try:
        scenario = Scenario.model_validate_json(args.scenario.read_text())
    except OSError as exc:
        raise BlendingError(f"cannot read {args.scenario}: {exc.strerror}") from None
    except ValidationError as exc:
        raise BlendingError(_problems(exc, args.scenario)) from None
    profile = scenario.arrivals.profile
    if profile is not None and not profile.is_absolute():
        scenario.arrivals.profile = args.scenario.parent / profile  # beside the scenario file
    with console.status(f"simulating {scenario.hours:g} hours"):
        result = run_scenario(scenario)
    name = scenario.policy.name
    label = f"{name} (k = {scenario.policy.k})" if scenario.policy.k is not None else name
    row = result.model_dump()
    title = f"{scenario.hours:g} simulated hours, {scenario.agents} agents"
    console.print(policy_table(title, {label: row}))
    if args.json_out:
        args.json_out.write_text(json.dumps({"policies": {name: row}}, indent=2))
        console.print(f"wrote {args.json_out}")
    return 0

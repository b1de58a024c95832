"""``blendbot plan`` and ``blendbot backtest --tasks``: the back-office plan and how well its
arrivals forecast did on the task history."""

from __future__ import annotations

import asyncio
from pathlib import Path

from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from blending.errors import BlendingError
from blending.planning.arrivals import MODEL
from blending.planning.backtest import backtest_daily
from blending.planning.model import Plan
from blending.planning.service import Planner, history
from blending.planning.what_if import MoveIn
from bot.database import database
from bot.root import plan_settings
from bot.settings import Settings
from clock import SYSTEM, Clock

SHOWN_MISSES = 15


async def plan(
    settings: Settings,
    days: int | None,
    json_out: Path | None,
    console: Console,
    clock: Clock = SYSTEM,
    move: Path | None = None,
    site: str | None = None,
) -> int:
    """``site``: whose clock the days follow (None: the default site's)."""
    if move is not None:
        return await what_if(settings, move, json_out, console, clock, site)
    async with database(settings) as db:
        result = await Planner(db.pool, plan_settings(settings)).plan(clock.now(), days, site)
    render(result, console)
    if json_out is not None:
        await asyncio.to_thread(json_out.write_text, result.model_dump_json(indent=2))
        console.print(f"wrote {json_out}")
    return 0


async def intervals(
    settings: Settings,
    days: int,
    minutes: int,
    json_out: Path | None,
    console: Console,
    clock: Clock = SYSTEM,
    site: str | None = None,
) -> int:
    """Each type's arrivals per interval over the next ``days`` days, with the 80% band (a
    site's: its share, on its clock)."""
    async with database(settings) as db:
        planner = Planner(db.pool, plan_settings(settings))
        found = await planner.intervals(clock.now(), days, minutes, site)
    if not found:
        console.print("no arrivals forecast: the task history is too short")
    for t in found:
        table = Table(title=f"{t.type}: arrivals per {t.minutes} minutes")
        for column in ("interval", "expected", "80% band"):
            table.add_column(column, justify="left" if column == "interval" else "right")
        for i in t.intervals:
            if i.mean >= 0.05:
                table.add_row(
                    f"{i.start:%a %d %b %H:%M}", f"{i.mean:.1f}", f"{i.lo_80:.1f}-{i.hi_80:.1f}"
                )
        console.print(table)
    if json_out is not None:
        body = "[" + ",".join(t.model_dump_json() for t in found) + "]"
        await asyncio.to_thread(json_out.write_text, body)
        console.print(f"wrote {json_out}")
    return 0


def render(result: Plan, console: Console) -> None:
    whose = f"site {result.site}" if result.site else "the whole center"
    console.print(
        f"Back-office plan for {whose} from {result.generated_at:%Y-%m-%d %H:%M} UTC, "
        f"{len(result.days)} days ({result.timezone})"
    )
    types = Table(title="Task types")
    for column in ("type", "open", "open h", "clears on", "next 7 days: arrivals (80%)", "work h"):
        types.add_column(column, justify="left" if column == "type" else "right")
    for t in result.types:
        week = t.days[:7]
        arrivals = sum(d.arrivals.mean for d in week)
        low = sum(d.arrivals.lo_80 for d in week)
        high = sum(d.arrivals.hi_80 for d in week)
        work = sum(d.workload_hours.mean for d in week)
        types.add_row(
            t.type,
            str(t.backlog_tasks),
            f"{t.backlog_hours:.1f}",
            t.clears_on.isoformat() if t.clears_on else "not in plan",
            f"{arrivals:.0f} ({low:.0f}-{high:.0f})",
            f"{work:.1f}",
        )
    console.print(types)
    for skill in result.skills:
        name = " + ".join(skill.skills) or "no skill"
        share = f", {skill.share:.0%} of the work" if result.site else ""
        table = Table(title=f"Hours for {name} ({', '.join(skill.types)}{share})")
        columns = ("day", "lulls", "lulls low", "dedicated", "work", "due", "extra", "extra 80%")
        for column in (*columns, "spare"):
            table.add_column(column, justify="left" if column == "day" else "right")
        for d in skill.days:
            table.add_row(
                f"{d.day:%a %d %b}",
                *(
                    f"{v:.1f}"
                    for v in (
                        d.lull_hours,
                        d.lull_hours_low,
                        d.dedicated_hours,
                        d.workload_hours,
                        d.due_hours,
                        d.extra_hours,
                        d.extra_hours_80,
                        d.spare_hours,
                    )
                ),
            )
        console.print(table)
    if result.misses:
        misses = Table(title=f"Open tasks that will miss their SLA ({len(result.misses)})")
        for column in ("task", "type", "due", "expected done", "late"):
            misses.add_column(column)
        for m in result.misses[:SHOWN_MISSES]:
            misses.add_row(
                f"{m.task_id} {m.title}",
                m.type,
                f"{m.due_at:%Y-%m-%d %H:%M}",
                f"{m.expected_done:%Y-%m-%d %H:%M}" if m.expected_done else "not in plan",
                f"{m.late_minutes / 60:.1f} h" if m.late_minutes is not None else "-",
            )
        console.print(misses)
    else:
        console.print("No open task is expected to miss its SLA.")
    for note in result.notes:
        console.print(f"note: {note}", markup=False)


async def what_if(
    settings: Settings,
    path: Path,
    json_out: Path | None,
    console: Console,
    clock: Clock,
    site: str | None = None,
) -> int:
    try:
        text = await asyncio.to_thread(path.read_text)
        move = MoveIn.model_validate_json(text)
    except OSError as exc:
        raise BlendingError(f"cannot read {path}: {exc.strerror}") from None
    except ValidationError as exc:
        raise BlendingError(f"{path}: {_describe(exc)}") from None
    async with database(settings) as db:
        result = await Planner(db.pool, plan_settings(settings)).what_if(clock.now(), move, site)
    table = Table(
        title=f"{move.agents} agent(s) off the phones, {move.start:%a %d %b %H:%M} "
        f"to {move.end:%H:%M}"
    )
    for column in ("interval", "calls", "agents", "service level", "abandoned"):
        table.add_column(column, justify="left" if column == "interval" else "right")
    for e in result.intervals:
        table.add_row(
            f"{e.start:%H:%M}",
            f"{e.calls:.1f}",
            f"{e.agents_before} -> {e.agents_after}",
            f"{e.service_level_before:.0%} -> {e.service_level_after:.0%}",
            f"{e.abandon_before:.1%} -> {e.abandon_after:.1%}",
        )
    console.print(table)
    for sk in result.skills:
        console.print(
            f"{' + '.join(sk.skills) or 'no skill'}: extra hours {sk.extra_hours_before:.1f} -> "
            f"{sk.extra_hours_after:.1f}, spare {sk.spare_hours_before:.1f} -> "
            f"{sk.spare_hours_after:.1f}",
            markup=False,
        )
    console.print(
        f"tasks that will miss their SLA: {result.misses_before} -> {result.misses_after}"
    )
    if json_out is not None:
        await asyncio.to_thread(json_out.write_text, result.model_dump_json(indent=2))
        console.print(f"wrote {json_out}")
    return 0


def _describe(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'move'}: {e['msg']}"
        for e in exc.errors(include_url=False)
    )


async def backtest_tasks(
    settings: Settings,
    horizon: int,
    folds: int,
    json_out: Path | None,
    console: Console,
    clock: Clock = SYSTEM,
) -> int:
    async with database(settings) as db:
        first, arrivals = await history(db.pool, clock.now(), plan_settings(settings))
    result = await asyncio.to_thread(backtest_daily, arrivals, first, horizon, folds)
    table = Table(
        title=f"Task arrivals backtest: {result.types} types, {result.history_days} days, "
        f"{result.folds} folds of {result.horizon_days} days"
    )
    for column in ("model", "WAPE", "MASE", "80% covered", "95% covered"):
        table.add_column(column, justify="left" if column == "model" else "right")
    for name, score in sorted(result.models.items(), key=lambda kv: kv[1].wape):
        label = name + (" (baseline)" if name == result.baseline else "")
        table.add_row(
            label,
            f"{score.wape:.3f}",
            f"{score.mase:.3f}",
            f"{score.coverage_80:.1%}",
            f"{score.coverage_95:.1%}",
        )
    console.print(table)
    console.print(f"WAPE {result.wape_vs_baseline:.3f} of the weekly seasonal naive's")
    if result.uncalibrated:
        k80, k95 = result.band_factors
        console.print(
            f"{MODEL}'s bands calibrated (widened {k80:.2f}x and {k95:.2f}x on average): "
            f"its own covered {result.uncalibrated.get('80', 0):.1%} and "
            f"{result.uncalibrated.get('95', 0):.1%}"
        )
    if json_out is not None:
        await asyncio.to_thread(json_out.write_text, result.model_dump_json(indent=2))
        console.print(f"wrote {json_out}")
    return 0

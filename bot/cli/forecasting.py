"""``blendbot staffing`` and ``blendbot backtest``: the forecasting and Erlang maths by hand."""

from __future__ import annotations

import argparse
import json
import os

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table

from blending.errors import BlendingError


def staffing(args: argparse.Namespace, console: Console) -> int:
    from blending.staffing import agents_needed

    result = agents_needed(
        args.calls,
        args.interval_minutes,
        args.aht_seconds,
        args.target_sl,
        args.target_seconds,
        args.max_occupancy,
        args.patience_seconds,
    )
    body = result.model_dump()
    if args.json:
        console.print_json(json.dumps(body))
        return 0
    table = Table(title="Staffing", show_header=False)
    table.add_row("agents", str(result.agents))
    table.add_row("service level", f"{result.service_level:.1%} within {args.target_seconds:g} s")
    table.add_row("average speed of answer", f"{result.asa_seconds:.1f} s")
    table.add_row("occupancy", f"{result.occupancy:.1%}")
    if result.abandon_rate is not None:
        table.add_row("abandonment", f"{result.abandon_rate:.1%}")
    console.print(table)
    return 0


def backtest(args: argparse.Namespace, console: Console) -> int:
    from simulation.backtest import backtest_csv
    from simulation.backtest_plot import plot_last_fold

    if args.csv is None:
        raise BlendingError("backtest needs --csv FILE (calls) or --tasks (the task history)")
    args.folds = 10 if args.folds is None else args.folds
    args.horizon_days = 1 if args.horizon_days is None else args.horizon_days
    if args.folds < 1 or args.horizon_days < 1:
        raise BlendingError("--folds and --horizon-days must be at least 1")
    if not args.csv.is_file():
        raise BlendingError(f"cannot read {args.csv}: no such file")
    columns = (BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(
        *Progress.get_default_columns()[:1], *columns, console=console, transient=True
    ) as progress:
        bar = progress.add_task("backtesting", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(bar, completed=done, total=total)

        result = backtest_csv(
            args.csv,
            args.interval_minutes,
            args.horizon_days,
            args.folds,
            args.queue,
            progress=advance,
            workers=min(2, os.cpu_count() or 1),
        )
    for notice in result.notices:
        console.print(f"note: {notice}", markup=False)
    table = Table(
        title=f"Day-ahead backtest, {result.folds} folds of "
        f"{result.interval_minutes}-minute intervals"
    )
    for column in ("model", "MASE", "RMSE", "80% covered", "95% covered"):
        table.add_column(column, justify="left" if column == "model" else "right")
    for name, score in sorted(result.models.items(), key=lambda kv: kv[1].mase):
        label = f"{name} (best)" if name == result.best else name
        if name == result.baseline:
            label += " (baseline)"
        table.add_row(
            label,
            f"{score.mase:.3f}",
            f"{score.rmse:.2f}",
            f"{score.coverage_80:.1%}",
            f"{score.coverage_95:.1%}",
        )
    console.print(table)
    console.print(
        f"best: {result.best}, MASE {result.best_vs_baseline:.3f} of the weekly seasonal naive"
    )
    if result.intraday is not None:
        i = result.intraday
        change = "better" if i.improvement >= 0 else "worse"
        console.print(
            f"intraday re-forecast ({i.model}): rest-of-day MASE {i.mase_before:.3f} → "
            f"{i.mase_after:.3f} ({abs(i.improvement):.1%} {change})"
        )
    if args.json_out:
        args.json_out.write_text(result.model_dump_json(indent=2))
        console.print(f"wrote {args.json_out}")
    if args.plot:
        plot_last_fold(result, args.plot)
        console.print(f"wrote {args.plot}")
    return 0

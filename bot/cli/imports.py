"""``blendbot import tasks|roster``: CSV files into the task list, every bad row reported."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

from bot.database import database
from bot.settings import Settings
from queues.importer import ImportReport, import_roster, import_tasks

PROGRESS_FROM_BYTES = 1_000_000
SHOWN_ERRORS = 200


def _print_report(report: ImportReport, what: str, console: Console, err: Console) -> int:
    for error in report.errors[:SHOWN_ERRORS]:
        err.print(f"line {error.line}: {error.message}", markup=False, highlight=False)
    if len(report.errors) > SHOWN_ERRORS:
        err.print(f"... and {len(report.errors) - SHOWN_ERRORS} more bad rows")
    if not report.committed:
        console.print(
            f"imported nothing: {len(report.errors)} bad row(s) of {report.rows} (a file of "
            "closed tasks, or one imported --all-or-nothing, is kept whole or not at all)"
        )
        return 1
    kept = report.created + report.updated + report.unchanged
    console.print(
        f"{report.rows} rows in {report.seconds:.1f} s ({report.rate:,.0f} rows/s): "
        f"{report.created} new {what}, {report.updated} updated, {report.unchanged} already "
        f"present, {len(report.errors)} bad row(s); {kept} kept"
    )
    return 1 if report.errors else 0


async def run_import(
    settings: Settings,
    kind: str,
    file: Path,
    stream: TextIO,
    size: int,
    all_or_nothing: bool,
    console: Console,
    err: Console,
) -> int:
    show = size >= PROGRESS_FROM_BYTES and console.is_terminal
    columns = (
        *Progress.get_default_columns()[:1],
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
    )
    with stream, Progress(*columns, console=console, disable=not show) as progress:
        bar = progress.add_task(f"importing {file.name}", total=size)

        def advance(count: int) -> None:
            progress.advance(bar, count)

        async with database(settings) as db:
            try:
                if kind == "tasks":
                    report = await import_tasks(
                        db.pool,
                        stream,
                        actor=f"import:{file.name}",
                        all_or_nothing=all_or_nothing,
                        progress=advance,
                    )
                else:
                    report = await import_roster(
                        db.pool, stream, all_or_nothing=all_or_nothing, progress=advance
                    )
            except UnicodeDecodeError as exc:
                raise SystemExit(f"error: {file} is not UTF-8 text ({exc.reason})") from None
    return _print_report(report, "tasks" if kind == "tasks" else "agents", console, err)

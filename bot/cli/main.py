"""The ``blendbot`` command.

Parsing needs nothing but the standard library; each command imports what it needs when it
runs, so ``blendbot --help`` or ``blendbot staffing`` does not pay for the forecasting stack,
the HTTP app or Slack.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from blending.acd import MODES
from blending.policy_names import POLICIES
from telephony_adapters.sources import SOURCES

if TYPE_CHECKING:
    from rich.console import Console

    from bot.settings import Settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="blendbot",
        description="Lends contact-center agents' idle time to back-office work, through Slack.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the service")
    serve.add_argument("--host", help="address to bind (default BLENDBOT_HOST)")
    serve.add_argument("--port", type=int, help="port (default BLENDBOT_PORT, else 8080)")
    serve.add_argument(
        "--with-sample-data", action="store_true", help="load a small sample roster and task list"
    )
    commands.add_parser("migrate", help="apply the database migrations and exit")
    planner = commands.add_parser(
        "plan", help="the back-office plan: workload, backlog and the hours needed, per day"
    )
    planner.add_argument("--days", type=int, help="days ahead (default BLENDBOT_PLAN_DAYS)")
    planner.add_argument("--json", type=Path, dest="json_out", help="write the plan as JSON")
    planner.add_argument(
        "--site",
        help="plan a site: its own agents' hours and its share of the work, on its clock "
        "('default': the agents in no site; left out: the whole center)",
    )
    planner.add_argument(
        "--what-if",
        type=Path,
        dest="move",
        help='a move as JSON: {"agents": 2, "start": ..., "end": ..., "skills": [...]}',
    )
    planner.add_argument(
        "--intervals",
        type=int,
        choices=(15, 30, 60),
        metavar="MINUTES",
        help="instead of the plan: each type's arrivals per interval of 15, 30 or 60 minutes",
    )
    _forecasting_parsers(commands)
    _simulate_parser(commands)
    demo = commands.add_parser(
        "demo", help="one simulated day under every policy, through Slack, with a report"
    )
    demo.add_argument("--seed", type=int, default=1)
    demo.add_argument(
        "--report", type=Path, default=Path("blendbot-demo.html"), help="the HTML report"
    )
    demo.add_argument("--json", type=Path, dest="json_out", help="write the figures as JSON")
    _what_if_arguments(demo)

    importer = commands.add_parser("import", help="bulk-import a CSV file")
    kinds = importer.add_subparsers(dest="kind", required=True, metavar="KIND")
    for kind, text in (("tasks", "tasks"), ("roster", "agents and their skills")):
        sub = kinds.add_parser(kind, help=f"import {text}")
        sub.add_argument("file", type=Path, help="CSV file with a header row")
        sub.add_argument(
            "--all-or-nothing", action="store_true", help="import nothing if any row is bad"
        )
    intervals = kinds.add_parser(
        "intervals",
        help="per-interval history: queue,interval_start,offered,answered,abandoned,aht_seconds",
    )
    intervals.add_argument("file", type=Path)
    schedule = kinds.add_parser("schedule", help="shifts and breaks: agent_id,kind,start,end")
    schedule.add_argument("file", type=Path)

    syncing = commands.add_parser("sync", help="match people across systems")
    what = syncing.add_subparsers(dest="what", required=True, metavar="WHAT")
    roster = what.add_parser(
        "roster",
        help="fill agents' telephony and Slack ids from the platforms' users, by email",
    )
    roster.add_argument("--dry-run", action="store_true", help="report only: write nothing")
    roster.add_argument("--json", type=Path, dest="json_out", help="write the report as JSON")

    play = commands.add_parser("replay", help="send a recorded feed into a running service")
    play.add_argument("file", type=Path, help="JSON lines: payloads, or {at, payload} objects")
    play.add_argument("--source", required=True, choices=SOURCES)
    play.add_argument("--speed", type=float, default=60, help="times real speed (default 60)")
    play.add_argument("--url", help="the service (default http://BLENDBOT_HOST:BLENDBOT_PORT)")
    return parser


def _forecasting_parsers(commands: Any) -> None:
    staffing = commands.add_parser(
        "staffing", help="agents needed for a service-level target (Erlang C, or A with patience)"
    )
    staffing.add_argument("--calls", type=float, required=True, help="calls in the interval")
    staffing.add_argument("--interval-minutes", type=float, required=True)
    staffing.add_argument("--aht-seconds", type=float, required=True, help="average handle time")
    staffing.add_argument("--target-sl", type=float, default=0.8, help="e.g. 0.8 for 80%%")
    staffing.add_argument("--target-seconds", type=float, default=20, help="answered within")
    staffing.add_argument("--max-occupancy", type=float, default=1.0)
    staffing.add_argument(
        "--patience-seconds", type=float, help="mean caller patience: Erlang A with abandonment"
    )
    staffing.add_argument("--json", action="store_true", help="print JSON only")

    backtest = commands.add_parser(
        "backtest", help="rolling-origin backtest of day-ahead arrival forecasts on a CSV"
    )
    backtest.add_argument("--csv", type=Path, help="interval_start,calls[,queue][,aht_seconds]")
    backtest.add_argument(
        "--tasks",
        action="store_true",
        help="the daily arrivals per task type, from the task history in the database",
    )
    backtest.add_argument("--interval-minutes", type=int, help="default: inferred from the file")
    backtest.add_argument("--horizon-days", type=int, help="default: 1, with --tasks 14")
    backtest.add_argument("--folds", type=int, help="default: 10, with --tasks 8")
    backtest.add_argument("--queue", help="one queue of a multi-queue file (default: their sum)")
    backtest.add_argument("--json", type=Path, dest="json_out", help="write the result as JSON")
    backtest.add_argument("--plot", type=Path, help="PNG of the last fold")


def _simulate_parser(commands: Any) -> None:
    simulate = commands.add_parser(
        "simulate",
        help="simulate a contact center under blending policies",
        description="Without --scenario: simulated days of the default center (built from "
        "the Anonymous Bank's real profile) on the real engine and an embedded database.",
    )
    simulate.add_argument("--scenario", type=Path, help="scenario JSON file (policy code alone)")
    simulate.add_argument("--days", type=int, default=1, help="simulated days (default 1)")
    simulate.add_argument("--seed", type=int, default=1)
    simulate.add_argument(
        "--policy",
        choices=[*POLICIES, "all"],
        help="default: BLENDBOT_BLENDING_POLICY if set, else all of them",
    )
    simulate.add_argument("--k", type=int, help="reserve_k's k (default: tuned to the limits)")
    simulate.add_argument("--scale", type=float, default=1.0, help="calls times this")
    simulate.add_argument("--start", type=date.fromisoformat, help="first day, YYYY-MM-DD")
    simulate.add_argument(
        "--surge",
        type=_day_numbers,
        default=(),
        metavar="DAY[,DAY...]",
        help="days (1 = the first) whose calls run over the forecast, unannounced",
    )
    simulate.add_argument(
        "--surge-factor",
        type=float,
        default=1.3,
        help="the calls of a surge day over the forecast's (default 1.3: 30%% more)",
    )
    simulate.add_argument("--json", type=Path, dest="json_out", help="write the result as JSON")
    simulate.add_argument(
        "--plan-check",
        action="store_true",
        help="check the back-office plan: made after --plan-after days, then the rest run "
        "as is and with the plan's extra hours as dedicated back-office agents",
    )
    simulate.add_argument(
        "--plan-after", type=int, default=2, help="days run before the plan is made (default 2)"
    )
    simulate.add_argument(
        "--plan-hours",
        choices=("mean", "80"),
        default="mean",
        help="add the plan's extra hours at the mean or at the 80%% bound (default mean)",
    )
    simulate.add_argument(
        "--plan-target",
        type=float,
        default=0.9,
        help="back-office SLA attainment the plan's hours must reach (default 0.9)",
    )
    simulate.add_argument(
        "--acd-mode",
        choices=MODES,
        help="how blendbot acts on the phone system (BLENDBOT_ACD_MODE; default: the setting)",
    )
    _what_if_arguments(simulate)


def _day_numbers(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not day numbers: {text!r} (e.g. 2,5)") from None


def _what_if_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        dest="sets",
        metavar="KEY=VALUE",
        help="a blending, guard, staffing or target setting for this run, e.g. "
        "BLENDBOT_TARGET_SERVICE_LEVEL=0.7 (repeatable; validated as the service does)",
    )
    parser.add_argument(
        "--sweep",
        metavar="KEY=V1,V2,...",
        help="one run per value of a setting, a row each",
    )


def _consoles() -> tuple[Console, Console]:
    from rich.console import Console

    return Console(soft_wrap=True), Console(stderr=True, soft_wrap=True)


def _errors() -> tuple[type[Exception], ...]:
    """The errors a person can act on: printed as they are, not raised."""
    from blending.errors import BlendingError
    from bot.errors import ServiceError
    from queues.errors import QueuesError
    from telephony_adapters.errors import AdapterError

    return (ServiceError, BlendingError, QueuesError, AdapterError, OSError)


def _run(job: Callable[[], Awaitable[int | None] | int]) -> int:
    """Run a command (on an event loop if it is a coroutine), printing the errors a person
    can act on."""
    import asyncio

    try:
        outcome = job()
        if not isinstance(outcome, int):
            outcome = asyncio.run(_awaited(outcome)) or 0
        return outcome
    except _errors() as exc:
        _, err = _consoles()
        err.print(f"error: {exc}", markup=False, highlight=False)
        return 1
    except KeyboardInterrupt:
        return 130


async def _awaited(work: Awaitable[int | None]) -> int | None:
    return await work


def _forecasting(args: argparse.Namespace) -> int:
    from blending.errors import BlendingError
    from bot.cli import forecasting

    console, err = _consoles()
    job = {"staffing": forecasting.staffing, "backtest": forecasting.backtest}[args.command]
    try:
        return job(args, console)
    except BlendingError as exc:
        err.print(f"error: {exc}", markup=False, highlight=False)
        return 1


def _with_settings(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "migrate":  # prints one line: no need for rich's start-up
        from bot.cli.migrate import migrate

        return _run(lambda: migrate(settings))
    console, err = _consoles()
    if args.command == "serve":
        from bot.cli.serve import serve

        host = args.host or settings.host
        port = args.port if args.port is not None else settings.port
        if not 0 < port < 65536:
            err.print("error: --port must be between 1 and 65535")
            return 2
        return _run(lambda: serve(settings, host, port, args.with_sample_data, console))
    if args.command in ("simulate", "demo"):
        from bot.cli import what_if
        from bot.settings import SettingsError

        try:
            overrides = what_if.parse_sets(args.sets)
            if getattr(args, "acd_mode", None) is not None:
                overrides["acd_mode"] = args.acd_mode
            sweep = what_if.parse_sweep(args.sweep)
            run_settings = what_if.settings_with(overrides) if overrides else settings
            if sweep is not None:
                for value in sweep.values:  # every value checked before anything runs
                    what_if.settings_with({**overrides, sweep.field: value})
        except SettingsError as exc:
            err.print(f"error: {exc}", markup=False, highlight=False)
            return 2
    if args.command == "simulate":
        from bot.cli.simulate import simulate

        return _run(lambda: simulate(args, console, run_settings, sweep, overrides))
    if args.command == "demo":
        from bot.cli.demo import run_demo

        return _run(lambda: run_demo(run_settings, args, console, sweep, overrides))
    if args.command == "plan":
        from bot.cli.planning import plan

        if args.days is not None and not 1 <= args.days <= 60:
            err.print("error: --days must be between 1 and 60")
            return 2
        if args.site is not None and not re.fullmatch(r"[a-z0-9][a-z0-9_.-]{0,63}", args.site):
            err.print("error: --site must be a site's id: lower case, digits, _ . -")
            return 2
        if args.intervals is not None:
            from bot.cli.planning import intervals

            days = args.days or 2
            return _run(
                lambda: intervals(
                    settings, days, args.intervals, args.json_out, console, site=args.site
                )
            )
        return _run(
            lambda: plan(
                settings, args.days, args.json_out, console, move=args.move, site=args.site
            )
        )
    if args.command == "backtest":
        from bot.cli.planning import backtest_tasks

        horizon, folds = args.horizon_days or 14, args.folds or 8
        if not (1 <= horizon <= 60 and folds >= 1):
            err.print("error: --horizon-days must be between 1 and 60, --folds at least 1")
            return 2
        return _run(lambda: backtest_tasks(settings, horizon, folds, args.json_out, console))
    if args.command == "replay":
        from bot.cli.feeds import run_replay

        return _run(lambda: run_replay(settings, args, console))
    if args.command == "sync":
        from bot.cli.roster import sync_roster

        return _run(
            lambda: sync_roster(
                settings, dry_run=args.dry_run, json_out=args.json_out, console=console
            )
        )
    if args.command == "import" and args.kind in ("intervals", "schedule"):
        if not args.file.is_file():
            err.print(f"error: cannot read {args.file}: no such file", markup=False)
            return 2
        from bot.cli.feeds import run_import

        return _run(lambda: run_import(settings, args.kind, args.file, console))
    if args.command == "import":
        from bot.cli.imports import run_import as import_csv

        try:
            size = args.file.stat().st_size
            stream = args.file.open(encoding="utf-8-sig", newline="")
        except OSError as exc:
            err.print(f"error: cannot read {args.file}: {exc.strerror}", markup=False)
            return 2
        return _run(
            lambda: import_csv(
                settings, args.kind, args.file, stream, size, args.all_or_nothing, console, err
            ),
        )
    return 2


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "staffing" or (args.command == "backtest" and not args.tasks):
        return _forecasting(args)  # the maths by hand: no settings, no database
    from bot.settings import SettingsError, load_settings

    try:
        settings = load_settings()
    except SettingsError as exc:
        _, err = _consoles()
        err.print(f"error: {exc}", markup=False, highlight=False)
        return 2
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    return _with_settings(args, settings)


if __name__ == "__main__":
    sys.exit(main())

"""The ``blendbot`` command."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TextIO

from aiohttp import web
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

from blending.errors import BlendingError
from blending.forecast_store import warm_up
from bot.blending_round import Blender
from bot.cli import feeds as cli_feeds
from bot.cli import forecasting as cli_blending
from bot.cli import simulate as cli_simulate
from bot.database import DatabaseError
from bot.http.app import create_app
from bot.http.feeds import FeedConfig, feed_clients
from bot.http.keys import METRICS
from bot.migrate import MigrationError
from bot.root import (
    api_tokens,
    blend_policy,
    database,
    dispatch_policy,
    feed_clients_of,
    forecast_policy,
    load_sample,
    timer_policy,
)
from bot.settings import Settings, SettingsError, load_settings
from bot.slack import register_slack, slack_config
from bot.slack.socket import run_socket_mode
from bot.tick import Tick
from clock import SYSTEM
from queues.errors import QueuesError
from queues.importer import ImportReport, import_roster, import_tasks
from telephony_adapters.errors import AdapterError

console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
PROGRESS_FROM_BYTES = 1_000_000


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="blendbot", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the service")
    serve.add_argument("--host", help="address to bind (default BLENDBOT_HOST)")
    serve.add_argument("--port", type=int, help="port (default BLENDBOT_PORT, else 8080)")
    serve.add_argument(
        "--with-sample-data", action="store_true", help="load a small sample roster and task list"
    )

    commands.add_parser("migrate", help="apply the database migrations and exit")
    cli_blending.add_parsers(commands)
    cli_simulate.add_parser(commands)
    demo = commands.add_parser(
        "demo", help="one simulated day under every policy, through Slack, with a report"
    )
    demo.add_argument("--seed", type=int, default=1)
    demo.add_argument(
        "--report", type=Path, default=Path("blendbot-demo.html"), help="the HTML report"
    )
    demo.add_argument("--json", type=Path, dest="json_out", help="write the figures as JSON")

    importer = commands.add_parser("import", help="bulk-import a CSV file")
    kinds = importer.add_subparsers(dest="kind", required=True, metavar="KIND")
    for kind, text in (("tasks", "tasks"), ("roster", "agents and their skills")):
        sub = kinds.add_parser(kind, help=f"import {text}")
        sub.add_argument("file", type=Path, help="CSV file with a header row")
        sub.add_argument(
            "--all-or-nothing", action="store_true", help="import nothing if any row is bad"
        )
    cli_feeds.add_parsers(commands, kinds)
    return parser


async def _serve(settings: Settings, host: str, port: int, sample: bool) -> None:
    async with database(settings) as db:
        pool = db.pool
        tokens, token_file = api_tokens(settings)
        if sample:
            roster, tasks = await load_sample(pool)
            console.print(
                f"sample data: {roster.created + roster.updated} agents, "
                f"{tasks.created + tasks.unchanged} tasks"
            )
        await asyncio.to_thread(warm_up)  # compile the forecasting code before any request
        app = create_app(
            pool,
            api_tokens=tokens,
            max_body_bytes=settings.max_body_bytes,
            policy=dispatch_policy(settings),
            feeds=FeedConfig.from_settings(settings),
            clock=SYSTEM,
        )
        ami, genesys = feed_clients_of(settings)
        if ami or genesys:
            app.cleanup_ctx.append(feed_clients(ami=ami, genesys_cloud=genesys))
        slack_settings = slack_config(settings, dispatch_policy(settings), blend_policy(settings))
        slack = register_slack(app, slack_settings) if slack_settings else None
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise SystemExit(f"error: cannot listen on {host}:{port}: {exc.strerror}") from None
        console.print(f"blendbot listening on http://{host}:{port}")
        if token_file is not None:
            console.print(f"API token (kept in {token_file}): {tokens[0]}")
        else:
            console.print("API tokens: from BLENDBOT_API_TOKENS")
        console.print(f"OpenAPI document: http://{host}:{port}/api/v1/openapi.json")
        background: list[asyncio.Task[None]] = []
        if slack is None:
            console.print("Slack: off (set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET)")
        elif settings.slack_app_token:
            console.print("Slack: Socket Mode")
            background.append(asyncio.create_task(run_socket_mode(slack, settings.slack_app_token)))
        else:
            console.print(f"Slack: events at http://{host}:{port}/slack/events")
        notifier = slack.notifier if slack else None
        blender = Blender(
            pool,
            blend_policy(settings),
            dispatch_policy(settings),
            target=(settings.target_service_level, settings.service_level_seconds),
            notifier=notifier,
            metrics=app[METRICS],
        )
        console.print(f"blending policy: {blender.policy.name}")
        tick = Tick(
            db.url,
            pool,
            clock=SYSTEM,
            interval=settings.tick_seconds,
            policy=timer_policy(settings),
            notifier=notifier,
            forecasts=forecast_policy(settings),
            blender=blender,
        )
        background.append(asyncio.create_task(tick.run()))
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await stop.wait()
        finally:
            console.print("stopping")
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
            await runner.cleanup()


async def _migrate(settings: Settings) -> None:
    async with database(settings):
        console.print("database is up to date")


def _print_report(report: ImportReport, what: str) -> int:
    for error in report.errors[:200]:
        err.print(f"line {error.line}: {error.message}", markup=False, highlight=False)
    if len(report.errors) > 200:
        err.print(f"... and {len(report.errors) - 200} more bad rows")
    if not report.committed:
        console.print(
            f"imported nothing: {len(report.errors)} bad row(s) of {report.rows} (--all-or-nothing)"
        )
        return 1
    kept = report.created + report.updated + report.unchanged
    console.print(
        f"{report.rows} rows in {report.seconds:.1f} s ({report.rate:,.0f} rows/s): "
        f"{report.created} new {what}, {report.updated} updated, {report.unchanged} already "
        f"present, {len(report.errors)} bad row(s); {kept} kept"
    )
    return 1 if report.errors else 0


async def _import(
    settings: Settings, kind: str, file: Path, stream: TextIO, size: int, all_or_nothing: bool
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
            pool = db.pool
            try:
                if kind == "tasks":
                    report = await import_tasks(
                        pool,
                        stream,
                        actor=f"import:{file.name}",
                        all_or_nothing=all_or_nothing,
                        progress=advance,
                    )
                else:
                    report = await import_roster(
                        pool, stream, all_or_nothing=all_or_nothing, progress=advance
                    )
            except UnicodeDecodeError as exc:
                raise SystemExit(f"error: {file} is not UTF-8 text ({exc.reason})") from None
    return _print_report(report, "tasks" if kind == "tasks" else "agents")


async def _demo(settings: Settings, args: argparse.Namespace) -> int:
    from bot.cli.demo import demo

    try:
        body = await demo(settings, console, seed=args.seed, report=args.report)
    except BlendingError as exc:
        err.print(f"error: {exc}", markup=False, highlight=False)
        return 1
    if args.json_out:
        args.json_out.write_text(json.dumps(body, indent=2))
    return 0


def _run(job: Callable[[], Awaitable[int | None]]) -> int:
    try:
        return asyncio.run(job()) or 0  # type: ignore[arg-type]
    except (DatabaseError, MigrationError, QueuesError, AdapterError, OSError) as exc:
        err.print(f"error: {exc}", markup=False, highlight=False)
        return 1
    except KeyboardInterrupt:
        return 130


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        err.print(f"error: {exc}", markup=False, highlight=False)
        return 2
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if args.command == "serve":
        host = args.host or settings.host
        port = args.port if args.port is not None else settings.port
        if not 0 < port < 65536:
            err.print("error: --port must be between 1 and 65535")
            return 2
        return _run(lambda: _serve(settings, host, port, args.with_sample_data))
    if args.command in ("staffing", "backtest"):
        job = {"staffing": cli_blending.staffing, "backtest": cli_blending.backtest}[args.command]
        try:
            return job(args, console)
        except BlendingError as exc:
            err.print(f"error: {exc}", markup=False, highlight=False)
            return 1
    if args.command == "simulate":
        try:
            return cli_simulate.simulate(args, console, settings)
        except (BlendingError, DatabaseError, MigrationError, QueuesError) as exc:
            err.print(f"error: {exc}", markup=False, highlight=False)
            return 1
    if args.command == "demo":
        return _run(lambda: _demo(settings, args))
    if args.command == "migrate":
        return _run(lambda: _migrate(settings))
    if args.command == "replay":
        return _run(lambda: cli_feeds.run_replay(settings, args, console))
    if args.command == "import" and args.kind in ("intervals", "schedule"):
        if not args.file.is_file():
            err.print(f"error: cannot read {args.file}: no such file", markup=False)
            return 2
        return _run(lambda: cli_feeds.run_import(settings, args.kind, args.file, console))
    if args.command == "import":
        try:
            size = args.file.stat().st_size
            stream = args.file.open(encoding="utf-8-sig", newline="")
        except OSError as exc:
            err.print(f"error: cannot read {args.file}: {exc.strerror}", markup=False)
            return 2
        return _run(
            lambda: _import(settings, args.kind, args.file, stream, size, args.all_or_nothing)
        )
    return 2


if __name__ == "__main__":
    sys.exit(main())

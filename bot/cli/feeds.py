"""``blendbot replay`` and ``blendbot import intervals|schedule``: telephony data by hand."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

from bot.database import database
from bot.root import api_tokens
from bot.settings import Settings
from telephony_adapters.importers import import_intervals, import_schedule
from telephony_adapters.replay import Target, replay


async def run_replay(settings: Settings, args: argparse.Namespace, console: Console) -> int:
    tokens, _ = api_tokens(settings)
    target = Target(
        base_url=args.url or f"http://{settings.host}:{settings.port}",
        token=tokens[0],
        firehose_access_key=settings.firehose_access_key,
        twilio_auth_token=settings.twilio_auth_token,
        public_url=settings.public_url,
    )
    columns = (BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*Progress.get_default_columns()[:1], *columns, console=console) as progress:
        bar = progress.add_task(f"replaying {args.file.name}", total=None)

        def advance(sent: int, total: int) -> None:
            progress.update(bar, completed=sent, total=total)

        report = await replay(
            args.file, source=args.source, target=target, speed=args.speed, progress=advance
        )
    console.print(
        f"sent {report.sent} payloads in {report.requests} requests; {report.failed} failed"
    )
    return 1 if report.failed else 0


async def run_import(settings: Settings, kind: str, file: Path, console: Console) -> int:
    async with database(settings) as db:
        if kind == "intervals":
            result = await import_intervals(
                db.pool, file, interval_minutes=settings.interval_minutes
            )
            console.print(f"imported {result.rows} intervals")
        else:
            result = await import_schedule(db.pool, file)
            console.print(f"imported {result.rows} schedule entries for {result.agents} agents")
    return 0

"""``blendbot sync roster``: who is who in the platforms and Slack, matched by email."""

from __future__ import annotations

import asyncio
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bot.database import database
from bot.errors import ServiceError
from bot.roster_sync import RosterReport
from bot.settings import Settings
from clock import SYSTEM, Clock

SHOWN = 50
"""Conflicts and unmatched people listed per source (the JSON report has them all)."""


class NothingToSync(ServiceError):
    """No platform's users nor Slack can be read: set a platform's settings (Amazon Connect's
    region and instance, the Genesys Cloud OAuth client, the Twilio account, token and
    workspace) or SLACK_BOT_TOKEN."""


async def sync_roster(
    settings: Settings,
    *,
    dry_run: bool,
    json_out: Path | None,
    console: Console,
    clock: Clock = SYSTEM,
) -> int:
    """Run the sync once; 1 when a source could not be read (conflicts are reported, not
    failures)."""
    from bot.root import roster_sync

    async with database(settings) as db:
        sync = roster_sync(db.pool, settings, clock)
        try:
            if not sync:
                raise NothingToSync(NothingToSync.__doc__)
            report = await sync.run("cli", clock.now(), dry_run=dry_run)
        finally:
            await sync.close()
    if json_out is not None:
        text = report.model_dump_json(indent=2) + "\n"
        await asyncio.to_thread(json_out.write_text, text, encoding="utf-8")
    show(report, console)
    return 1 if report.failed else 0


def show(report: RosterReport, console: Console) -> None:
    table = Table(title="roster sync" + (" (dry run: nothing written)" if report.dry_run else ""))
    for column in (
        "source",
        "people",
        "matched",
        "filled",
        "conflicts",
        "unmatched people",
        "unmatched agents",
        "error",
    ):
        table.add_column(column)
    for s in report.sources:
        table.add_row(
            s.source,
            str(s.people),
            str(s.matched),
            str(len(s.filled)),
            str(len(s.conflicts)),
            str(len(s.unmatched_people)),
            str(len(s.unmatched_agents)),
            s.error or "",
        )
    console.print(table)
    for s in report.sources:
        for fill in s.filled[:SHOWN]:
            verb = "would fill" if report.dry_run else "filled"
            console.print(
                f"{s.source}: {verb} {fill.agent_id} = {fill.external_id} ({fill.email})",
                markup=False,
                highlight=False,
            )
        for conflict in s.conflicts[:SHOWN]:
            console.print(f"{s.source}: conflict: {conflict.detail}", markup=False, highlight=False)
        for person in s.unmatched_people[:SHOWN]:
            console.print(
                f"{s.source}: no agent for {person.external_id} "
                f"({person.email or 'no email'}{', ' + person.name if person.name else ''})",
                markup=False,
                highlight=False,
            )
    verb = "would be filled" if report.dry_run else "filled"
    console.print(
        f"{report.matched} matched, {report.filled} {verb}, {report.conflicts} conflicts, "
        f"{report.unmatched} unmatched"
        + (f"; not read: {', '.join(report.failed)}" if report.failed else "")
        + (f" (run #{report.sync_id})" if report.sync_id is not None else ""),
        markup=False,
        highlight=False,
    )

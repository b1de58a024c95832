"""``blendbot migrate``: bring the database up to date, and nothing else (it starts fast)."""

from __future__ import annotations

from rich.console import Console

from bot.database import database
from bot.settings import Settings


async def migrate(settings: Settings, console: Console) -> None:
    async with database(settings):
        console.print("database is up to date")

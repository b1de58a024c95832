"""``blendbot migrate``: bring the database up to date, and nothing else (it starts fast)."""

from __future__ import annotations

import logging

from bot.database import database_url
from bot.migrate import migrate_url
from bot.settings import Settings

log = logging.getLogger(__name__)


async def migrate(settings: Settings) -> None:
    async with database_url(settings.database_url, settings.data_dir) as url:
        for name in await migrate_url(url):
            log.info("applied migration %s", name)
    print("database is up to date")

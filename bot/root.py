"""The composition root: settings → database → migrations → pool → app."""

from __future__ import annotations

import json
import logging
import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path

import asyncpg

from blending.forecast_store import ForecastSettings
from blending.guard import GuardSettings
from blending.policy import BlendPolicy, policy_for
from bot.database import database_url, open_pool
from bot.http.feeds import AmiConfig, GenesysConfig
from bot.migrate import migrate_url
from bot.settings import Settings
from queues.catalog import Catalog
from queues.dispatch import DispatchSettings
from queues.importer import ImportReport, import_roster, import_tasks
from queues.models import TaskTypeIn
from queues.timers import TimerSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Database:
    url: str
    pool: asyncpg.Pool


@asynccontextmanager
async def database(settings: Settings, *, migrate: bool = True) -> AsyncIterator[Database]:
    """An open pool on a migrated database (the embedded one unless DATABASE_URL is set)."""
    async with database_url(settings.database_url, settings.data_dir) as url:
        if migrate:
            for name in await migrate_url(url):
                log.info("applied migration %s", name)
        async with open_pool(
            url, min_size=settings.db_pool_min, max_size=settings.db_pool_max
        ) as pool:
            yield Database(url, pool)


def dispatch_policy(settings: Settings) -> DispatchSettings:
    return DispatchSettings(
        offer_seconds=settings.offer_seconds,
        fit_margin=settings.fit_margin,
        sla_top_share=settings.sla_top_share,
        skip_cooldown_seconds=settings.skip_cooldown_minutes * 60,
    )


def forecast_policy(settings: Settings) -> ForecastSettings:
    return ForecastSettings(
        model=settings.forecast_model,
        every_seconds=settings.forecast_minutes * 60,
        target_sl=settings.target_service_level,
        target_seconds=settings.service_level_seconds,
        max_occupancy=settings.max_occupancy,
        timezone=settings.timezone,
    )


def blend_policy(settings: Settings) -> BlendPolicy:
    s = settings
    guard = GuardSettings(
        hold_waiting=s.guard_hold_waiting,
        recall_waiting=s.guard_recall_waiting,
        recall_wait_seconds=s.guard_recall_wait_seconds or s.service_level_seconds,
        recall_service_level=s.guard_recall_service_level,
        calm_seconds=s.guard_calm_seconds,
    )
    policy = policy_for(
        s.blending_policy,
        k=s.reserve_k,
        safety_margin=s.safety_margin,
        bound=s.blending_bound,
        min_minutes=s.min_window_minutes,
        fit_margin=s.fit_margin,
        guard=guard,
    )
    return replace(policy, max_minutes=s.max_window_minutes)


def timer_policy(settings: Settings) -> TimerSettings:
    return TimerSettings(
        nudge_factor=settings.nudge_factor, escalate_factor=settings.escalate_factor
    )


def feed_clients_of(settings: Settings) -> tuple[AmiConfig | None, GenesysConfig | None]:
    """The AMI and Genesys Cloud clients the settings ask for (none when unset)."""
    ami = None
    if settings.ami_host and settings.ami_username and settings.ami_secret:
        ami = AmiConfig(
            settings.ami_host, settings.ami_port, settings.ami_username, settings.ami_secret
        )
    genesys = None
    s = settings
    if (
        s.genesys_api_url
        and s.genesys_login_url
        and s.genesys_client_id
        and (s.genesys_client_secret)
    ):
        genesys = GenesysConfig(
            s.genesys_api_url,
            s.genesys_login_url,
            s.genesys_client_id,
            s.genesys_client_secret,
            tuple(s.genesys_user_ids),
            tuple(s.genesys_queue_ids),
        )
    return ami, genesys


def api_tokens(settings: Settings) -> tuple[list[str], Path | None]:
    """The configured tokens, or the one kept in the data directory (made on first use)."""
    if settings.api_tokens:
        return settings.api_tokens, None
    path = settings.data_dir / "api-token"
    if not path.exists():
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(32) + "\n")
    return [path.read_text().strip()], path


async def load_sample(pool: asyncpg.Pool) -> tuple[ImportReport, ImportReport]:
    """Load the sample task types, roster and tasks; loading twice changes nothing."""
    sample = resources.files("bot") / "sample"
    types = json.loads((sample / "task_types.json").read_text())
    catalog = Catalog(pool)
    for name, body in types.items():
        await catalog.put(name, TaskTypeIn.model_validate(body))
    with (sample / "roster.csv").open(encoding="utf-8") as roster_file:
        roster = await import_roster(pool, roster_file)
    with (sample / "tasks.csv").open(encoding="utf-8") as tasks_file:
        tasks = await import_tasks(pool, tasks_file, actor="sample")
    return roster, tasks

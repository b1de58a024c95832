"""The stores on the service's pool: built once by the root, handed to every surface.

The HTTP handlers, the Slack listeners and the tick reach the task list, the roster, the
rules, the read models, telephony and Slack's own rows through one :class:`Stores`, so no
surface builds a store from a pool it was handed. A store on a connection, inside a
transaction, is built where the transaction is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import asyncpg

from blending.planning.service import Planner, PlanSettings
from blending.presence import DEFAULT_HEARTBEAT_SECONDS
from blending.sites import SiteStore
from blending.switch import BlendingState
from blending.telemetry_store import TelemetryStore
from bot.quarantine import Quarantine
from bot.slack.store import SlackStore
from queues.catalog import Catalog
from queues.eta import EtaSettings, Outlook
from queues.lookups import Lookups
from queues.priority_store import RuleStore
from queues.roster import Roster
from queues.tasks import Tasks
from queues.views import Views
from task_sources.config import SourceCatalog
from task_sources.intake import Intake


@dataclass(frozen=True)
class Stores:
    pool: asyncpg.Pool
    tasks: Tasks
    catalog: Catalog
    roster: Roster
    rules: RuleStore
    views: Views
    lookups: Lookups
    """The audit log of task lookups."""
    telemetry: TelemetryStore
    switch: BlendingState
    """Blending on or off."""
    slack: SlackStore
    quarantine: Quarantine
    sources: Intake
    """The task sources: their configuration, deliveries and rejects."""
    planner: Planner
    """The back-office plan."""
    sites: SiteStore
    """The sites and their clocks."""


def stores(
    pool: asyncpg.Pool,
    *,
    interval_minutes: int = 15,
    service_level_seconds: float = 20,
    heartbeats: Mapping[str, float] = DEFAULT_HEARTBEAT_SECONDS,
    outlook: Outlook | None = None,
    eta: EtaSettings | None = None,
    planning: PlanSettings | None = None,
    timezone: str = "UTC",
) -> Stores:
    """``outlook``: the lending the forecast expects, for the tasks' ETAs; ``timezone``: the
    default site's clock."""
    return Stores(
        pool=pool,
        tasks=Tasks(pool, outlook=outlook, eta=eta),
        catalog=Catalog(pool),
        roster=Roster(pool),
        rules=RuleStore(pool),
        views=Views(pool),
        lookups=Lookups(pool),
        telemetry=TelemetryStore(
            pool,
            interval_minutes=interval_minutes,
            service_level_seconds=service_level_seconds,
            heartbeats=heartbeats,
        ),
        switch=BlendingState(pool),
        slack=SlackStore(pool),
        quarantine=Quarantine(pool),
        sources=Intake(pool, SourceCatalog(pool)),
        planner=Planner(pool, planning),
        sites=SiteStore(pool, timezone),
    )

"""The composition root: the one place where blendbot's parts are built and wired.

settings → server and migrated pool → each part's settings (:class:`Parts`) → the control
clients (:func:`control_targets`) → HTTP app (API, feeds, Slack, the state commands' outbox) →
blending round → tick. ``serve`` runs :func:`service`; ``demo``, the
benchmarks and the tests' fixtures build their apps with :func:`http_app`, so there is one
wiring to read and to change. Only this module turns :class:`~bot.settings.Settings` into the
values the parts take. (Simulated days drive the engine's decisions from the simulator, on
their own databases: :mod:`bot.cli.simulated_days`.)
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
from aiohttp import web

from blending import acd_store
from blending.acd import AcdModes
from blending.forecast_cluster import scheduler_address
from blending.forecast_store import ForecastSettings
from blending.guard import GuardSettings
from blending.outlook import ForecastOutlook
from blending.planning.service import PlanSettings
from blending.policy import BlendPolicy, policy_for
from blending.policy_names import PolicyName
from bot.acd import STEERING, AcdSettings, Hooks, Interruptions, Steering, Watch
from bot.blending_round import Blender
from bot.console.app import register_console
from bot.console.config import ConsoleConfig, SlackSignIn
from bot.database import Database, database
from bot.eta_watch import EtaWatch
from bot.http.app import create_app
from bot.http.connections import ConnectionLimits
from bot.http.feeds import AmiConfig, FeedConfig, GenesysConfig, feed_clients
from bot.http.keys import JOB_HEALTH, METRICS, STORES
from bot.retention import RetentionSettings
from bot.roster_sync import DailyRosterSync, RosterSync
from bot.settings import Settings, SettingsError
from bot.slack.app import Slack, register_slack
from bot.slack.context import SlackConfig
from bot.slack.directory import SlackDirectory, lookup_client
from bot.sources import SourceEvents
from bot.stores import stores
from bot.tick import Tick
from clock import SYSTEM, Clock
from queues.catalog import Catalog
from queues.db import Executor
from queues.dispatch import DispatchSettings
from queues.eta import EtaSettings
from queues.eta_store import WatchSettings
from queues.importer import ImportReport, import_roster, import_tasks
from queues.models import TaskTypeIn
from queues.timers import TimerSettings
from task_sources.changes import SourceChanges
from task_sources.mailbox import Mailboxes, MailboxSettings
from task_sources.outbox import WriteBackOutbox
from telephony_adapters.asterisk_control import AsteriskControl
from telephony_adapters.connect_control import ConnectControl
from telephony_adapters.connect_directory import ConnectDirectory
from telephony_adapters.control import ControlClient
from telephony_adapters.control_outbox import ControlOutbox, OutboxSettings, Targets
from telephony_adapters.directory import Directory
from telephony_adapters.genesys_control import WINDOW_SECONDS, GenesysControl
from telephony_adapters.genesys_directory import GenesysDirectory
from telephony_adapters.marks import StateMarks
from telephony_adapters.ratelimit import TokenBucket, Window
from telephony_adapters.twilio_control import TwilioControl
from telephony_adapters.twilio_directory import TwilioDirectory
from telephony_adapters.webhook_control import WebhookClient

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Parts:
    """What each part is given, made once from the settings; the defaults are the settings'
    defaults, for the tests and the simulation."""

    dispatch: DispatchSettings = field(default_factory=DispatchSettings)
    timers: TimerSettings = field(default_factory=TimerSettings)
    forecasts: ForecastSettings = field(default_factory=ForecastSettings)
    blending: BlendPolicy = field(default_factory=lambda: policy_for("forecast_guard"))
    feeds: FeedConfig = field(default_factory=FeedConfig)
    eta: EtaSettings = field(default_factory=EtaSettings)
    watch: WatchSettings = field(default_factory=WatchSettings)
    """The SLA watch: tasks whose ETA passes their due time, warned of once."""
    target: tuple[float, float] = (0.8, 20.0)
    """The inbound service target: share answered, within seconds."""
    tick_seconds: float = 5.0
    retention: RetentionSettings = field(default_factory=RetentionSettings)
    connections: ConnectionLimits = field(default_factory=ConnectionLimits)
    timezone: str = "UTC"
    acd: AcdSettings = field(default_factory=AcdSettings)
    """The modes per staffing group, and how state commands are confirmed and watched."""
    roster_sync_hour: int = 3
    """The daily roster sync runs at the first round after this hour, per site on its own
    clock (``timezone`` for the agents in no site)."""
    clock: Clock = SYSTEM
    """The one source of "now" for every part."""
    mailboxes: MailboxSettings | None = field(default_factory=MailboxSettings)
    """How the shared mailboxes are read; ``None``: not from this instance."""
    planning: PlanSettings = field(default_factory=PlanSettings)
    """The back-office plan: its days, the dedicated teams, the forecasts it staffs with."""


def blend_policy(
    settings: Settings, name: PolicyName | None = None, *, k: int | None = None
) -> BlendPolicy:
    """The blending policy the settings describe (``name`` and ``k`` in place of theirs)."""
    s = settings
    guard = GuardSettings(
        hold_waiting=s.guard_hold_waiting,
        recall_waiting=s.guard_recall_waiting,
        recall_wait_seconds=s.guard_recall_wait_seconds or s.service_level_seconds,
        recall_service_level=s.guard_recall_service_level,
        calm_seconds=s.guard_calm_seconds,
    )
    blending = policy_for(
        name or s.blending_policy,
        k=s.reserve_k if k is None else k,
        safety_margin=s.safety_margin,
        bound=s.blending_bound,
        min_minutes=s.min_window_minutes,
        fit_margin=s.fit_margin,
        guard=guard,
    )
    return replace(
        blending,
        max_minutes=s.max_window_minutes,
        interruptible_extra=s.interruptible_extra,
        interruptible_unpausable=can_command(s),
        live_extra=s.live_extra,
        live_idle_keep=s.live_idle_keep,
        live_cover_seconds=s.live_cover_seconds,
        live_cover_share=s.live_cover_share,
        live_minutes=s.live_minutes,
        live_recall_waiting=s.live_recall_waiting,
        live_recall_share=s.live_recall_share,
    )


def plan_settings(settings: Settings) -> PlanSettings:
    """The back-office plan the settings describe."""
    s = settings
    return PlanSettings(
        days=s.plan_days,
        back_office_teams=frozenset(s.backoffice_teams),
        timezone=s.timezone,
        forecasts=ForecastSettings(
            model=s.forecast_model,
            target_sl=s.target_service_level,
            target_seconds=s.service_level_seconds,
            max_occupancy=s.max_occupancy,
            timezone=s.timezone,
        ),
        policy=blend_policy(s),
        target=(s.target_service_level, s.service_level_seconds),
    )


def parts(settings: Settings, clock: Clock = SYSTEM) -> Parts:
    s = settings
    return Parts(
        dispatch=DispatchSettings(
            offer_seconds=s.offer_seconds,
            fit_margin=s.fit_margin,
            sla_top_share=s.sla_top_share,
            skip_cooldown_seconds=s.skip_cooldown_minutes * 60,
            max_tasks_per_agent=s.max_tasks_per_agent,
        ),
        timers=TimerSettings(
            nudge_factor=s.nudge_factor,
            escalate_factor=s.escalate_factor,
            paused_return_minutes=s.paused_return_minutes,
            fit_margin=s.fit_margin,
        ),
        forecasts=ForecastSettings(
            model=s.forecast_model,
            every_seconds=s.forecast_minutes * 60,
            target_sl=s.target_service_level,
            target_seconds=s.service_level_seconds,
            max_occupancy=s.max_occupancy,
            timezone=s.timezone,
            cluster=scheduler_address(s.forecast_cluster) if s.forecast_cluster else None,
        ),
        blending=blend_policy(s),
        feeds=FeedConfig(
            public_url=s.public_url,
            firehose_access_key=s.firehose_access_key,
            twilio_auth_token=s.twilio_auth_token,
            interval_minutes=s.interval_minutes,
            service_level_seconds=s.service_level_seconds,
            marks=state_marks(s),
        ),
        eta=EtaSettings(escalation_answer_minutes=s.escalation_answer_minutes),
        watch=WatchSettings(
            every_ticks=s.eta_watch_ticks, hours=s.eta_watch_hours, batch=s.eta_watch_batch
        ),
        target=(s.target_service_level, s.service_level_seconds),
        tick_seconds=s.tick_seconds,
        retention=RetentionSettings(
            days=s.retention_days, task_events_days=s.task_events_retention_days
        ),
        connections=ConnectionLimits(
            head_seconds=s.header_timeout_seconds,
            body_seconds=s.body_timeout_seconds,
            per_client=s.max_connections_per_client,
            keepalive_seconds=s.keepalive_seconds,
        ),
        timezone=s.timezone,
        roster_sync_hour=s.roster_sync_hour,
        acd=AcdSettings(
            modes=AcdModes(s.acd_mode, dict(s.acd_modes)),
            confirm_seconds=s.acd_confirm_seconds,
            confirm_tries=s.acd_confirm_tries,
            ghost_seconds=s.acd_ghost_seconds,
            recall_hold_seconds=s.guard_calm_seconds,
        ),
        clock=clock,
        planning=plan_settings(s),
        mailboxes=(
            MailboxSettings(
                poll_seconds=s.imap_poll_seconds,
                idle_seconds=s.imap_idle_seconds,
                longest_backoff=s.imap_backoff_seconds,
            )
            if s.imap_poll
            else None
        ),
    )


def can_command(settings: Settings) -> bool:
    """Whether the settings configure a way to set agents' states in the platform."""
    s = settings
    return bool(s.acd_webhook_url) or any(
        on(s) for on in (_connect_on, _genesys_on, _twilio_on, _asterisk_on)
    )


def control_targets(
    settings: Settings,
    *,
    marks: Mapping[str, StateMarks] | None = None,
    clock: Clock = SYSTEM,
) -> Targets:
    """The control clients the settings configure, one per platform (:func:`control_clients`)
    and the signed webhook for any other; the agent's telephony source with a client controls
    them (see :class:`~telephony_adapters.control_outbox.Targets`). A group in ``control``
    mode needs at least one."""
    s = settings
    clients: list[ControlClient] = list(control_clients(s, marks=marks, clock=clock).values())
    if s.acd_webhook_url:
        if not s.acd_webhook_secret:
            raise SettingsError(
                "BLENDBOT_ACD_WEBHOOK_SECRET: required with BLENDBOT_ACD_WEBHOOK_URL "
                "(the webhook's bodies are signed)"
            )
        clients.append(WebhookClient(s.acd_webhook_url, s.acd_webhook_secret))
    targets = Targets(clients)
    modes = AcdModes(s.acd_mode, dict(s.acd_modes))
    if modes.uses("control") and not targets:
        raise SettingsError(
            "BLENDBOT_ACD_MODE: control needs a control client: set BLENDBOT_ACD_WEBHOOK_URL "
            "(and its secret) or a platform's control settings"
        )
    return targets


def slack_config(settings: Settings, wired: Parts) -> SlackConfig | None:
    """The Slack app's settings, or ``None`` when Slack is not configured."""
    s = settings
    if not s.slack_bot_token or not s.slack_signing_secret:
        return None
    return SlackConfig(
        bot_token=s.slack_bot_token,
        signing_secret=s.slack_signing_secret,
        api_url=s.slack_api_url,
        app_token=s.slack_app_token,
        supervisor_channel=s.supervisor_channel,
        supervisors=frozenset(s.supervisors),
        supervisor_group=s.supervisor_group,
        policy=wired.dispatch,
        timezone=wired.timezone,
        blending=wired.blending,
        target=wired.target,
        clock=wired.clock,
    )


def _connect_on(s: Settings) -> bool:
    return bool(
        s.connect_region
        and s.connect_instance_id
        and s.connect_backoffice_status_id
        and s.connect_available_status_id
    )


def _genesys_on(s: Settings) -> bool:
    return bool(
        s.genesys_api_url
        and s.genesys_login_url
        and s.genesys_client_id
        and s.genesys_client_secret
    )


def _twilio_on(s: Settings) -> bool:
    return bool(
        s.twilio_account_sid
        and s.twilio_auth_token
        and s.twilio_workspace_sid
        and s.twilio_backoffice_activity_sid
        and s.twilio_available_activity_sid
    )


def _asterisk_on(s: Settings) -> bool:
    return bool(s.ami_host and s.ami_username and s.ami_secret)


def state_marks(settings: Settings) -> dict[str, StateMarks]:
    """Per telephony source whose control client is configured, the statuses the client sets,
    for the feed to read back as ``back_office`` and ``available`` (Genesys presences by name
    here; their ids are added when looked up)."""
    s = settings
    marks: dict[str, StateMarks] = {}
    if _connect_on(s):
        marks["amazon_connect"] = StateMarks(
            [s.connect_backoffice_status_id or ""], [s.connect_available_status_id or ""]
        )
    if _genesys_on(s):
        marks["genesys"] = StateMarks(
            [s.genesys_backoffice_presence], [s.genesys_available_presence]
        )
    if _twilio_on(s):
        marks["twilio"] = StateMarks(
            [s.twilio_backoffice_activity_sid or ""], [s.twilio_available_activity_sid or ""]
        )
    if _asterisk_on(s):
        marks["asterisk"] = StateMarks([s.ami_pause_reason])
    return marks


def control_clients(
    settings: Settings,
    *,
    marks: Mapping[str, StateMarks] | None = None,
    clock: Clock = SYSTEM,
) -> dict[str, ControlClient]:
    """The control clients the settings configure, by telephony source (``amazon_connect``,
    ``genesys``, ``twilio``, ``asterisk``). Each opens its connection at its first command;
    close them with :func:`close_control_clients`. ``marks`` (the feeds', ``parts().feeds
    .marks``) lets the Genesys client share the presence ids it looks up with the feed."""
    s = settings
    marks = marks if marks is not None else state_marks(s)
    clients: dict[str, ControlClient] = {}
    if _connect_on(s):
        clients["amazon_connect"] = ConnectControl(
            region=s.connect_region or "",
            instance_id=s.connect_instance_id or "",
            backoffice_status_id=s.connect_backoffice_status_id or "",
            available_status_id=s.connect_available_status_id or "",
            api_url=s.connect_api_url,
            bucket=TokenBucket(s.connect_requests_per_second, s.connect_burst),
        )
    if _genesys_on(s):
        clients["genesys"] = GenesysControl(
            api_url=s.genesys_api_url or "",
            login_url=s.genesys_login_url or "",
            client_id=s.genesys_client_id or "",
            client_secret=s.genesys_client_secret or "",
            backoffice_presence=s.genesys_backoffice_presence,
            available_presence=s.genesys_available_presence,
            marks=marks.get("genesys"),
            limiter=Window(s.genesys_requests_per_minute, WINDOW_SECONDS),
            clock=clock,
        )
    if _twilio_on(s):
        clients["twilio"] = TwilioControl(
            account_sid=s.twilio_account_sid or "",
            auth_token=s.twilio_auth_token or "",
            workspace_sid=s.twilio_workspace_sid or "",
            backoffice_activity_sid=s.twilio_backoffice_activity_sid or "",
            available_activity_sid=s.twilio_available_activity_sid or "",
            api_url=s.twilio_api_url,
            clock=clock,
        )
    if _asterisk_on(s):
        clients["asterisk"] = AsteriskControl(
            host=s.ami_host or "",
            port=s.ami_port,
            username=s.ami_username or "",
            secret=s.ami_secret or "",
            reason=s.ami_pause_reason,
            queue=s.ami_pause_queue,
        )
    return clients


async def close_control_clients(clients: Mapping[str, ControlClient]) -> None:
    """Close the clients' connections (those that keep one)."""
    for client in clients.values():
        close = getattr(client, "close", None)
        if close is not None:
            await close()


def roster_sync(pool: Executor, settings: Settings, clock: Clock = SYSTEM) -> RosterSync:
    """The roster sync over every directory the settings let blendbot read: Amazon Connect
    (region and instance), Genesys Cloud (the OAuth client), Twilio TaskRouter (account,
    token, workspace) and Slack (the bot token). Close it with ``RosterSync.close``."""
    s = settings
    directories: list[Directory] = []
    if s.connect_region and s.connect_instance_id:
        directories.append(
            ConnectDirectory(
                region=s.connect_region,
                instance_id=s.connect_instance_id,
                api_url=s.connect_api_url,
                bucket=TokenBucket(s.connect_requests_per_second, s.connect_burst),
            )
        )
    if _genesys_on(s):
        directories.append(
            GenesysDirectory(
                api_url=s.genesys_api_url or "",
                login_url=s.genesys_login_url or "",
                client_id=s.genesys_client_id or "",
                client_secret=s.genesys_client_secret or "",
                clock=clock,
            )
        )
    if s.twilio_account_sid and s.twilio_auth_token and s.twilio_workspace_sid:
        directories.append(
            TwilioDirectory(
                account_sid=s.twilio_account_sid,
                auth_token=s.twilio_auth_token,
                workspace_sid=s.twilio_workspace_sid,
                api_url=s.twilio_api_url,
                clock=clock,
            )
        )
    slack = None
    if s.slack_bot_token:
        slack = SlackDirectory(lookup_client(s.slack_bot_token, s.slack_api_url))
    return RosterSync(pool, directories, slack)


def feed_clients_of(settings: Settings) -> tuple[AmiConfig | None, GenesysConfig | None]:
    """The AMI and Genesys Cloud clients the settings ask for (none when unset)."""
    s = settings
    ami = None
    if _asterisk_on(s):
        ami = AmiConfig(s.ami_host or "", s.ami_port, s.ami_username or "", s.ami_secret or "")
    genesys = None
    if _genesys_on(s):
        genesys = GenesysConfig(
            s.genesys_api_url or "",
            s.genesys_login_url or "",
            s.genesys_client_id or "",
            s.genesys_client_secret or "",
            tuple(s.genesys_user_ids),
            tuple(s.genesys_queue_ids),
            backoffice_presence=s.genesys_backoffice_presence,
            available_presence=s.genesys_available_presence,
        )
    return ami, genesys


@dataclass(frozen=True)
class App:
    """The HTTP app, with the Slack app mounted on it when Slack is configured, and the state
    commands' outbox when control clients are."""

    web: web.Application
    slack: Slack | None
    steering: Steering
    control: ControlOutbox | None = None
    targets: Targets = field(default_factory=Targets)
    interruptions: Interruptions | None = None
    """Work paused for the phones as soon as a feed shows it due (interruptible or control
    groups only)."""
    writebacks: WriteBackOutbox | None = None
    """The task sources' write-back outbox, sent from a task of the app."""
    mailboxes: Mailboxes | None = None
    """The readers of the shared mailboxes (imap sources), run from a task of the app."""


def http_app(
    pool: asyncpg.Pool,
    wired: Parts | None = None,
    *,
    tokens: list[str],
    max_body_bytes: int = 1024 * 1024,
    slack: SlackConfig | None = None,
    ami: AmiConfig | None = None,
    genesys: GenesysConfig | None = None,
    targets: Targets | None = None,
    run_control: bool = True,
    console: ConsoleConfig | None = None,
) -> App:
    """The HTTP app around an open pool (the caller owns the pool's lifetime). With control
    clients (``targets``), the state commands' outbox is sent from a task of the app, and with
    interruptible or control groups, work is paused for the phones from another; the task
    sources' write-backs are sent from a third, and the shared mailboxes read from a fourth
    (tests turn ``run_control`` off and drive them by hand). The console is mounted at
    ``/console`` (``console``: its cookie key and sign-in settings; none given: a key of its
    own, API tokens only)."""
    wired = wired or Parts()
    on_pool = stores(
        pool,
        interval_minutes=wired.feeds.interval_minutes,
        service_level_seconds=wired.feeds.service_level_seconds,
        heartbeats=wired.feeds.heartbeats,
        outlook=ForecastOutlook(pool, wired.blending, target=wired.target),
        eta=wired.eta,
        planning=wired.planning,
        timezone=wired.timezone,
    )
    app = create_app(
        on_pool,
        api_tokens=tokens,
        max_body_bytes=max_body_bytes,
        policy=wired.dispatch,
        feeds=wired.feeds,
        clock=wired.clock,
        body_seconds=wired.connections.body_seconds,
        timezone=wired.timezone,
    )
    if ami or genesys:
        app.cleanup_ctx.append(feed_clients(ami=ami, genesys_cloud=genesys))
    targets = targets or Targets()
    hooks = Hooks(app[METRICS])
    control = None
    if targets:
        a = wired.acd
        outbox_settings = OutboxSettings(
            confirm_seconds=a.confirm_seconds, confirm_tries=a.confirm_tries
        )
        control = ControlOutbox(
            pool, targets, clock=wired.clock, settings=outbox_settings, hooks=hooks
        )
        app.cleanup_ctx.append(_control_outbox(control, targets, run_control))
    interruptions = Interruptions(pool, wired.acd.modes, metrics=app[METRICS])
    if interruptions.modes.uses("interruptible"):  # a call seen in the feed pauses work
        app[STORES].telemetry.listeners.append(interruptions.kick)
    if interruptions.needed and run_control:
        app.cleanup_ctx.append(_interruptions(interruptions))
    steering = Steering(
        pool,
        wired.acd,
        wired.dispatch,
        clock=wired.clock,
        zone=ZoneInfo(wired.timezone),
        outbox=control,
        interruptions=interruptions if interruptions.needed else None,
    )
    app[STEERING] = steering
    sources = SourceEvents(app[METRICS])
    app[STORES].sources.hooks = sources
    writebacks = WriteBackOutbox(
        pool, app[STORES].sources.catalog, clock=wired.clock, hooks=sources
    )
    app.cleanup_ctx.append(_writebacks(writebacks, run_control))
    app.cleanup_ctx.append(_source_changes(SourceChanges(pool, app[STORES].sources.catalog)))
    mailboxes = None
    if wired.mailboxes is not None:
        metrics = app[METRICS]

        def counted(source: str, outcome: str) -> None:
            metrics.source_deliveries.labels(source, outcome).inc()
            if outcome == "created":
                metrics.tasks_created.labels(source).inc()

        mailboxes = Mailboxes(
            app[STORES].sources, clock=wired.clock, settings=wired.mailboxes, counted=counted
        )
        if run_control:
            app.cleanup_ctx.append(_mailboxes(mailboxes))
    register_console(app, console or ConsoleConfig())
    mounted = register_slack(app, slack) if slack else None
    if mounted is not None:
        hooks.notifier = mounted.notifier
        interruptions.notifier = mounted.notifier
        sources.notifier = mounted.notifier
    return App(
        app,
        mounted,
        steering,
        control,
        targets,
        interruptions if interruptions.needed else None,
        writebacks,
        mailboxes,
    )


def _mailboxes(mailboxes: Mailboxes) -> Callable[[web.Application], AsyncIterator[None]]:
    """A ``cleanup_ctx``: read the shared mailboxes while the app runs."""

    async def context(_: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(mailboxes.run(), name="mailboxes")
        try:
            yield
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    return context


def _source_changes(changes: SourceChanges) -> Callable[[web.Application], AsyncIterator[None]]:
    """A ``cleanup_ctx``: hear the changes of the sources' configuration while the app runs
    (until then, and while not heard, it is read on every delivery)."""

    async def context(_: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(changes.run(), name="source changes")
        try:
            yield
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    return context


def _writebacks(
    outbox: WriteBackOutbox, run: bool
) -> Callable[[web.Application], AsyncIterator[None]]:
    """A ``cleanup_ctx``: send the task sources' write-backs while the app runs."""

    async def context(_: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(outbox.run(), name="write-backs") if run else None
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
            await outbox.close()

    return context


def _interruptions(
    interruptions: Interruptions,
) -> Callable[[web.Application], AsyncIterator[None]]:
    """A ``cleanup_ctx``: pause and resume work for the phones while the app runs."""

    async def context(_: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(interruptions.run(), name="interruptions")
        interruptions.kick()  # whatever came due while no instance ran
        try:
            yield
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    return context


def _control_outbox(
    outbox: ControlOutbox, targets: Targets, run: bool
) -> Callable[[web.Application], AsyncIterator[None]]:
    """A ``cleanup_ctx``: send the state commands while the app runs; close the clients."""

    async def context(_: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(outbox.run(), name="control-outbox") if run else None
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
            await targets.close()

    return context


def blender(pool: asyncpg.Pool, wired: Parts, app: App) -> Blender:
    """The tick's blending round, telling agents through the app's Slack."""
    return Blender(
        pool,
        app.web[STORES].switch,
        wired.blending,
        wired.dispatch,
        target=wired.target,
        notifier=app.slack.notifier if app.slack else None,
        metrics=app.web[METRICS],
    )


def acd_watch(pool: asyncpg.Pool, wired: Parts, app: App) -> Watch:
    """The tick's watch of the agents' states in the phone system."""
    return Watch(
        pool,
        app.targets,
        settings=wired.acd,
        metrics=app.web[METRICS],
        notifier=app.slack.notifier if app.slack else None,
        outbox=app.control,
        interruptions=app.interruptions,
    )


def eta_watch(pool: asyncpg.Pool, wired: Parts, app: App) -> EtaWatch | None:
    """The SLA watch, when there is a supervisors' channel in Slack to warn."""
    if app.slack is None or app.slack.context.config.supervisor_channel is None:
        return None
    return EtaWatch(
        pool,
        ForecastOutlook(pool, wired.blending, target=wired.target),
        app.slack.notifier,
        wired.watch,
        eta=wired.eta,
        sla_top_share=wired.dispatch.sla_top_share,
    )


def tick(
    url: str, pool: asyncpg.Pool, wired: Parts, app: App, roster: RosterSync | None = None
) -> Tick:
    """The tick, whose failing jobs the app's ``/healthz`` reports; with a roster sync that
    has something to read, its daily run."""
    ticking = Tick(
        url,
        pool,
        interval=wired.tick_seconds,
        clock=wired.clock,
        policy=wired.timers,
        notifier=app.slack.notifier if app.slack else None,
        forecasts=wired.forecasts,
        blender=blender(pool, wired, app),
        metrics=app.web[METRICS],
        retention=wired.retention,
        watch=eta_watch(pool, wired, app),
        watch_every=wired.watch.every_ticks,
        acd=acd_watch(pool, wired, app),
        roster=(
            DailyRosterSync(roster, wired.roster_sync_hour, ZoneInfo(wired.timezone))
            if roster
            else None
        ),
        report_zone=wired.timezone,
    )
    app.web[JOB_HEALTH] = ticking.failing
    return ticking


@dataclass(frozen=True)
class Service:
    """Everything ``serve`` runs: the database, the HTTP and Slack apps, the tick."""

    settings: Settings
    database: Database
    app: App
    tick: Tick
    tokens: list[str]
    token_file: Path | None
    sample: tuple[ImportReport, ImportReport] | None
    """What the sample data loaded, when asked for."""
    wired: Parts


@asynccontextmanager
async def service(
    settings: Settings, *, clock: Clock = SYSTEM, sample: bool = False
) -> AsyncIterator[Service]:
    """The whole service, built and wired, on a migrated database; not yet listening."""
    from blending.forecast_store import warm_up

    wired = parts(settings, clock)
    targets = control_targets(settings, marks=wired.feeds.marks, clock=clock)
    tokens, token_file = api_tokens(settings)
    async with database(settings) as db:
        await acd_store.save_modes(db.pool, wired.acd.modes)
        loaded = await load_sample(db.pool) if sample else None
        await asyncio.to_thread(warm_up)  # compile the forecasting code before any request
        ami, genesys = feed_clients_of(settings)
        app = http_app(
            db.pool,
            wired,
            tokens=tokens,
            max_body_bytes=settings.max_body_bytes,
            slack=slack_config(settings, wired),
            ami=ami,
            genesys=genesys,
            targets=targets,
            console=console_config(settings),
        )
        roster = roster_sync(db.pool, settings, clock)
        try:
            yield Service(
                settings,
                db,
                app,
                tick(db.url, db.pool, wired, app, roster),
                tokens,
                token_file,
                loaded,
                wired,
            )
        finally:
            await roster.close()


def api_tokens(settings: Settings) -> tuple[list[str], Path | None]:
    """The configured tokens, or the one kept in the data directory (made on first use)."""
    if settings.api_tokens:
        return settings.api_tokens, None
    path = settings.data_dir / "api-token"
    return [kept_secret(path)], path


def kept_secret(path: Path) -> str:
    """A secret kept in a file readable by its owner only, made on first use."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(32) + "\n")
    return path.read_text().strip()


def console_config(settings: Settings) -> ConsoleConfig:
    """The console's cookie key (configured, or kept in the data directory), who supervises
    (the same users and group as in Slack), and Sign in with Slack when its client is set."""
    s = settings
    secret = s.console_secret or kept_secret(s.data_dir / "console-secret")
    slack = None
    if s.slack_client_id and s.slack_client_secret:
        slack = SlackSignIn(
            client_id=s.slack_client_id,
            client_secret=s.slack_client_secret,
            authorize_url=s.slack_authorize_url,
            api_url=s.slack_api_url,
            team_id=s.slack_team_id,
        )
    return ConsoleConfig(
        key=ConsoleConfig.key_of(secret),
        secure_cookies=bool(s.public_url and s.public_url.startswith("https://")),
        session_seconds=int(s.console_session_hours * 3600),
        supervisors=frozenset(s.supervisors),
        supervisor_group=s.supervisor_group,
        public_url=s.public_url,
        slack=slack,
    )


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

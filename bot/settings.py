"""Settings from the environment and an optional ``.env`` file.

Only the composition root (``bot.cli.main``) builds a :class:`Settings`; everything else receives
the values it needs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs
from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from blending.acd import Mode, parse_modes
from blending.forecast_cluster import scheduler_address
from blending.policy_names import Bound, PolicyName
from bot.errors import ServiceError


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("blendbot", appauthor=False))


class Settings(BaseSettings):
    """Every setting, with its environment variable name and default (listed in the README)."""

    model_config = SettingsConfigDict(
        env_prefix="BLENDBOT_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL"),
        description="PostgreSQL server to use; when unset, an embedded server is started.",
    )
    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="Where the embedded database and the generated API token live.",
    )
    host: str = Field(default="127.0.0.1", description="Address the HTTP server binds to.")
    port: int = Field(default=8080, ge=1, le=65535, description="Port of the HTTP server.")
    api_tokens: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated bearer tokens accepted by /api/v1.",
    )
    max_body_bytes: int = Field(
        default=1024 * 1024, ge=1024, description="Largest request body accepted (413 above)."
    )
    header_timeout_seconds: float = Field(
        default=10, ge=1, le=300, description="A request head must arrive within this."
    )
    body_timeout_seconds: float = Field(
        default=30, ge=1, le=3600, description="A request body must arrive within this."
    )
    keepalive_seconds: float = Field(
        default=15, ge=1, le=3600, description="Idle kept-alive connections close after this."
    )
    max_connections_per_client: int = Field(
        default=64, ge=1, le=100_000, description="Open connections allowed from one address."
    )
    drain_seconds: float = Field(
        default=30,
        ge=0,
        le=3600,
        description="At a stop (SIGTERM), the longest wait for the requests in progress, after "
        "new connections are refused.",
    )
    db_pool_min: int = Field(default=2, ge=1, le=1000, description="Smallest database pool size.")
    db_pool_max: int = Field(
        default=10,
        ge=4,
        le=1000,
        description="Largest database pool size (at least 4: two pooled connections listen for "
        "the sources' and the console's changes).",
    )
    log_level: str = Field(default="INFO", description="Logging level.")
    offer_seconds: int = Field(
        default=90, ge=10, le=3600, description="How long an offer stands before it lapses."
    )
    sla_top_share: float = Field(
        default=0.8, gt=0, le=1, description="Past this share of its SLA a task goes to the top."
    )
    fit_margin: float = Field(
        default=1.2, ge=1, le=5, description="Expected handle time times this must fit a window."
    )
    tick_seconds: float = Field(
        default=5, ge=0.5, le=300, description="How often the elected instance runs the timers."
    )
    retention_days: int = Field(
        default=90,
        ge=1,
        le=36500,
        description="Raw feed events, Slack delivery ids and sent Slack messages older than "
        "this are deleted (feed events by whole months); statistics, timelines and audits are "
        "kept.",
    )
    task_events_retention_days: int | None = Field(
        default=None,
        ge=1,
        le=36500,
        description="Task events (timelines) of months wholly older than this are dropped; "
        "unset keeps them.",
    )
    nudge_factor: float = Field(
        default=1.5, ge=1, le=100, description="Work past its handle time times this is nudged."
    )
    escalate_factor: float = Field(
        default=3, ge=1, le=100, description="... and past this, escalated automatically."
    )
    escalation_answer_minutes: float = Field(
        default=60,
        ge=1,
        le=10_080,
        description="How soon supervisors are assumed to answer an escalation, for its ETA.",
    )
    eta_watch_ticks: int = Field(
        default=12,
        ge=1,
        le=10_000,
        description="Every this many ticks, tasks whose ETA passes their due time are sought.",
    )
    eta_watch_hours: float = Field(
        default=24, gt=0, le=168, description="Only tasks due within this many hours are examined."
    )
    eta_watch_batch: int = Field(
        default=200,
        ge=1,
        le=100_000,
        description="Queued tasks of each type and step (least slack first) examined a run.",
    )
    paused_return_minutes: float = Field(
        default=60,
        ge=1,
        le=10_080,
        description="Paused work not resumed for this long goes back to the queue.",
    )
    max_tasks_per_agent: int = Field(
        default=1,
        ge=1,
        le=20,
        description="How much work (an open offer, tasks in progress or paused) an agent holds.",
    )
    skip_cooldown_minutes: float = Field(
        default=240, ge=0, le=10_080, description="A skipped task is not re-offered for this long."
    )
    blending_policy: PolicyName = Field(
        default="forecast_guard", description="Who is lent to the back office, and when."
    )
    reserve_k: int = Field(
        default=2, ge=0, le=10_000, description="reserve_k: idle agents kept for calls per group."
    )
    blending_bound: Bound = Field(
        default="hi_80", description="The forecast figure the calls are staffed for."
    )
    safety_margin: int | None = Field(
        default=None,
        ge=0,
        le=1000,
        description="Agents kept beyond the forecast need (default 1; 0 with the guard).",
    )
    interruptible_extra: int = Field(
        default=1,
        ge=0,
        le=1000,
        description="Agents lent beyond the forecast's surplus in a staffing group in "
        "interruptible mode, where a call pauses lent work at once.",
    )
    live_extra: int = Field(
        default=1,
        ge=0,
        le=1000,
        description="forecast_guard: agents lent beyond the forecast's surplus while no call "
        "waits and more agents are idle than the calls of the next minute need (0: off).",
    )
    live_idle_keep: int = Field(
        default=0,
        ge=0,
        le=10_000,
        description="Idle agents kept for calls at least before one more is lent on the live "
        "queue (the threshold itself with BLENDBOT_LIVE_COVER_SECONDS=0).",
    )
    live_cover_seconds: float = Field(
        default=60,
        ge=0,
        le=3600,
        description="The idle agents kept cover the calls forecast to arrive in this many "
        "seconds, the time a lent agent takes to come back (0: a fixed "
        "BLENDBOT_LIVE_IDLE_KEEP).",
    )
    live_cover_share: float = Field(
        default=0.9,
        gt=0,
        lt=1,
        description="How surely the idle agents kept cover those calls (a Poisson quantile).",
    )
    live_minutes: float = Field(
        default=20, ge=1, le=480, description="The longest chunk lent on the live queue."
    )
    live_recall_waiting: int = Field(
        default=1,
        ge=0,
        le=10_000,
        description="Calls waiting at which agents lent beyond the forecast's surplus are "
        "called back (0: only the guard recalls).",
    )
    live_recall_share: float = Field(
        default=0.5,
        ge=0,
        lt=1,
        description="Agents lent beyond the forecast's surplus are called back once fewer are "
        "idle than cover the next calls with this probability, before a call waits (0: off).",
    )
    min_window_minutes: float = Field(
        default=10, ge=1, le=480, description="A shorter chunk of time is not lent."
    )
    max_window_minutes: float = Field(
        default=120, ge=5, le=1440, description="The longest chunk of time lent at once."
    )
    guard_hold_waiting: int = Field(
        default=2, ge=1, le=10_000, description="Calls waiting at which new offers stop."
    )
    guard_recall_waiting: int = Field(
        default=4, ge=1, le=10_000, description="Calls waiting at which lent agents are recalled."
    )
    guard_recall_wait_seconds: float | None = Field(
        default=None,
        gt=0,
        le=3600,
        description="Longest wait at which lent agents are recalled (default: the SL seconds).",
    )
    guard_recall_service_level: float = Field(
        default=0.6, ge=0, le=1, description="Recent service level below which agents recalled."
    )
    guard_calm_seconds: float = Field(
        default=180, ge=0, le=3600, description="Calm this long before lending resumes."
    )
    slack_bot_token: str | None = Field(
        default=None,
        validation_alias=AliasChoices("SLACK_BOT_TOKEN"),
        description="The Slack app's bot token (xoxb-...); Slack is off without it.",
    )
    slack_signing_secret: str | None = Field(
        default=None,
        validation_alias=AliasChoices("SLACK_SIGNING_SECRET"),
        description="Checks that requests to /slack/events come from Slack.",
    )
    slack_app_token: str | None = Field(
        default=None,
        validation_alias=AliasChoices("SLACK_APP_TOKEN"),
        description="An app-level token (xapp-...) turns on Socket Mode.",
    )
    slack_api_url: str = Field(
        default="https://slack.com/api/", description="Base URL of Slack's Web API."
    )
    supervisor_channel: str | None = Field(
        default=None, description="Channel id where escalations are posted."
    )
    supervisors: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Comma-separated Slack user ids of supervisors."
    )
    supervisor_group: str | None = Field(
        default=None, description="Slack user group id whose members are supervisors."
    )
    public_url: str | None = Field(
        default=None,
        description="The URL clients use to reach this service (Twilio signs requests to it).",
    )
    console_secret: str | None = Field(
        default=None,
        min_length=32,
        description="Encrypts the console's session cookies (at least 32 characters; the same "
        "on every instance). Unset: one is made and kept in the data directory.",
    )
    console_session_hours: float = Field(
        default=12, gt=0, le=24 * 30, description="How long a console sign-in lasts."
    )
    slack_client_id: str | None = Field(
        default=None,
        validation_alias=AliasChoices("SLACK_CLIENT_ID"),
        description="The Slack app's client id: turns on Sign in with Slack for the console.",
    )
    slack_client_secret: str | None = Field(
        default=None,
        validation_alias=AliasChoices("SLACK_CLIENT_SECRET"),
        description="The Slack app's client secret, for Sign in with Slack.",
    )
    slack_authorize_url: str = Field(
        default="https://slack.com/openid/connect/authorize",
        description="Where Sign in with Slack sends people to approve (its token and user "
        "info methods are on the Web API's base URL).",
    )
    slack_team_id: str | None = Field(
        default=None,
        description="The Slack workspace (T...) whose people may sign in to the console; "
        "unset: any workspace, roles still decide.",
    )
    firehose_access_key: str | None = Field(
        default=None, description="Access key Amazon Kinesis Data Firehose sends with records."
    )
    twilio_auth_token: str | None = Field(
        default=None,
        description="Twilio auth token: checks X-Twilio-Signature, and authenticates the "
        "TaskRouter control client.",
    )
    twilio_account_sid: str | None = Field(
        default=None, description="Twilio account SID (AC...), for the TaskRouter control client."
    )
    twilio_workspace_sid: str | None = Field(
        default=None, description="TaskRouter workspace SID (WS...); Twilio control is off without."
    )
    twilio_backoffice_activity_sid: str | None = Field(
        default=None, description="SID (WA...) of the TaskRouter activity lent agents are put in."
    )
    twilio_available_activity_sid: str | None = Field(
        default=None, description="SID (WA...) of the activity recalled agents are put back in."
    )
    twilio_api_url: str = Field(
        default="https://taskrouter.twilio.com", description="Base URL of Twilio TaskRouter's API."
    )
    connect_region: str | None = Field(
        default=None, description="AWS region of the Amazon Connect instance, e.g. eu-west-2."
    )
    connect_instance_id: str | None = Field(
        default=None, description="Amazon Connect instance id; Connect control is off without."
    )
    connect_backoffice_status_id: str | None = Field(
        default=None, description="Id of the custom agent status lent agents are put in."
    )
    connect_available_status_id: str | None = Field(
        default=None, description="Id of the routable agent status recalled agents are put in."
    )
    connect_api_url: str | None = Field(
        default=None,
        description="Amazon Connect API (default: https://connect.<region>.amazonaws.com).",
    )
    connect_requests_per_second: float = Field(
        default=2, gt=0, le=1000, description="The account's Connect API rate, shared by callers."
    )
    connect_burst: int = Field(
        default=5, ge=1, le=10_000, description="The account's Connect API burst."
    )
    ami_host: str | None = Field(default=None, description="Asterisk AMI host; AMI is off without.")
    ami_port: int = Field(default=5038, ge=1, le=65535, description="Asterisk AMI port.")
    ami_username: str | None = Field(default=None, description="AMI manager user.")
    ami_secret: str | None = Field(default=None, description="AMI manager secret.")
    ami_pause_reason: str = Field(
        default="back office",
        min_length=1,
        description="Reason of the QueuePause that lends an agent (read back as back office).",
    )
    ami_pause_queue: str | None = Field(
        default=None, description="Queue to pause lent agents in (default: all their queues)."
    )
    genesys_api_url: str | None = Field(
        default=None, description="Genesys Cloud API, e.g. https://api.mypurecloud.de; off without."
    )
    genesys_login_url: str | None = Field(
        default=None, description="Genesys Cloud login, e.g. https://login.mypurecloud.de."
    )
    genesys_client_id: str | None = Field(default=None, description="OAuth client id.")
    genesys_client_secret: str | None = Field(default=None, description="OAuth client secret.")
    genesys_user_ids: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Comma-separated Genesys user ids to follow."
    )
    genesys_queue_ids: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Comma-separated Genesys queue ids to follow."
    )
    genesys_backoffice_presence: str = Field(
        default="Back office",
        min_length=1,
        description="Name (or id) of the secondary Busy presence lent agents are put in.",
    )
    genesys_available_presence: str = Field(
        default="On Queue",
        min_length=1,
        description="Name (or id) of the presence recalled agents are put back in.",
    )
    genesys_requests_per_minute: int = Field(
        default=300,
        ge=1,
        le=100_000,
        description="Genesys API requests allowed per token a minute.",
    )
    acd_mode: Mode = Field(
        default="advisory",
        description="What blendbot does in the phone system: advisory (Slack only), control "
        "(sets lent agents not routable, and back), interruptible (a call pauses their task).",
    )
    acd_modes: Annotated[dict[str, Mode], NoDecode] = Field(
        default_factory=dict,
        description="Per staffing group, in place of BLENDBOT_ACD_MODE: group:mode,group:mode "
        "(e.g. retail:control,loans:advisory; agents with no queue: `all queues`).",
    )
    acd_confirm_seconds: float = Field(
        default=30, ge=1, le=3600, description="A state command must show in the feed within this."
    )
    acd_confirm_tries: int = Field(
        default=3, ge=1, le=20, description="Sends of an unconfirmed command before it fails."
    )
    acd_ghost_seconds: float = Field(
        default=120,
        ge=10,
        le=86_400,
        description="An agent in the back-office status with no back-office work this long is "
        "put back to available.",
    )
    acd_webhook_url: str | None = Field(
        default=None,
        description="Control any other platform: state commands are POSTed here, signed.",
    )
    acd_webhook_secret: str | None = Field(
        default=None,
        description="Signs the webhook's bodies: HMAC-SHA256 in X-Blendbot-Signature.",
    )
    roster_sync_hour: int = Field(
        default=3,
        ge=0,
        le=23,
        description="Hour of the day after which the elected instance runs the daily roster "
        "sync (when a platform's users or Slack can be read): each site's agents at this hour "
        "on the site's clock, the agents in no site on BLENDBOT_TIMEZONE's.",
    )
    imap_poll: bool = Field(
        default=True,
        description="Read the shared mailboxes (task sources of kind imap) from this instance.",
    )
    imap_poll_seconds: float = Field(
        default=60,
        ge=1,
        le=3600,
        description="Between looks at a mailbox whose server has no IDLE.",
    )
    imap_idle_seconds: float = Field(
        default=1500, ge=10, le=1740, description="IDLE is re-issued this often (at most 29 min)."
    )
    imap_backoff_seconds: float = Field(
        default=300, ge=1, le=3600, description="The longest pause before reconnecting a mailbox."
    )
    timezone: str = Field(
        default="UTC",
        description="The default site's time zone, e.g. Europe/Amsterdam: the clock of every "
        "agent and queue in no site (all of them when no site is configured).",
    )
    target_service_level: float = Field(
        default=0.8, gt=0, lt=1, description="Share of calls to answer within the target time."
    )
    max_occupancy: float = Field(
        default=0.9, gt=0, le=1, description="Highest share of time agents may be on calls."
    )
    forecast_minutes: float = Field(
        default=15, ge=1, le=1440, description="Forecasts are refreshed at least this often."
    )
    forecast_model: Literal["mstl_theta", "mstl_ets", "ensemble", "seasonal_naive"] = Field(
        default="mstl_theta", description="The forecasting model (see blendbot backtest)."
    )
    forecast_cluster: str | None = Field(
        default=None,
        description="A Dask scheduler the forecast fits are sent to, e.g. "
        "dask://scheduler:8786 (ray:// is not supported yet); unset: fitted on the elected "
        "instance.",
    )
    interval_minutes: int = Field(
        default=15, description="Length of the statistics interval (5, 6, 10, 15, 30 or 60)."
    )
    service_level_seconds: int = Field(
        default=20, ge=1, le=3600, description="Answered within this many seconds counts as in SLA."
    )
    plan_days: int = Field(
        default=14, ge=1, le=60, description="Days ahead the back-office plan covers."
    )
    backoffice_teams: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["back office", "backoffice"],
        description="Teams (comma-separated) whose agents are dedicated back-office staff.",
    )

    @field_validator("interval_minutes")
    @classmethod
    def _divides_the_hour(cls, value: int) -> int:
        if value not in (5, 6, 10, 15, 30, 60):
            raise ValueError("must be one of 5, 6, 10, 15, 30, 60")
        return value

    @field_validator("forecast_cluster")
    @classmethod
    def _cluster_url(cls, value: str | None) -> str | None:
        if value is not None:
            scheduler_address(value)
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("is not a time zone name, e.g. Europe/Amsterdam") from None
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _slash_ended(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an absolute http(s) URL")
        return value if value.endswith("/") else value + "/"

    @field_validator("acd_modes", mode="before")
    @classmethod
    def _modes(cls, value: object) -> object:
        if isinstance(value, str):
            return parse_modes(value)
        return value

    @field_validator("acd_webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an absolute http(s) URL")
        return value

    @field_validator("acd_webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: str | None, info: object) -> str | None:
        if value is not None and len(value) < 16:
            raise ValueError("must be at least 16 characters long")
        return value

    @field_validator("public_url", "connect_api_url", "twilio_api_url", "slack_authorize_url")
    @classmethod
    def _absolute_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an absolute http(s) URL")
        return value.rstrip("/") if value else value

    @field_validator(
        "api_tokens",
        "supervisors",
        "genesys_user_ids",
        "genesys_queue_ids",
        "backoffice_teams",
        mode="before",
    )
    @classmethod
    def _split_tokens(cls, value: object) -> object:
        if isinstance(value, str):
            return [token.strip() for token in value.split(",") if token.strip()]
        return value

    @field_validator("api_tokens")
    @classmethod
    def _tokens_long_enough(cls, value: list[str]) -> list[str]:
        short = [t for t in value if len(t) < 16]
        if short:
            raise ValueError("every API token must be at least 16 characters long")
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    @field_validator("db_pool_max")
    @classmethod
    def _max_not_below_min(cls, value: int, info: object) -> int:
        data = getattr(info, "data", {})
        if value < data.get("db_pool_min", 1):
            raise ValueError("must not be smaller than BLENDBOT_DB_POOL_MIN")
        return value

    @field_validator("guard_recall_waiting")
    @classmethod
    def _recall_not_below_hold(cls, value: int, info: object) -> int:
        data = getattr(info, "data", {})
        if value < data.get("guard_hold_waiting", 1):
            raise ValueError("must not be smaller than BLENDBOT_GUARD_HOLD_WAITING")
        return value


class SettingsError(ServiceError):
    """A setting has a wrong value; the message names the variable."""


def env_name(field: str) -> str:
    """The environment variable that sets ``field``."""
    info = Settings.model_fields[field]
    alias = info.validation_alias
    if isinstance(alias, AliasChoices):
        return str(alias.choices[0])
    return f"BLENDBOT_{field.upper()}"


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning a validation error into one line per wrong setting."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else "?"
            name = env_name(field) if field in Settings.model_fields else field
            given = error.get("input")
            shown = f" (got {given!r})" if isinstance(given, str | int | float) else ""
            lines.append(f"{name}: {error['msg']}{shown}")
        raise SettingsError("; ".join(lines)) from None

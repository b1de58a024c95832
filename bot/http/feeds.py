"""Telephony feeds: the vendors' push endpoints under ``/feeds``, and the presence, schedule
and queue statistics API under ``/api/v1``.

Each push endpoint answers in its vendor's own terms: Firehose gets its JSON response with
the request id, Twilio a 204, the generic feed our JSON error body. A body that cannot be read
at all (not JSON within the bounds, not a list, an unreadable Firehose envelope) is refused
whole (400, with the reason) and writes nothing. A record in it that cannot be used is set
aside alone, with the reason (``telephony_rejected``, ``GET /api/v1/feeds/rejected``), and
counted; the records beside it are stored.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from pydantic import (
    BaseModel,
    Field,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from blending.errors import UnknownAgent
from blending.events import Parsed, Rejected, Source
from blending.interval_stats import IntervalOut, QueueOut
from blending.presence import DEFAULT_HEARTBEAT_SECONDS, PresenceList, Schedule, ScheduleEntry
from blending.telemetry_store import Recorded, TelemetryStore
from bot.http.auth import bearer_ok, same_secret
from bot.http.errors import ApiError, ErrorOut, from_validation
from bot.http.keys import CLOCK, METRICS, STORES
from bot.http.operations import (
    Handler,
    Operation,
    PathParam,
    json_response,
    path_param,
    read_body,
    read_query,
)
from queues.bounds import Instant, MalformedJson, loads, printable
from telephony_adapters import amazon_connect, asterisk, generic, genesys, twilio
from telephony_adapters.ami_client import AmiClient
from telephony_adapters.errors import MalformedPayload
from telephony_adapters.genesys_client import (
    GenesysClient,
    client_credentials,
    queue_topics,
    user_topics,
)
from telephony_adapters.genesys_control import learn
from telephony_adapters.marks import StateMarks

log = logging.getLogger(__name__)

FIREHOSE_KEY_HEADER = "X-Amz-Firehose-Access-Key"
FIREHOSE_REQUEST_HEADER = "X-Amz-Firehose-Request-Id"
TWILIO_SIGNATURE_HEADER = "X-Twilio-Signature"


@dataclass(frozen=True)
class FeedConfig:
    """What the feeds need from the settings."""

    public_url: str | None = None
    firehose_access_key: str | None = None
    twilio_auth_token: str | None = None
    interval_minutes: int = 15
    service_level_seconds: float = 20
    heartbeats: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_HEARTBEAT_SECONDS))
    marks: Mapping[str, StateMarks] = field(default_factory=dict)
    """Per source, the statuses blendbot sets, read back as back office and available."""


FEEDS = web.AppKey("feeds", FeedConfig)


def telemetry(app: web.Application) -> TelemetryStore:
    return app[STORES].telemetry


class RejectedItem(BaseModel):
    where: str = Field(description="Its place in the request, e.g. `event 3`.")
    reason: str


class FeedResult(BaseModel):
    accepted: int = Field(description="Events new to the service.")
    duplicates: int = Field(description="Events already received: a retry changes nothing.")
    ignored: dict[str, int] = Field(description="Event types this service does not use.")
    rejected: list[RejectedItem] = Field(
        description="Events that cannot be used, each with the reason: set aside, while the "
        "others are stored."
    )


async def _record(
    request: web.Request, source: str, parsed: Parsed, delivery: str | None = None
) -> Recorded:
    """Store a delivery and count the records set aside."""
    recorded = await telemetry(request.app).record(
        source, parsed, request.app[CLOCK].now(), delivery=delivery
    )
    if recorded.rejected:
        request.app[METRICS].feed_rejected.labels(source).inc(len(recorded.rejected))
        log.info(
            "%s: %d record(s) set aside, e.g. %s: %s",
            source,
            len(recorded.rejected),
            recorded.rejected[0].where,
            printable(recorded.rejected[0].reason, 200),
        )
    return recorded


def _result(recorded: Recorded) -> FeedResult:
    return FeedResult(
        accepted=recorded.new,
        duplicates=recorded.duplicates,
        ignored=recorded.ignored,
        rejected=[RejectedItem(where=r.where, reason=r.reason) for r in recorded.rejected],
    )


def _require_bearer(request: web.Request) -> None:
    if not bearer_ok(request):
        raise ApiError(401, "unauthorized", "missing or wrong bearer token")


async def generic_events(request: web.Request) -> web.Response:
    _require_bearer(request)
    body = await request.read()
    try:
        parsed = generic.parse(body)
    except MalformedPayload as exc:
        raise ApiError(400, "malformed", str(exc)) from None
    return json_response(_result(await _record(request, "generic", parsed)))


async def relayed_events(request: web.Request) -> web.Response:
    """Genesys notifications or AMI events relayed as a JSON list (replay, or a relay that
    forwards a site's websocket or AMI stream), read by the same adapters as the clients.
    A message that cannot be read is set aside alone; the others are stored."""
    _require_bearer(request)
    source = request.match_info["source"]
    marks = request.app[FEEDS].marks.get(source)
    now = request.app[CLOCK].now()
    try:
        messages = loads(await request.read())
    except MalformedJson as exc:
        raise ApiError(400, "malformed", f"body is not JSON: {exc.detail}") from None
    if not isinstance(messages, list):
        raise ApiError(400, "malformed", "body must be a JSON list of messages")
    if len(messages) > generic.MAX_EVENTS:
        raise ApiError(400, "malformed", f"at most {generic.MAX_EVENTS} messages per request")
    parsed = Parsed()
    for index, message in enumerate(messages):
        try:
            if source == "genesys":
                parsed.extend(genesys.parse(message, now, marks))
            elif isinstance(message, dict) and all(isinstance(v, str) for v in message.values()):
                parsed.extend(asterisk.parse(message, now, marks))
            else:
                raise MalformedPayload("asterisk", "an AMI event is an object of strings")
        except MalformedPayload as exc:
            record = json.dumps(message).encode()
            parsed.rejected.append(Rejected(f"message {index}", exc.reason, record))
    return json_response(_result(await _record(request, source, parsed)))


def _firehose_reply(
    request: web.Request, status: int, request_id: str, message: str | None = None
) -> web.Response:
    at = request.app[CLOCK].now()
    body: dict[str, Any] = {"requestId": request_id, "timestamp": int(at.timestamp() * 1000)}
    if message is not None:
        body["errorMessage"] = message
    return web.Response(status=status, text=json.dumps(body), content_type="application/json")


async def amazon_connect_firehose(request: web.Request) -> web.Response:
    """Firehose's HTTP endpoint delivery: a 200 with the request id means delivered; anything
    else makes Firehose retry the whole request, then back its records up. So a request is
    refused (400) only when its envelope cannot be read; a record that cannot be used is set
    aside with the reason and counted, and the others are stored (200)."""
    config = request.app[FEEDS]
    request_id = printable(request.headers.get(FIREHOSE_REQUEST_HEADER, ""), 200)
    given = request.headers.get(FIREHOSE_KEY_HEADER, "")
    if config.firehose_access_key is None:
        return _firehose_reply(
            request, 401, request_id, "no access key is configured for this endpoint"
        )
    if not same_secret(given, config.firehose_access_key):
        return _firehose_reply(
            request, 401, request_id, "wrong or missing X-Amz-Firehose-Access-Key"
        )
    try:
        envelope, parsed = amazon_connect.parse_firehose(
            await request.read(), config.marks.get("amazon_connect")
        )
    except MalformedPayload as exc:
        return _firehose_reply(request, 400, request_id, str(exc))
    request_id = envelope.request_id
    try:
        await _record(request, "amazon_connect", parsed, request_id)
    except Exception:
        log.exception("Firehose request %s could not be stored", printable(request_id, 200))
        return _firehose_reply(request, 500, request_id, "could not store the records; retry")
    return _firehose_reply(request, 200, request_id)


def _twilio_url(config: FeedConfig, request: web.Request) -> str:
    assert config.public_url is not None
    return f"{config.public_url}{request.path_qs}"


async def twilio_taskrouter(request: web.Request) -> web.Response:
    config = request.app[FEEDS]
    if config.twilio_auth_token is None or config.public_url is None:
        raise ApiError(
            403,
            "forbidden",
            "set BLENDBOT_TWILIO_AUTH_TOKEN and BLENDBOT_PUBLIC_URL to accept Twilio callbacks",
        )
    form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
    signature = request.headers.get(TWILIO_SIGNATURE_HEADER, "")
    if not twilio.valid_signature(
        config.twilio_auth_token, _twilio_url(config, request), form, signature
    ):
        raise ApiError(403, "forbidden", "X-Twilio-Signature does not match this request")
    try:
        parsed = twilio.parse(form, config.marks.get("twilio"))
    except MalformedPayload as exc:
        # One callback is one record: it is set aside, and Twilio told why.
        record = urlencode(form).encode()
        await _record(
            request, "twilio", Parsed(rejected=[Rejected("callback", exc.reason, record)])
        )
        raise ApiError(400, "malformed", str(exc)) from None
    await _record(request, "twilio", parsed)
    return web.Response(status=204, content_type="application/json")


class PresenceQuery(BaseModel):
    agent_id: list[Annotated[str, Field(min_length=1, max_length=128)]] | None = Field(
        default=None, description="Comma-separated agent ids; all agents when absent."
    )


class ScheduleOut(BaseModel):
    agent_id: str
    items: list[ScheduleEntry]


class QueueList(BaseModel):
    items: list[QueueOut]


class IntervalQuery(BaseModel):
    start: Instant | None = Field(
        default=None, alias="from", description="First interval (default: today, UTC)."
    )
    end: Instant | None = Field(
        default=None,
        alias="to",
        description="End, exclusive (default: a day after `from`): after `from`, at most 92 "
        "days later.",
    )

    @model_validator(mode="after")
    def _ordered(self) -> IntervalQuery:
        if self.start and self.end and self.end <= self.start:
            raise ValueError("to must be after from")
        if self.start and self.end and self.end - self.start > timedelta(days=92):
            raise ValueError("at most 92 days at a time")
        return self


class IntervalList(BaseModel):
    queue: str
    items: list[IntervalOut]


AGENT_ID = PathParam(
    "agent_id",
    TypeAdapter(Annotated[str, Field(pattern=r"^[A-Za-z0-9._@-]{1,100}$")]),
    "The agent's id in your roster.",
)
QUEUE = PathParam(
    "queue",
    TypeAdapter(Annotated[str, Field(min_length=1, max_length=512)]),
    "The queue as its source names it (Amazon Connect: the queue id; Twilio: TaskQueueSid).",
)


async def get_presence(request: web.Request) -> web.Response:
    query = read_query(request, PresenceQuery, lists=("agent_id",))
    now = request.app[CLOCK].now()
    found: PresenceList = await telemetry(request.app).presence(now, query.agent_id)
    return json_response(found)


async def put_schedule(request: web.Request) -> web.Response:
    agent_id = path_param(request, AGENT_ID)
    body = await read_body(request, Schedule)
    default_zone = request.app[STORES].sites.default_zone.key
    try:
        items = await telemetry(request.app).put_schedule(agent_id, body, default_zone)
    except UnknownAgent as exc:
        raise ApiError(404, "not_found", str(exc)) from None
    except ValidationError as exc:
        raise from_validation(exc) from None
    return json_response(ScheduleOut(agent_id=agent_id, items=items))


async def list_queues(request: web.Request) -> web.Response:
    now = request.app[CLOCK].now()
    return json_response(QueueList(items=await telemetry(request.app).queues(now)))


async def queue_intervals(request: web.Request) -> web.Response:
    queue = path_param(request, QUEUE)
    query = read_query(request, IntervalQuery)
    now = request.app[CLOCK].now()
    start = query.start or now.replace(hour=0, minute=0, second=0, microsecond=0)
    end = query.end or start + timedelta(days=1)
    if end <= start:
        raise ApiError(422, "invalid", "invalid request: to must be after from")
    items = await telemetry(request.app).intervals(queue, start, end)
    return json_response(IntervalList(queue=queue, items=items))


class RejectedQuery(BaseModel):
    model_config = {"extra": "forbid"}
    source: Source | None = Field(default=None, description="One source; all when absent.")
    limit: int = Field(default=50, ge=1, le=500)


class RejectedRecord(BaseModel):
    source: str
    reason: str = Field(description="Where in its delivery, and why it cannot be used.")
    record: str = Field(description="The record as received (bytes not UTF-8: escaped).")
    delivery: str | None = Field(description="The delivery it came in (Firehose's request id).")
    first_at: datetime
    last_at: datetime
    times: int = Field(description="How many times it was delivered.")


class RejectedList(BaseModel):
    items: list[RejectedRecord]


async def list_rejected(request: web.Request) -> web.Response:
    query = read_query(request, RejectedQuery)
    found = await telemetry(request.app).rejected(query.source, query.limit)
    items = [
        RejectedRecord(
            source=r.source,
            reason=r.reason,
            record=r.record.decode("utf-8", "backslashreplace"),
            delivery=r.delivery,
            first_at=r.first_at,
            last_at=r.last_at,
            times=r.times,
        )
        for r in found
    ]
    return json_response(RejectedList(items=items))


_ERRORS: dict[int, type[BaseModel] | None] = {401: ErrorOut, 422: ErrorOut}

FEED_OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "GET",
        "/api/v1/presence",
        get_presence,
        "Every agent's current state",
        "presence",
        query=PresenceQuery,
        responses={200: PresenceList, **_ERRORS},
        description="State is one of offline, available, on_call, after_call_work, break, "
        "back_office, unknown. An agent whose telephony source has gone silent past its "
        "heartbeat is unknown, never available. `unmatched` lists telephony ids that no agent "
        "has yet: their state applies as soon as an agent gets that id.",
    ),
    Operation(
        "PUT",
        "/api/v1/agents/{agent_id}/schedule",
        put_schedule,
        "Replace an agent's shifts and breaks over a span",
        "presence",
        body=Schedule,
        params=(AGENT_ID,),
        responses={200: ScheduleOut, 400: ErrorOut, 404: ErrorOut, **_ERRORS},
        description="Every entry overlapping [start, end) is replaced by the given items; "
        "start and end default to the items' span. Times written without an offset "
        "(`2026-03-29T09:00:00`) are read on the agent's site clock (`PUT "
        "/api/v1/agents/{agent_id}/site`; no site: `BLENDBOT_TIMEZONE`), so a 09:00-17:00 "
        "shift is 09:00-17:00 there whatever the date's offset; the answer gives the instants.",
    ),
    Operation(
        "GET",
        "/api/v1/queues",
        list_queues,
        "Every queue, live: calls waiting, longest wait, agents",
        "queues",
        responses={200: QueueList, 401: ErrorOut},
    ),
    Operation(
        "GET",
        "/api/v1/queues/{queue}/intervals",
        queue_intervals,
        "A queue's interval statistics",
        "queues",
        query=IntervalQuery,
        params=(QUEUE,),
        responses={200: IntervalList, **_ERRORS},
        description="Offered, answered, abandoned, average handle time, average speed of "
        "answer and service level per interval, current to the last event received.",
    ),
    Operation(
        "GET",
        "/api/v1/feeds/rejected",
        list_rejected,
        "Telephony records set aside, the latest first",
        "feeds",
        query=RejectedQuery,
        responses={200: RejectedList, **_ERRORS},
        description="A record a feed delivered that cannot be used (not JSON, a time outside "
        "1970 to 2100, text the database cannot hold, a shape the adapter does not know) is set "
        "aside with the reason, once however often it is delivered, while the records beside "
        "it are stored; `blendbot_feed_records_rejected_total` counts them.",
    ),
)


def register_feeds(app: web.Application, config: FeedConfig, *, api_routes: bool = True) -> None:
    """Set the feeds' configuration and add their routes (the ``/feeds`` endpoints and, with
    ``api_routes``, the ``/api/v1`` ones); a route the app already has is left as it is, so
    calling this again only replaces the configuration."""
    app[FEEDS] = config
    routes: list[tuple[str, str, Handler]] = [
        ("POST", "/feeds/generic/events", generic_events),
        ("POST", "/feeds/amazon-connect/firehose", amazon_connect_firehose),
        ("POST", "/feeds/twilio/taskrouter", twilio_taskrouter),
        ("POST", r"/feeds/{source:genesys|asterisk}/events", relayed_events),
    ]
    if api_routes:
        routes += [(op.method, op.path, op.handler) for op in FEED_OPERATIONS]
    present = {
        (route.method, route.resource.canonical)
        for route in app.router.routes()
        if route.resource is not None
    }
    for method, path, handler in routes:
        canonical = re.sub(r"\{(\w+):[^}]*\}", r"{\1}", path)
        if (method, canonical) not in present:
            app.router.add_route(method, path, handler)


async def record(app: web.Application, source: str, parsed: Parsed) -> Recorded:
    """A sink for the websocket and TCP clients: what they receive goes where pushes go."""
    return await telemetry(app).record(source, parsed, app[CLOCK].now())


@dataclass(frozen=True)
class AmiConfig:
    host: str
    port: int
    username: str
    secret: str


@dataclass(frozen=True)
class GenesysConfig:
    api_url: str
    login_url: str
    client_id: str
    client_secret: str
    user_ids: tuple[str, ...] = ()
    queue_ids: tuple[str, ...] = ()
    backoffice_presence: str | None = None
    """The presence blendbot lends agents in, by name; its id is looked up at start."""
    available_presence: str = "On Queue"


def feed_clients(
    *, ami: AmiConfig | None = None, genesys_cloud: GenesysConfig | None = None
) -> Callable[[web.Application], AsyncIterator[None]]:
    """A ``cleanup_ctx`` that runs the AMI and Genesys clients while the app runs, writing what
    they receive where pushes go: ``app.cleanup_ctx.append(feed_clients(ami=...))``."""

    async def context(app: web.Application) -> AsyncIterator[None]:
        tasks: list[asyncio.Task[Any]] = []
        ami_client: AmiClient | None = None
        session = aiohttp.ClientSession()
        store = telemetry(app)
        marks = app[FEEDS].marks if FEEDS in app else {}

        def sink_for(source: str) -> Callable[[Parsed], Awaitable[Recorded]]:
            async def sink(parsed: Parsed) -> Recorded:
                return await store.record(source, parsed, app[CLOCK].now())

            return sink

        def alive_for(source: str) -> Callable[[datetime], Awaitable[None]]:
            async def alive(at: datetime) -> None:
                await store.touch(source, at)

            return alive

        if ami is not None:
            ami_client = AmiClient(
                sink_for("asterisk"),
                host=ami.host,
                port=ami.port,
                username=ami.username,
                secret=ami.secret,
                clock=app[CLOCK],
                alive=alive_for("asterisk"),
                marks=marks.get("asterisk"),
            )
            await ami_client.start()
        if genesys_cloud is not None:
            config = genesys_cloud

            async def token() -> str:
                return await client_credentials(
                    session, config.login_url, config.client_id, config.client_secret
                )

            client = GenesysClient(
                sink_for("genesys"),
                session,
                api_url=config.api_url,
                token=token,
                topics=user_topics(config.user_ids) + queue_topics(config.queue_ids),
                queue_ids=config.queue_ids,
                clock=app[CLOCK],
                alive=alive_for("genesys"),
                marks=marks.get("genesys"),
            )
            tasks.append(asyncio.create_task(client.run()))
            presences = marks.get("genesys")
            if config.backoffice_presence and presences is not None:
                tasks.append(
                    asyncio.create_task(
                        learn(
                            session,
                            config.api_url,
                            token,
                            config.backoffice_presence,
                            config.available_presence,
                            presences,
                        )
                    )
                )
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if ami_client is not None:
                await ami_client.close()
            await session.close()

    return context

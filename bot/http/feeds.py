"""Telephony feeds: the vendors' push endpoints under ``/feeds``, and the presence, schedule
and queue statistics API under ``/api/v1``.

Each push endpoint answers in its vendor's own terms: Firehose gets its JSON response with
the request id, Twilio a 204, the generic feed our JSON error body. A payload that cannot be
read is refused whole (400, with the reason) and writes nothing.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Any

import aiohttp
from aiohttp import web
from pydantic import (
    AwareDatetime,
    BaseModel,
    Field,
    TypeAdapter,
    model_validator,
)

from blending.errors import UnknownAgent
from blending.events import Parsed
from blending.interval_stats import IntervalOut, QueueOut
from blending.presence import DEFAULT_HEARTBEAT_SECONDS, PresenceList, Schedule, ScheduleEntry
from blending.telemetry_store import Recorded, TelemetryStore
from bot.http.errors import ApiError, ErrorOut
from bot.http.keys import CLOCK, STORES, TOKENS
from bot.http.operations import (
    Handler,
    Operation,
    PathParam,
    json_response,
    path_param,
    read_body,
    read_query,
)
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


class FeedResult(BaseModel):
    accepted: int = Field(description="Events new to the service.")
    duplicates: int = Field(description="Events already received: a retry changes nothing.")
    ignored: dict[str, int] = Field(description="Event types this service does not use.")


def _result(recorded: Recorded) -> FeedResult:
    return FeedResult(
        accepted=recorded.new, duplicates=recorded.duplicates, ignored=recorded.ignored
    )


def _bearer_ok(request: web.Request) -> bool:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and any(
        hmac.compare_digest(token.strip().encode(), t.encode()) for t in request.app[TOKENS]
    )


async def generic_events(request: web.Request) -> web.Response:
    if not _bearer_ok(request):
        raise ApiError(401, "unauthorized", "missing or wrong bearer token")
    body = await request.read()
    try:
        parsed = generic.parse(body)
    except MalformedPayload as exc:
        raise ApiError(400, "malformed", str(exc)) from None
    recorded = await telemetry(request.app).record("generic", parsed, request.app[CLOCK].now())
    return json_response(_result(recorded))


async def relayed_events(request: web.Request) -> web.Response:
    """Genesys notifications or AMI events relayed as a JSON list (replay, or a relay that
    forwards a site's websocket or AMI stream), read by the same adapters as the clients."""
    if not _bearer_ok(request):
        raise ApiError(401, "unauthorized", "missing or wrong bearer token")
    source = request.match_info["source"]
    marks = request.app[FEEDS].marks.get(source)
    now = request.app[CLOCK].now()
    try:
        messages = json.loads(await request.read())
    except ValueError as exc:
        raise ApiError(400, "malformed", f"body is not JSON: {exc}") from None
    if not isinstance(messages, list):
        raise ApiError(400, "malformed", "body must be a JSON list of messages")
    parsed = Parsed()
    try:
        for index, message in enumerate(messages):
            try:
                if source == "genesys":
                    parsed.extend(genesys.parse(message, now, marks))
                elif isinstance(message, dict) and all(
                    isinstance(v, str) for v in message.values()
                ):
                    parsed.extend(asterisk.parse(message, now, marks))
                else:
                    raise MalformedPayload("asterisk", "an AMI event is an object of strings")
            except MalformedPayload as exc:
                raise MalformedPayload(exc.source, f"message {index}: {exc.reason}") from None
    except MalformedPayload as exc:
        raise ApiError(400, "malformed", str(exc)) from None
    recorded = await telemetry(request.app).record(source, parsed, now)
    return json_response(_result(recorded))


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
    else makes Firehose retry, then back the records up."""
    config = request.app[FEEDS]
    request_id = request.headers.get(FIREHOSE_REQUEST_HEADER, "")
    given = request.headers.get(FIREHOSE_KEY_HEADER, "")
    if config.firehose_access_key is None:
        return _firehose_reply(
            request, 401, request_id, "no access key is configured for this endpoint"
        )
    if not hmac.compare_digest(given.encode(), config.firehose_access_key.encode()):
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
        await telemetry(request.app).record("amazon_connect", parsed, request.app[CLOCK].now())
    except Exception:
        log.exception("Firehose request %s could not be stored", request_id)
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
        raise ApiError(400, "malformed", str(exc)) from None
    await telemetry(request.app).record("twilio", parsed, request.app[CLOCK].now())
    return web.Response(status=204, content_type="application/json")


class PresenceQuery(BaseModel):
    agent_id: list[str] | None = Field(
        default=None, description="Comma-separated agent ids; all agents when absent."
    )


class ScheduleOut(BaseModel):
    agent_id: str
    items: list[ScheduleEntry]


class QueueList(BaseModel):
    items: list[QueueOut]


class IntervalQuery(BaseModel):
    start: AwareDatetime | None = Field(
        default=None, alias="from", description="First interval (default: today, UTC)."
    )
    end: AwareDatetime | None = Field(
        default=None, alias="to", description="End, exclusive (default: a day after `from`)."
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
    try:
        items = await telemetry(request.app).put_schedule(agent_id, body)
    except UnknownAgent as exc:
        raise ApiError(404, "not_found", str(exc)) from None
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
        "start and end default to the items' span.",
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

"""The HTTP application: the intake API, health and metrics."""

from __future__ import annotations

import asyncio
import json
from importlib.metadata import version
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
from aiohttp import web

from bot.database import UNREACHABLE
from bot.http.acd import ACD_OPERATIONS
from bot.http.auth import bearer_ok
from bot.http.connections import BODY_SECONDS, IN_FLIGHT, InFlight, body_middleware
from bot.http.decisions import DECISION_OPERATIONS
from bot.http.errors import ApiError, error_middleware, error_response
from bot.http.feeds import FEED_OPERATIONS, FeedConfig, register_feeds
from bot.http.forecasts import FORECAST_OPERATIONS
from bot.http.keys import CLOCK, JOB_HEALTH, MAX_BODY, METRICS, POLICY, POOL, STORES, TOKENS, ZONE
from bot.http.lifecycle import LIFECYCLE_OPERATIONS
from bot.http.openapi import build
from bot.http.outage import OUTAGE, Outage, outage_middleware
from bot.http.planning import PLAN_OPERATIONS
from bot.http.quarantine import QUARANTINE_OPERATIONS
from bot.http.reports import REPORT_OPERATIONS
from bot.http.rules import RULE_OPERATIONS
from bot.http.sites import SITE_OPERATIONS
from bot.http.sources import SOURCE_OPERATIONS
from bot.http.tasks import OPERATIONS as INTAKE_OPERATIONS
from bot.metrics import CONTENT_TYPE, Metrics
from bot.stores import Stores
from clock import SYSTEM, Clock
from queues.dispatch import DispatchSettings

PUBLIC = frozenset({"/api/v1/openapi.json"})
OPERATIONS = (
    INTAKE_OPERATIONS
    + LIFECYCLE_OPERATIONS
    + RULE_OPERATIONS
    + FEED_OPERATIONS
    + FORECAST_OPERATIONS
    + QUARANTINE_OPERATIONS
    + ACD_OPERATIONS
    + SOURCE_OPERATIONS
    + DECISION_OPERATIONS
    + PLAN_OPERATIONS
    + REPORT_OPERATIONS
    + SITE_OPERATIONS
)


@web.middleware
async def auth_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    """Require one of the configured bearer tokens on ``/api/v1``."""
    if request.path.startswith("/api/") and request.path not in PUBLIC:
        header = request.headers.get("Authorization", "")
        if not bearer_ok(request):
            message = "missing bearer token" if not header else "wrong bearer token"
            return error_response(
                ApiError(401, "unauthorized", message), {"WWW-Authenticate": "Bearer"}
            )
    response: web.StreamResponse = await handler(request)
    return response


_NOT_ANSWERING: tuple[type[BaseException], ...] = (*UNREACHABLE, asyncpg.PostgresError)


async def healthz(request: web.Request) -> web.Response:
    """What is up and what is down: the database, and the tick's jobs that keep failing."""
    jobs = request.app[JOB_HEALTH]() if JOB_HEALTH in request.app else {}
    try:
        async with asyncio.timeout(2):
            await request.app[POOL].fetchval("SELECT 1")
    except _NOT_ANSWERING as exc:
        if isinstance(exc, UNREACHABLE):
            request.app[OUTAGE].failed(exc)
        detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        body = {"status": "unavailable", "database": f"not answering: {detail}", "jobs": jobs}
        return web.json_response(body, status=503)
    status = "degraded" if jobs else "ok"
    return web.json_response({"status": status, "database": "ok", "jobs": jobs})


async def metrics(request: web.Request) -> web.Response:
    body = request.app[METRICS].render()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})


async def openapi(request: web.Request) -> web.Response:
    return web.Response(text=request.app[_OPENAPI], content_type="application/json")


_OPENAPI = web.AppKey("openapi", str)


def create_app(
    stores: Stores,
    *,
    api_tokens: list[str],
    max_body_bytes: int,
    policy: DispatchSettings | None = None,
    feeds: FeedConfig | None = None,
    clock: Clock = SYSTEM,
    body_seconds: float = 30.0,
    timezone: str = "UTC",
) -> web.Application:
    """Build the app around the stores on an open pool; the caller owns the pool's lifetime."""
    app_metrics = Metrics()
    in_flight = InFlight()
    app = web.Application(
        client_max_size=max_body_bytes,
        middlewares=[
            in_flight.middleware,
            app_metrics.middleware(),
            error_middleware,
            body_middleware,
            outage_middleware,
            auth_middleware,
        ],
    )
    app[POOL] = stores.pool
    app[OUTAGE] = Outage(stores.pool)
    app[STORES] = stores
    app[METRICS] = app_metrics
    app[IN_FLIGHT] = in_flight
    app[TOKENS] = tuple(api_tokens)
    app[MAX_BODY] = max_body_bytes
    app[BODY_SECONDS] = body_seconds
    app[POLICY] = policy or DispatchSettings()
    app[CLOCK] = clock
    app[ZONE] = ZoneInfo(timezone)
    document = build(OPERATIONS, title="blendbot", version=version("blendbot"))
    app[_OPENAPI] = json.dumps(document)
    for op in OPERATIONS:
        app.router.add_route(op.method, op.path, op.handler)
    app.router.add_get("/api/v1/openapi.json", openapi)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    register_feeds(app, feeds or FeedConfig(), api_routes=False)
    return app

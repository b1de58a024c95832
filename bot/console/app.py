"""The console as a sub-application at ``/console``: its own middlewares (pages for errors,
security headers, the session, CSRF), templates and static assets from the package."""

from __future__ import annotations

import logging
from importlib import resources
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web
from aiohttp_session import session_middleware

from bot.console import actions, changes, lulls, pages, plan, reports, signin
from bot.console.board import NowBoard
from bot.console.config import ConsoleConfig
from bot.console.live import Live
from bot.console.render import filters, page
from bot.console.session import CONFIG, csrf_middleware, storage, viewer
from bot.http.keys import STORES, ZONE

log = logging.getLogger(__name__)
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


@web.middleware
async def page_errors(request: web.Request, handler: Any) -> web.StreamResponse:
    """Errors as pages a person reads (the API's JSON bodies are for programs)."""
    try:
        response: web.StreamResponse = await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        response = await _error_page(request, exc.status, exc.reason)
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        response = await _error_page(request, 500, "Something went wrong: it has been logged.")
    return response


async def _private_headers(request: web.Request, response: web.StreamResponse) -> None:
    """The headers that keep the pages to themselves, set as the response is prepared, so
    that a streamed answer (a CSV export) has them too."""
    if not request.path.startswith("/console/static/"):
        response.headers.update(HEADERS)
        response.headers.setdefault("Cache-Control", "no-store")


async def _error_page(request: web.Request, status: int, reason: str) -> web.Response:
    try:
        found = await viewer(request)
    except Exception:  # the database may be what failed: the page still says so
        found = None
    return await page(
        request, "error.html", {"status": status, "reason": reason}, viewer=found, status=status
    )


def register_console(app: web.Application, config: ConsoleConfig) -> Live:
    """Mount the console on the service's app; the live board listens to the telemetry
    store (a feed event that changes agents' states is on every open Now page at once)."""
    console = web.Application(
        middlewares=[page_errors, session_middleware(storage(config)), csrf_middleware]
    )
    console[CONFIG] = config
    console.on_response_prepare.append(_private_headers)
    env = aiohttp_jinja2.setup(
        console,
        loader=jinja2.PackageLoader("bot.console", "templates"),
        autoescape=jinja2.select_autoescape(default=True),
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(filters(app[ZONE]))
    live = Live(NowBoard(app, console).render)
    console[pages.LIVE] = live
    console[plan.CACHE] = plan.PlanCache()
    console[lulls.CACHE] = lulls.LullCache()
    console.on_shutdown.append(live.close)
    console.cleanup_ctx.append(changes.listening(app[STORES].pool, live.heard, live.work))
    r = console.router
    r.add_get("/", pages.home)
    r.add_get("/sign-in", signin.show_sign_in)
    r.add_post("/sign-in", signin.token_sign_in)
    r.add_post("/sign-out", signin.sign_out)
    r.add_get("/auth/slack", signin.slack_start)
    r.add_get("/auth/slack/callback", signin.slack_callback)
    r.add_get("/now", pages.now_page)
    r.add_get("/now/live", pages.now_live)
    r.add_get("/decisions", pages.decisions_page)
    r.add_get("/tasks", pages.tasks_page)
    r.add_get("/tasks/{task_id}", pages.task_page)
    r.add_get("/me", pages.my_day)
    r.add_post("/me/recognition", pages.set_my_recognition)
    r.add_get("/people", reports.people_page)
    r.add_get("/costs", reports.costs_page)
    r.add_get("/trends", reports.trends_page)
    r.add_get("/plan", plan.plan_page)
    r.add_get("/export/{name}", reports.export)
    r.add_get("/actions", actions.actions_page)
    r.add_post("/actions/blending", actions.set_blending)
    r.add_post("/actions/boost", actions.boost)
    r.add_post("/actions/assign", actions.assign)
    r.add_post("/actions/lend", actions.lend)
    r.add_post("/actions/recall", actions.recall)
    r.add_static("/static/", _static_dir(), name="static")
    app.add_subapp("/console/", console)
    app.router.add_get("/console", _to_console)
    app[STORES].telemetry.listeners.append(live.kick)
    return live


async def _to_console(_: web.Request) -> web.Response:
    raise web.HTTPMovedPermanently("/console/")


def _static_dir() -> Path:
    """The package's own assets (nothing is loaded from elsewhere at run time)."""
    return Path(str(resources.files("bot.console") / "static"))

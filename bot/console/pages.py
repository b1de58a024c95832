"""The pages: Now (the center live), Decisions (today's lends, holds and recalls with their
figures), Tasks (search, and a task's whole story), and an agent's own day."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, tzinfo
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from pydantic import TypeAdapter, ValidationError

from blending import decision_log, recognition
from blending.reports import Span
from blending.sites import SiteId, UnknownSite
from bot.console import lulls
from bot.console.board import TEMPLATE, board, render
from bot.console.live import Live
from bot.console.render import DECISIONS_REFRESH_MS, page
from bot.console.session import Viewer, viewer
from bot.http.keys import CLOCK, POLICY, STORES, ZONE
from bot.http.reports import of_site
from queues.errors import NotFound
from queues.models import TaskFilter

LIVE = web.AppKey("console_live", Live)
DECISIONS_SHOWN = 200
TASKS_SHOWN = 50


async def required(request: web.Request, *, supervisor: bool = True) -> Viewer:
    """The viewer, if they may see this page: nobody signed in goes to the sign-in page
    (a stream gets 401); an agent is refused every supervisor's page (403)."""
    found = await viewer(request)
    if found is None:
        if request.headers.get("Accept", "").startswith("text/event-stream"):
            raise web.HTTPUnauthorized(reason="Sign in first.")
        raise web.HTTPSeeOther("/console/sign-in")
    if supervisor and not found.supervisor:
        raise web.HTTPForbidden(reason="This page is for supervisors: you see your own day.")
    return found


@contextmanager
def known_site(site: str | None) -> Iterator[None]:
    """A site asked for that does not exist: the page is not found."""
    try:
        yield
    except UnknownSite:
        raise web.HTTPNotFound(reason=f"There is no site {(site or '')[:64]}.") from None


_SITE_ID: TypeAdapter[str] = TypeAdapter(SiteId)


async def site_asked(request: web.Request) -> tuple[str | None, tzinfo]:
    """The site a page is asked for (``?site=``) and its clock; none: everyone, on the
    default site's clock. A site that does not exist (or cannot) is a page not found."""
    raw = request.query.get("site") or None
    if raw is None:
        zone: tzinfo = request.config_dict[ZONE]
        return None, zone
    try:
        site = _SITE_ID.validate_python(raw)
    except ValidationError:
        raise web.HTTPNotFound(reason="There is no such site.") from None
    with known_site(site):
        return site, await request.config_dict[STORES].sites.zone(site)


def midnight(request: web.Request, zone: tzinfo | None = None) -> datetime:
    """Today's start on ``zone``'s clock (the default site's when None)."""
    now: datetime = request.config_dict[CLOCK].now()
    local = now.astimezone(zone or request.config_dict[ZONE])
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


async def home(request: web.Request) -> web.Response:
    found = await viewer(request)
    if found is None:
        raise web.HTTPSeeOther("/console/sign-in")
    raise web.HTTPSeeOther("/console/now" if found.supervisor else "/console/me")


async def now_page(request: web.Request) -> web.Response:
    """The center now; with ``?site=``, its queues and agents on its clock, fetched again
    when something changes as the report pages are (the live board is everyone's)."""
    found = await required(request)
    config = request.config_dict
    site, zone = await site_asked(request)
    stores = config[STORES]
    ahead = await request.app[lulls.CACHE].ahead(stores, config[CLOCK].now(), zone)
    shown: dict[str, Any]
    if site is None:
        since, board_html = await request.app[LIVE].page()
        shown = {"board_html": board_html, "version": since}
    else:
        scope = await stores.sites.scope(site)
        sited = of_site(await board(stores, config[CLOCK].now()), scope)
        template = aiohttp_jinja2.get_env(request.app).get_template(TEMPLATE)
        shown = {
            "board_html": render(template, sited, zone=zone).html(),
            "live_on": "work decisions any",
        }
    return await page(
        request,
        "now.html",
        {
            **shown,
            "ahead": ahead,
            "lull_hours": lulls.HOURS,
            "sites": await stores.sites.listed(),
            "site": site,
            "zone": zone,
        },
        viewer=found,
    )


async def now_live(request: web.Request) -> web.StreamResponse:
    await required(request)
    try:
        since = int(request.query.get("since", "-1"))
    except ValueError:
        since = -1
    board = request.query.get("board") != "0"
    return await request.app[LIVE].stream(request, since, board=board)


async def decisions_page(request: web.Request) -> web.Response:
    found = await required(request)
    group = request.query.get("queue", "").strip()[:200] or None
    agent = request.query.get("agent", "").strip()[:200] or None
    site, zone = await site_asked(request)
    since = midnight(request, zone)
    stores = request.config_dict[STORES]
    pool = stores.pool
    shown = await decision_log.recent(
        pool, group=group, agent_id=agent, limit=DECISIONS_SHOWN, since=since, site=site
    )
    everyone = await decision_log.recent(pool, limit=DECISIONS_SHOWN, since=since, site=site)
    groups = sorted({d.group for d in everyone.items} | ({group} if group else set()))
    agents = sorted(
        {(d.agent_id, d.agent_name or d.agent_id) for d in everyone.items if d.agent_id},
        key=lambda a: a[1],
    )
    return await page(
        request,
        "decisions.html",
        {
            "items": shown.items,
            "more": shown.next_before is not None,
            "groups": groups,
            "agents": agents,
            "group": group,
            "agent": agent,
            "sites": await stores.sites.listed(),
            "site": site,
            "zone": zone,
            "live_on": "decisions",
            "live_every": DECISIONS_REFRESH_MS,
        },
        viewer=found,
    )


async def tasks_page(request: web.Request) -> web.Response:
    found = await required(request)
    q = request.query.get("q", "").strip()
    stores = request.config_dict[STORES]
    items = []
    error = None
    if q:
        try:
            query = TaskFilter(q=q, limit=TASKS_SHOWN)
        except ValidationError:
            error = "Search by a task id, a customer ref or a source's id (up to 200 characters)."
        else:
            items = await stores.tasks.find(query)
            await stores.lookups.record("console", found.actor, {"q": q}, [t.id for t in items])
    return await page(request, "tasks.html", {"q": q, "items": items, "error": error}, viewer=found)


async def task_page(request: web.Request) -> web.Response:
    found = await required(request)
    raw = request.match_info["task_id"]
    if not raw.isdigit() or len(raw) > 18:
        raise web.HTTPNotFound(reason=f"There is no task {raw[:40]}.")
    task_id = int(raw)
    stores = request.config_dict[STORES]
    now = request.config_dict[CLOCK].now()
    try:
        detail = await stores.tasks.get(
            task_id, now, sla_top_share=request.config_dict[POLICY].sla_top_share
        )
    except NotFound:
        await stores.lookups.record("console", found.actor, {"id": task_id}, [])
        raise web.HTTPNotFound(reason=f"There is no task {task_id}.") from None
    await stores.lookups.record("console", found.actor, {"id": task_id}, [task_id])
    return await page(request, "task.html", {"task": detail}, viewer=found)


async def my_day(request: web.Request) -> web.Response:
    """An agent's own day: their work now, what they finished, the lends and recalls that
    were about them. Only ever the viewer's own."""
    found = await required(request, supervisor=False)
    if found.agent_id is None:
        raise web.HTTPNotFound(reason="You are not on the roster: there is no day to show.")
    stores = request.config_dict[STORES]
    now = request.config_dict[CLOCK].now()
    zone = await stores.sites.agent_zone(found.agent_id)
    since = midnight(request, zone)
    presence = (await stores.telemetry.presence(now, [found.agent_id], unmatched=False)).items
    decisions = await decision_log.recent(
        stores.pool, agent_id=found.agent_id, limit=DECISIONS_SHOWN, since=since
    )
    taking_part = await stores.roster.recognition(found.agent_id)
    standing = None
    if taking_part:
        today = since.date()
        span = Span(
            today, today, since, since + timedelta(days=1), getattr(since.tzinfo, "key", None)
        )
        mine = [
            a
            for a in (await recognition.recognition(stores.pool, span, now)).agents
            if a.agent_id == found.agent_id
        ]
        standing = mine[0] if mine else None
    return await page(
        request,
        "me.html",
        {
            "presence": presence[0] if presence else None,
            "work": await stores.views.work_of(found.agent_id),
            "done": await stores.views.done_since(found.agent_id, since),
            "items": decisions.items,
            "now": now,
            "recognition": taking_part,
            "standing": standing,
            "badges": recognition.BADGES,
            "zone": zone,
        },
        viewer=found,
    )


async def set_my_recognition(request: web.Request) -> web.Response:
    """An agent turns recognition off (or on again) for themselves, and only themselves."""
    found = await required(request, supervisor=False)
    if found.agent_id is None:
        raise web.HTTPNotFound(reason="You are not on the roster: there is no day to show.")
    on = (await request.post()).get("on") == "1"
    stores = request.config_dict[STORES]
    if await stores.roster.set_recognition(found.agent_id, on, found.actor):
        await stores.slack.audit(found.actor, f"console_recognition_{'on' if on else 'off'}", True)
    raise web.HTTPSeeOther("/console/me")

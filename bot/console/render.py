"""Pages rendered from the package's templates, with what every page shows: who is signed
in, the navigation their role allows, the CSRF token for its forms, the wallboard mode."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

import aiohttp_jinja2
import jinja2
import jinja2.runtime
from aiohttp import web

from bot.console.session import Viewer, csrf_token
from bot.http.keys import ZONE

NONE = "\N{EN DASH}"
"""What a board shows for a figure nobody knows."""
REPORT_REFRESH_MS = 60_000
"""A report page showing today fetches its figures again at most this often as agents' states
change: each costs a database's reading of the range, per open console."""
DECISIONS_REFRESH_MS = 1_000
"""A page fetches its figures again at most this often for a change it shows at once (a
decision on the Decisions page; work claimed or completed, or a decision, on a report page
showing today)."""
NAV = (
    ("now", "Now"),
    ("decisions", "Decisions"),
    ("people", "People"),
    ("costs", "Cost and skills"),
    ("trends", "Trends"),
    ("plan", "Plan"),
    ("tasks", "Tasks"),
    ("actions", "Actions"),
)


def clock_time(at: datetime | None, zone: tzinfo) -> str:
    return at.astimezone(zone).strftime("%H:%M") if at is not None else ""


def when(at: datetime | None, zone: tzinfo) -> str:
    """A day and a time: ``Mon 02 Mar 14:05``."""
    return at.astimezone(zone).strftime("%a %d %b %H:%M") if at is not None else ""


def duration(seconds: float | None) -> str:
    """``42s``, ``7m 05s``, ``2h 14m``: how long, as people read it on a board."""
    if seconds is None:
        return NONE
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m {s % 60:02d}s"
    return f"{s // 3600}h {s % 3600 // 60:02d}m"


def percent(share: float | None) -> str:
    return NONE if share is None else f"{share:.0%}"


def filters(zone: tzinfo) -> dict[str, Any]:
    """The templates' filters; times are read on the page's ``zone`` (a site's, an agent's),
    else on ``zone``, the default site's."""

    @jinja2.pass_context
    def clock(context: jinja2.runtime.Context, at: datetime | None) -> str:
        return clock_time(at, context.get("zone") or zone)

    @jinja2.pass_context
    def day_and_time(context: jinja2.runtime.Context, at: datetime | None) -> str:
        return when(at, context.get("zone") or zone)

    return {"clock": clock, "when": day_and_time, "duration": duration, "percent": percent}


async def page(
    request: web.Request,
    template: str,
    context: dict[str, Any],
    *,
    viewer: Viewer | None,
    status: int = 200,
) -> web.Response:
    zone = request.config_dict[ZONE]
    shown = {
        "viewer": viewer,
        "nav": NAV if viewer is not None and viewer.supervisor else (),
        "csrf": await csrf_token(request),
        "large": request.query.get("large") == "1",
        "path": request.path,
        "zone": zone,
        "live_on": None,
        "live_every": REPORT_REFRESH_MS,
        "live_soon": DECISIONS_REFRESH_MS,
        **context,
    }
    response = aiohttp_jinja2.render_template(template, request, shown, status=status)
    return response

"""The arrivals per interval as the service forecasts them: the last weeks' intraday history
read per type, the daily forecast (calibrated), split (:mod:`blending.planning.intraday`)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from blending.intervals import FloatArray
from blending.planning.arrivals import MIN_DAYS
from blending.planning.calibration import forecast_calibrated
from blending.planning.intraday import PROFILE_WEEKS, TypeIntervals, split_all
from blending.planning.service import PlanSettings, history
from queues.db import Executor, load_queries

_SQL = load_queries("blending.planning", "intraday.sql")


async def interval_counts(
    db: Executor, first: date, last: date, zone: ZoneInfo, minutes: int
) -> dict[str, FloatArray]:
    """Per type, arrivals per local day (``first`` to ``last``) and interval."""
    since = datetime.combine(first, time(), zone)
    until = datetime.combine(last + timedelta(days=1), time(), zone)
    shape = ((last - first).days + 1, 1440 // minutes)
    out: dict[str, FloatArray] = defaultdict(lambda: np.zeros(shape))
    for r in await db.fetch(_SQL["interval_arrivals"], since, until, zone.key, minutes):
        out[r["type"]][(r["day"] - first).days, r["slot"]] = r["tasks"]
    return dict(out)


async def interval_forecast(
    db: Executor,
    now: datetime,
    settings: PlanSettings,
    *,
    days: int,
    minutes: int = 60,
    zone: ZoneInfo | None = None,
) -> list[TypeIntervals]:
    """Each type's arrivals per interval over the next ``days`` days on ``zone``'s clock
    (default the default site's), none without the history a daily forecast needs."""
    zone = zone or ZoneInfo(settings.timezone)
    first, arrivals = await history(db, now, settings, zone)
    if not arrivals or len(next(iter(arrivals.values()))) < MIN_DAYS:
        return []
    forecast = await asyncio.to_thread(forecast_calibrated, arrivals, first, days)
    last = now.astimezone(zone).date() - timedelta(days=1)
    since = max(first, last - timedelta(weeks=PROFILE_WEEKS) + timedelta(days=1))
    counts = await interval_counts(db, since, last, zone, minutes)
    calendar = [since + timedelta(days=i) for i in range((last - since).days + 1)]
    return split_all(forecast, counts, calendar, minutes, zone)

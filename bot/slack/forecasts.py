"""``/blend forecast``: a queue's stored forecast by hour, and the same as a chart in a DM.

The forecast is read, never fitted here: the service refreshes it in the background. Hours
follow the contact center's clock. An hour's expected calls are the sum of its intervals'
means; its 80% range adds the intervals' bounds, which is wider than the hour's own 80%
interval (a careful range, never a narrow one); its agents are the most any interval needs.
"""

from __future__ import annotations

import asyncio
import io
import math
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from blending.forecast_store import IntervalForecast, QueueForecastOut
from bot.slack.blocks import ForecastRow
from bot.slack.context import Context
from bot.slack.store import Chart


def hourly(intervals: list[IntervalForecast], zone: ZoneInfo) -> list[ForecastRow]:
    """The intervals summed by hour of the center's clock, in order."""
    groups: dict[datetime, list[IntervalForecast]] = {}
    for point in intervals:
        local = point.interval_start.astimezone(zone)
        groups.setdefault(local.replace(minute=0, second=0, microsecond=0), []).append(point)
    hours = []
    for start, points in sorted(groups.items()):
        staffed = [p.agents for p in points if p.agents is not None]
        hours.append(
            ForecastRow(
                start=start,
                mean=sum(max(p.mean, 0.0) for p in points),
                lo_80=sum(max(p.lo_80, 0.0) for p in points),
                hi_80=sum(max(p.hi_80, 0.0) for p in points),
                agents=max(staffed) if staffed else None,
            )
        )
    return hours


def split_days(
    hours: list[ForecastRow], now: datetime
) -> tuple[list[ForecastRow], ForecastRow | None]:
    """The hours left today (from the current one), and tomorrow's busiest hour."""
    today = now.date()
    this_hour = now.replace(minute=0, second=0, microsecond=0)
    rest = [h for h in hours if h.start.date() == today and h.start >= this_hour]
    tomorrow = [h for h in hours if h.start.date() == today + timedelta(days=1)]
    peak = max(tomorrow, key=lambda h: (h.mean, h.start.timestamp() * -1)) if tomorrow else None
    return rest, peak


def chart(forecast: QueueForecastOut, zone: ZoneInfo) -> bytes:
    """The forecast as a PNG: the mean with its 80% and 95% bands, agents on a second axis."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    points = forecast.intervals
    x = np.array(
        [p.interval_start.astimezone(zone).replace(tzinfo=None) for p in points],
        dtype="datetime64[s]",
    )
    figure = Figure(figsize=(10, 4.2), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    ax.fill_between(
        x,
        [p.lo_95 for p in points],
        [p.hi_95 for p in points],
        color="tab:blue",
        alpha=0.15,
        label="95%",
    )
    ax.fill_between(
        x,
        [p.lo_80 for p in points],
        [p.hi_80 for p in points],
        color="tab:blue",
        alpha=0.3,
        label="80%",
    )
    ax.plot(x, [p.mean for p in points], color="tab:blue", linewidth=1.6, label="expected calls")
    minutes = points[0].minutes if points else 15
    ax.set_ylabel(f"calls per {minutes} min")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    agents_axis = ax.twinx()
    agents = [math.nan if p.agents is None else float(p.agents) for p in points]
    agents_axis.step(x, agents, where="post", color="tab:orange", label="agents needed")
    agents_axis.set_ylabel("agents needed")
    agents_axis.set_ylim(bottom=0)
    handles = ax.get_legend_handles_labels()
    more = agents_axis.get_legend_handles_labels()
    ax.legend(handles[0] + more[0], handles[1] + more[1], loc="upper left", fontsize="small")
    ax.set_title(f"{forecast.queue}: forecast ({forecast.model}, {zone.key} time)")
    figure.autofmt_xdate()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


async def send_chart(ctx: Context, user: str, forecast: QueueForecastOut) -> None:
    """Draw the chart off the event loop; the outbox uploads it to the person's DM."""
    zone = await ctx.zone_of(user)
    png = await asyncio.to_thread(chart, forecast, zone)
    queue = forecast.queue
    drawn = Chart(
        filename=f"forecast-{queue}.png",
        title=f"Forecast for {queue}",
        alt_txt=f"Expected calls for queue {queue} with 80% and 95% bands, and the agents needed",
        comment=f"Forecast for `{queue}` (model {forecast.model})",
        png=png,
    )
    await ctx.stores.slack.file(user, drawn)
    ctx.outbox.kick()

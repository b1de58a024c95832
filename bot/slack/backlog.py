"""``/blend backlog [type]``: open work by task type and SLA risk, and the same as a chart.

The risk bands are the ones supervisors act on: past the SLA already, due within two hours
(still savable), and later. The reply lists them; the chart, drawn off the event loop, goes
to the supervisor's DM through the outbox, so that a refused or rate-limited upload is
retried and never posted twice.
"""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import Sequence
from datetime import datetime

from bot.slack import blocks
from bot.slack.blocks import Message
from bot.slack.context import Context
from bot.slack.store import Chart
from queues.views import TypeBacklog

_TYPE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
BANDS = (
    ("breached", "past SLA", "tab:red"),
    ("due_soon", "due within 2 h", "tab:orange"),
    ("later", "later", "tab:blue"),
)


def line(r: TypeBacklog) -> str:
    return (
        f"`{blocks.escape(r.type)}` {r.open} open, {r.breached} past SLA, "
        f"{r.due_soon} due within 2h"
    )


async def answer(ctx: Context, args: list[str], user: str) -> Message:
    """The backlog in the reply; the chart follows in the person's DM when there is any."""
    if len(args) > 1 or (args and not _TYPE.match(args[0])):
        return blocks.notice("Usage: `/blend backlog [task type]`")
    only = args[0] if args else None
    rows = await ctx.stores.views.backlog(ctx.now(), only)
    if rows:
        ctx.spawn(send_chart(ctx, user, rows, only), name="backlog-chart")
    return blocks.backlog([line(r) for r in rows], chart=bool(rows))


def chart(rows: Sequence[TypeBacklog], at: datetime) -> bytes:
    """A PNG: one stacked bar per type (most at risk on top), counts at the bar ends."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    names = [r.type for r in rows]
    figure = Figure(figsize=(9, 1.4 + 0.45 * len(rows)), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    left = [0] * len(rows)
    for attr, label, colour in BANDS:
        counts = [int(getattr(r, attr)) for r in rows]
        ax.barh(names, counts, left=left, color=colour, label=label, height=0.6)
        left = [a + b for a, b in zip(left, counts, strict=True)]
    for y, total in enumerate(left):
        ax.annotate(str(total), (total, y), xytext=(4, 0), textcoords="offset points", va="center")
    ax.invert_yaxis()
    ax.set_xlabel("open tasks")
    ax.set_xlim(0, max(left, default=0) * 1.12 + 1)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="best", fontsize="small")
    ax.set_title(f"Open back-office work by SLA risk, {at:%Y-%m-%d %H:%M} {at.tzname() or ''}")
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


def describe(rows: Sequence[TypeBacklog]) -> str:
    """The chart in words, for people who cannot see it (Slack's alt text)."""
    parts = [
        f"{r.type} {r.open} ({r.breached} past SLA, {r.due_soon} due within 2 h, {r.later} later)"
        for r in rows
    ]
    return "Open tasks by type: " + "; ".join(parts)


async def send_chart(
    ctx: Context, user: str, rows: Sequence[TypeBacklog], only: str | None
) -> None:
    """Draw the chart off the event loop; the outbox uploads it to the person's DM."""
    at = ctx.now().astimezone(await ctx.zone_of(user))
    png = await asyncio.to_thread(chart, rows, at)
    drawn = Chart(
        filename=f"backlog-{only}.png" if only else "backlog.png",
        title=f"Backlog of {only} by SLA risk" if only else "Backlog by SLA risk",
        alt_txt=describe(rows),
        comment="Open work by SLA risk: past SLA, due within 2 h, later",
        png=png,
    )
    await ctx.stores.slack.file(user, drawn)
    ctx.outbox.kick()

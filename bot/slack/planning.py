"""``/blend plan [type] [site <id>]``: the back-office plan for supervisors, in words, with
the arrivals expected per hour over the next day (and their 80% band).

Working the plan out takes longer than Slack waits for an answer, so the command is answered
at once and the plan follows, visible only to the person who asked, in the same place; its
chart follows in their DM with the app. With a site: the site's own staff and its share of the
work, on its clock (``default``: the agents in no site).
"""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import numpy as np

from blending.planning.intraday import TypeIntervals
from blending.planning.model import Plan, TypePlan
from blending.sites import UnknownSite
from bot.slack import blocks
from bot.slack.blocks import Message
from bot.slack.context import Context
from bot.slack.store import Chart

if TYPE_CHECKING:
    from matplotlib.axes import Axes

SHOWN_MISSES = 8
INTERVAL_DAYS = 3
"""The arrivals per hour are forecast for three days (a weekend in between): the text shows
the next hours with any expected."""
SHOWN_HOURS = 24
_SITE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


def _day(d: date) -> str:
    return f"{d:%a %d %b}"


def _hours(h: float) -> str:
    return f"{h:.1f} h"


def _title(plan: Plan, what: str) -> str:
    site = f" for site {plan.site} ({plan.timezone})" if plan.site else ""
    return f"{what}{site}"


def arrival_lines(found: Sequence[TypeIntervals], now: datetime, zone: ZoneInfo) -> list[str]:
    """Per type, the arrivals expected each hour ahead with their 80% band, on the plan's
    clock: the next ``SHOWN_HOURS`` hours with any expected."""
    lines: list[str] = []
    for t in found:
        ahead = [
            i
            for i in t.intervals
            if i.start + timedelta(minutes=t.minutes) > now and i.mean >= 0.05
        ][:SHOWN_HOURS]
        if not ahead:
            continue
        lines.append(f"`{blocks.escape(t.type)}` arriving per hour ({zone.key}):")
        lines.extend(
            f"  {i.start.astimezone(zone):%a %H:%M}: {i.mean:.1f} ({i.lo_80:.1f} to {i.hi_80:.1f})"
            for i in ahead
        )
    return lines


def summary(plan: Plan, found: Sequence[TypeIntervals] = ()) -> Message:
    """Per skill set, the extra and spare hours (and a site's share of the work); per type,
    the backlog and when it clears, and the arrivals per hour ahead; the open tasks that will
    miss their SLA, worst first."""
    zone = ZoneInfo(plan.timezone)
    lines: list[str] = []
    for skill in plan.skills:
        name = blocks.escape(" + ".join(skill.skills) or "no skill")
        share = f" ({skill.share:.0%} of the work)" if plan.site else ""
        extra = [d for d in skill.days if d.extra_hours > 0]
        first = (
            f"{_hours(sum(d.extra_hours for d in extra))} extra needed, from {_day(extra[0].day)}"
            f" ({_hours(extra[0].extra_hours)})"
            if extra
            else "no extra hours needed"
        )
        spare = sum(d.spare_hours for d in skill.days)
        lines.append(f"*{name}*{share}: {first}; {_hours(spare)} to spare")
    for t in plan.types:
        lines.append(_type_line(t, len(plan.days)))
    lines.extend(arrival_lines(found, plan.generated_at, zone))
    for m in plan.misses[:SHOWN_MISSES]:
        done = (
            f"done {m.expected_done.astimezone(zone):%a %H:%M}, {m.late_minutes / 60:.1f} h late"
            if m.expected_done is not None and m.late_minutes is not None
            else "not done within the plan"
        )
        due = m.due_at.astimezone(zone)
        lines.append(f":warning: #{m.task_id} {blocks.escape(m.title)}: due {due:%a %H:%M}, {done}")
    if len(plan.misses) > SHOWN_MISSES:
        lines.append(f"… and {len(plan.misses) - SHOWN_MISSES} more tasks that will miss their SLA")
    lines.extend(f"_{blocks.escape(n)}_" for n in plan.notes)
    title = _title(plan, f"Back-office plan, next {len(plan.days)} days")
    return blocks.table(title, lines, "No task types.")


def _type_line(t: TypePlan, days: int) -> str:
    week = t.days[:7]
    arriving = sum(d.arrivals.mean for d in week)
    low, high = sum(d.arrivals.lo_80 for d in week), sum(d.arrivals.hi_80 for d in week)
    clears = f"clears {_day(t.clears_on)}" if t.clears_on else f"not cleared in {days} days"
    return (
        f"`{blocks.escape(t.type)}`: {t.backlog_tasks} open ({_hours(t.backlog_hours)}), "
        f"{clears}; {arriving:.0f} arriving in 7 days ({low:.0f} to {high:.0f})"
    )


def one_type(plan: Plan, name: str, hourly: Sequence[TypeIntervals] = ()) -> Message:
    """A type's days: arrivals with their 80% range, work, and the backlog left each night;
    its arrivals per hour ahead."""
    found = [t for t in plan.types if t.type == name]
    if not found:
        known = ", ".join(f"`{blocks.escape(t.type)}`" for t in plan.types) or "none"
        return blocks.notice(f"No task type `{blocks.escape(name)}`. Types: {known}.")
    t = found[0]
    lines = [_type_line(t, len(plan.days))]
    for d in t.days:
        lines.append(
            f"{_day(d.day)}: {d.arrivals.mean:.0f} arriving ({d.arrivals.lo_80:.0f} to "
            f"{d.arrivals.hi_80:.0f}), {_hours(d.workload_hours.mean)} of work, "
            f"{_hours(d.backlog_hours.mean)} left ({d.backlog_hours.lo_80:.1f} to "
            f"{d.backlog_hours.hi_80:.1f})"
        )
    misses = [m for m in plan.misses if m.type == name]
    if misses:
        lines.append(f":warning: {len(misses)} open task(s) will miss their SLA")
    mine = [f for f in hourly if f.type == name]
    lines.extend(arrival_lines(mine, plan.generated_at, ZoneInfo(plan.timezone)))
    return blocks.table(_title(plan, f"Plan for {name}"), lines)


def chart(plan: Plan, name: str | None, found: Sequence[TypeIntervals] = ()) -> bytes:
    """The backlog left each night with its 80% band (per type, or the one asked for), over
    the extra hours needed each day (all skill sets); below, the arrivals per interval with
    their 80% band, on the plan's clock."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    x = np.array(plan.days, dtype="datetime64[D]")
    shown = [f for f in found if (name is None or f.type == name) and f.intervals]
    figure = Figure(figsize=(10, 8.5 if shown else 5.5), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    if shown:
        top, bottom, arrivals = figure.subplots(3, 1, height_ratios=(2, 1, 1.6))
        top.sharex(bottom)
        top.tick_params(labelbottom=False)
        _arrivals_axes(arrivals, shown, ZoneInfo(plan.timezone))
    else:
        top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=(2, 1))
    for t in plan.types:
        if name is not None and t.type != name:
            continue
        lo = [d.backlog_hours.lo_80 for d in t.days]
        hi = [d.backlog_hours.hi_80 for d in t.days]
        (line,) = top.plot(x, [d.backlog_hours.mean for d in t.days], label=t.type)
        top.fill_between(x, lo, hi, color=line.get_color(), alpha=0.2)
    top.set_ylabel("backlog left (hours)")
    top.set_ylim(bottom=0)
    top.grid(alpha=0.3)
    if top.get_legend_handles_labels()[0]:
        top.legend(loc="upper right", fontsize="small", ncols=2)
    whose = f"site {plan.site}, " if plan.site else ""
    top.set_title(f"Back-office plan ({whose}{plan.timezone} days; bands: the arrivals' 80%)")
    extra = np.zeros(len(x))
    spare = np.zeros(len(x))
    for skill in plan.skills:
        extra += [d.extra_hours for d in skill.days]
        spare += [d.spare_hours for d in skill.days]
    bottom.bar(x, extra, color="tab:red", label="extra hours needed")
    bottom.bar(x, -spare, color="tab:green", label="hours to spare")
    bottom.axhline(0, color="black", linewidth=0.8)
    bottom.set_ylabel("hours")
    bottom.grid(alpha=0.3)
    bottom.legend(loc="upper right", fontsize="small")
    for label in bottom.get_xticklabels():
        label.set_rotation(30)
        label.set_horizontalalignment("right")
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


def _arrivals_axes(axes: Axes, shown: Sequence[TypeIntervals], zone: ZoneInfo) -> None:
    from matplotlib.dates import DateFormatter

    step = timedelta(minutes=shown[0].minutes)
    first = min(i.start for t in shown for i in t.intervals)
    last = max(i.start for t in shown for i in t.intervals) + step
    grid = [first + step * k for k in range(int((last - first) / step) + 1)]
    # Local wall-clock times: the axis reads the plan's clock.
    at = np.array([g.astimezone(zone).replace(tzinfo=None) for g in grid], dtype="datetime64[m]")
    for t in shown:
        # The intervals with no arrivals expected are not listed: nothing then.
        by_start = {i.start: i for i in t.intervals}
        mean, lo, hi = (
            [getattr(by_start[g], k) if g in by_start else 0.0 for g in grid]
            for k in ("mean", "lo_80", "hi_80")
        )
        (line,) = axes.plot(at, mean, label=t.type, drawstyle="steps-post")
        axes.fill_between(at, lo, hi, color=line.get_color(), alpha=0.2, step="post")
    axes.xaxis.set_major_formatter(DateFormatter("%a %H:%M"))  # type: ignore[no-untyped-call]
    axes.set_ylabel(f"arriving per {shown[0].minutes} min")
    axes.set_ylim(bottom=0)
    axes.grid(alpha=0.3)
    axes.legend(loc="upper right", fontsize="small", ncols=2)
    axes.set_title(f"Arrivals per interval ({zone.key}; bands: 80%)")


async def send(
    ctx: Context, user: str, channel: str, name: str | None, site: str | None = None
) -> None:
    now = ctx.now()
    try:
        plan = await ctx.stores.planner.plan(now, site=site)
    except UnknownSite:
        known = ", ".join(f"`{s.site_id}`" for s in await ctx.stores.sites.all())
        text = f"No site `{site}`. Sites: {known or 'none'} (and `default`: those in no site)."
        await ctx.stores.slack.ephemeral(channel, user, blocks.notice(text))
        ctx.outbox.kick()
        return
    found = await ctx.stores.planner.intervals(now, INTERVAL_DAYS, 60, site, plan=plan)
    message = summary(plan, found) if name is None else one_type(plan, name, found)
    await ctx.stores.slack.ephemeral(channel, user, message)
    if plan.types and (name is None or any(t.type == name for t in plan.types)):
        png = await asyncio.to_thread(chart, plan, name, found)
        what = name or "every type"
        drawn = Chart(
            filename=f"plan-{name or 'all'}.png",
            title=f"Back-office plan: {what}",
            alt_txt=f"The backlog of {what} each day with its 80% band, and the extra hours "
            "needed and hours to spare",
            comment=f"Back-office plan, {len(plan.days)} days",
            png=png,
        )
        await ctx.stores.slack.file(user, drawn)
    ctx.outbox.kick()


def answer(ctx: Context, args: list[str], user: str, channel: str) -> Message:
    """``[type] [site <id>]``: a site's id is checked here, whether it exists when planned."""
    site = None
    if len(args) >= 2 and args[-2].lower() == "site":
        site, args = args[-1].lower(), args[:-2]
        if not _SITE.match(site):
            return blocks.notice(
                f"`{blocks.escape(site)}` is not a site's id (lower case, digits, `_ . -`): "
                "`/blend plan [type] [site <id>]`."
            )
    name = args[0].lower() if args else None
    ctx.spawn(send(ctx, user, channel, name, site), name=f"plan-{user}")
    what = f"for `{blocks.escape(name)}`" if name else ""
    where = f" of site `{site}`" if site else ""
    return blocks.notice(f"Working out the back-office plan{where} {what}: it follows in a moment.")

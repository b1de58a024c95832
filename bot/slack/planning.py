"""``/blend plan [type]``: the back-office plan for supervisors, in words.

Working the plan out takes longer than Slack waits for an answer, so the command is answered
at once and the plan follows, visible only to the person who asked, in the same place; its
chart follows in their DM with the app.
"""

from __future__ import annotations

import asyncio
import io
from datetime import date
from zoneinfo import ZoneInfo

import numpy as np

from blending.planning.model import Plan, TypePlan
from bot.slack import blocks
from bot.slack.blocks import Message
from bot.slack.context import Context
from bot.slack.store import Chart

SHOWN_MISSES = 8


def _day(d: date) -> str:
    return f"{d:%a %d %b}"


def _hours(h: float) -> str:
    return f"{h:.1f} h"


def summary(plan: Plan) -> Message:
    """Per skill set, the extra and spare hours; per type, the backlog and when it clears;
    the open tasks that will miss their SLA, worst first."""
    zone = ZoneInfo(plan.timezone)
    lines: list[str] = []
    for skill in plan.skills:
        name = blocks.escape(" + ".join(skill.skills) or "no skill")
        extra = [d for d in skill.days if d.extra_hours > 0]
        first = (
            f"{_hours(sum(d.extra_hours for d in extra))} extra needed, from {_day(extra[0].day)}"
            f" ({_hours(extra[0].extra_hours)})"
            if extra
            else "no extra hours needed"
        )
        spare = sum(d.spare_hours for d in skill.days)
        lines.append(f"*{name}*: {first}; {_hours(spare)} to spare")
    for t in plan.types:
        lines.append(_type_line(t, len(plan.days)))
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
    return blocks.table(f"Back-office plan, next {len(plan.days)} days", lines, "No task types.")


def _type_line(t: TypePlan, days: int) -> str:
    week = t.days[:7]
    arriving = sum(d.arrivals.mean for d in week)
    low, high = sum(d.arrivals.lo_80 for d in week), sum(d.arrivals.hi_80 for d in week)
    clears = f"clears {_day(t.clears_on)}" if t.clears_on else f"not cleared in {days} days"
    return (
        f"`{blocks.escape(t.type)}`: {t.backlog_tasks} open ({_hours(t.backlog_hours)}), "
        f"{clears}; {arriving:.0f} arriving in 7 days ({low:.0f} to {high:.0f})"
    )


def one_type(plan: Plan, name: str) -> Message:
    """A type's days: arrivals with their 80% range, work, and the backlog left each night."""
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
    return blocks.table(f"Plan for {name}", lines)


def chart(plan: Plan, name: str | None) -> bytes:
    """The backlog left each night with its 80% band (per type, or the one asked for), over
    the extra hours needed each day (all skill sets)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    x = np.array(plan.days, dtype="datetime64[D]")
    figure = Figure(figsize=(10, 5.5), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
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
    top.set_title(f"Back-office plan ({plan.timezone} days; bands: the arrivals' 80%)")
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
    figure.autofmt_xdate()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


async def send(ctx: Context, user: str, channel: str, name: str | None) -> None:
    plan = await ctx.stores.planner.plan(ctx.now())
    message = summary(plan) if name is None else one_type(plan, name)
    await ctx.stores.slack.ephemeral(channel, user, message)
    if plan.types and (name is None or any(t.type == name for t in plan.types)):
        png = await asyncio.to_thread(chart, plan, name)
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
    name = args[0].lower() if args else None
    ctx.spawn(send(ctx, user, channel, name), name=f"plan-{user}")
    what = f"for `{blocks.escape(name)}`" if name else ""
    return blocks.notice(f"Working out the back-office plan {what}: it follows in a moment.")

"""App Home: my current task, my paused tasks, today's numbers; supervisors see the floor and
the blending engine's last decisions with the figures behind them."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import tzinfo
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from blending import decision_log, decision_store
from blending.guard import GuardState
from blending.snapshot import snapshot
from blending.windows import lulls
from bot.slack import blocks
from bot.slack.commands import midnight, next_task
from bot.slack.context import Context

LULL_HOURS = 8
DECISIONS_SHOWN = 5


async def facts(ctx: Context, user: str) -> blocks.HomeFacts:
    views = ctx.stores.views
    now = ctx.now()
    person = await ctx.stores.slack.agent(user)
    zone = await ctx.zone_of(user)
    result = blocks.HomeFacts(on_roster=person is not None)
    if person is not None:
        work = await views.work_of(person.agent_id)
        result.current = next((t for t in work if t.status == "in_progress"), None)
        result.paused = [t for t in work if t.status == "paused"]
        since = midnight(now, zone)
        result.done_today = await views.done_since(person.agent_id, since)
    if await ctx.supervisors.allows(user):
        rows = await views.backlog(now)
        lines = [
            f"`{r.type}` {r.open} open · {r.breached} past SLA · {r.due_soon} due <2h"
            for r in rows[:15]
        ]
        states = await views.status_counts()
        lines.append(" · ".join(f"{s.status.replace('_', ' ')} {s.n}" for s in states))
        state = await ctx.stores.switch.get()
        lines.append(blocks.blending_line(state.on, state.by, state.at, ctx.now()))
        lines += await floor(ctx, zone)
        result.supervisor_lines = lines
        result.decisions = await decisions(ctx, zone)
    return result


async def decisions(ctx: Context, zone: tzinfo) -> list[str]:
    """The engine's last lends, guard changes and recalls, with the figures behind them, at
    times on ``zone``'s clock (the viewer's)."""
    page = await decision_log.recent(ctx.pool, events=decision_log.DECISIONS, limit=DECISIONS_SHOWN)
    return [blocks.decision_line(d, zone) for d in page.items]


async def floor(ctx: Context, zone: tzinfo) -> list[str]:
    """Agents by state, the guard of each staffing group, and the lull windows ahead (at
    times on ``zone``'s clock, the viewer's)."""
    now = ctx.now()
    presence = (await ctx.stores.telemetry.presence(now)).items
    counts = Counter(p.state for p in presence)
    lines = [
        "Agents: "
        + (
            " · ".join(f"{state.replace('_', ' ')} {n}" for state, n in counts.most_common())
            or "none on the roster"
        )
    ]
    policy = replace(ctx.config.blending, max_minutes=LULL_HOURS * 60)
    snap = await snapshot(ctx.pool, now, policy, target=ctx.config.target)
    guards = await decision_store.load_guards(ctx.pool)
    for group in snap.groups:
        mode = guards.get(group.group, GuardState()).mode
        found = lulls(group.ahead, policy.windows.safety_margin)
        windows = ", ".join(
            f"{w.start.astimezone(zone):%H:%M}-{w.end.astimezone(zone):%H:%M} ({w.spare} spare)"
            for w in found[:6]
        )
        why = f" ({group.problem})" if group.problem else ""
        lines.append(
            f"*{group.group}*: guard {mode}; lull windows in the next {LULL_HOURS} h: "
            f"{windows or 'none'}{why}"
        )
    return lines


async def publish(ctx: Context, user: str) -> None:
    """Queue a fresh Home tab for ``user``; only the newest one is sent."""
    view = blocks.home(await facts(ctx, user), ctx.now())
    await ctx.stores.slack.home(user, view)
    ctx.outbox.kick()


def register(app: AsyncApp, ctx: Context) -> None:
    async def opened(event: dict[str, Any]) -> None:
        if event.get("tab", "home") == "home":
            await publish(ctx, event["user"])

    async def get_next(ack: AsyncAck, body: dict[str, Any]) -> None:
        user = body["user"]["id"]
        reply = await next_task(ctx, user)
        await ctx.stores.slack.ephemeral(user, user, reply)
        await ack()
        await publish(ctx, user)

    app.event("app_home_opened")(opened)
    app.action("next")(get_next)

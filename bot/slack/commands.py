"""``/blend <subcommand>``: answered in the ack, visible only to the person who asked."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt.async_app import AsyncAck, AsyncApp

from blending.errors import LendRefused
from blending.forecast_store import NoForecast, read, summaries
from bot.slack import backlog, blocks, cards, forecasts, planning
from bot.slack.blocks import Message
from bot.slack.context import Context, card_ref
from bot.slack.lookup import lookup
from bot.slack.store import SlackStore
from bot.work import ask_for_work, reassign
from queues.db import transaction
from queues.dispatch import NoOffer
from queues.errors import NotFound, QueuesError
from queues.lifecycle import Lifecycle
from queues.priority import InvalidRule
from queues.priority_store import RuleIn
from queues.views import Person

SUPERVISOR_ONLY = frozenset(
    {
        "status",
        "backlog",
        "agents",
        "priority",
        "assign",
        "forecast",
        "plan",
        "report",
        "pause",
        "resume",
        "lend",
        "recall",
    }
)
_TYPE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
_BOOST = re.compile(
    r"^boost\s+(?P<type>\S+)\s+(?P<boost>[+-]?\d{1,4})"
    r"(?:\s+for\s+(?P<n>\d{1,4})\s*(?P<unit>m|min|mins|minutes|h|hours?|d|days?))?"
    r"(?:\s+reason\s+(?P<reason>.+))?$",
    re.IGNORECASE,
)
_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
DEFAULT_BOOST_HOURS = 8
BOOST_PREFIX = "slack-boost-"


def _duration(n: str | None, unit: str | None) -> timedelta:
    if n is None or unit is None:
        return timedelta(hours=DEFAULT_BOOST_HOURS)
    first = unit[0].lower()
    scale = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1)}[first]
    return scale * int(n)


def register(app: AsyncApp, ctx: Context) -> None:
    async def blend(ack: AsyncAck, body: dict[str, Any]) -> None:
        user = body["user_id"]
        channel = body.get("channel_id") or user
        words = str(body.get("text") or "").split()
        sub = words[0].lower() if words else "help"
        args = words[1:]
        if sub in SUPERVISOR_ONLY and not await ctx.supervisors.check(
            user, f"/blend {sub}", text=body.get("text", "")
        ):
            text = f":lock: `/blend {sub}` is for supervisors. Your attempt was recorded."
            await ack(**blocks.notice(text))
            return
        reply = await answer(ctx, sub, args, user, channel)
        await ack(**reply)
        ctx.outbox.kick()

    app.command("/blend")(blend)


async def answer(ctx: Context, sub: str, args: list[str], user: str, channel: str) -> Message:
    now = ctx.now()
    if sub == "next":
        return await next_task(ctx, user)
    if sub == "task":
        return await lookup(ctx, user, " ".join(args), now)
    if sub == "status":
        states = await ctx.stores.views.status_counts()
        lines = [f"{s.status.replace('_', ' ')}: *{s.n}*" for s in states]
        return blocks.table("Tasks by state", lines)
    if sub == "backlog":
        return await backlog.answer(ctx, args, user)
    if sub == "agents":
        agents = await ctx.stores.views.agents_at_work()
        lines = [
            f"{a.name}: "
            + (
                f"{(a.status or '').replace('_', ' ')} #{a.task_id} ({a.type})"
                if a.task_id
                else "no back-office task"
            )
            for a in agents
        ]
        return blocks.table("Agents", lines, "No agents on the roster.")
    if sub == "priority":
        return await priority(ctx, args, user, now)
    if sub == "assign":
        return await assign(ctx, args, user)
    if sub == "forecast":
        return await forecast(ctx, args, user, now)
    if sub == "plan":
        return planning.answer(ctx, args, user, channel)
    if sub == "report":
        return await report(ctx, args, user, now)
    if sub in ("pause", "resume"):
        return await blending(ctx, sub == "resume", " ".join(args), user)
    if sub == "lend":
        return await lend(ctx, args, user)
    if sub == "recall":
        return await recall(ctx, args, user)
    if sub != "help":
        prefix = f"I don't know `/blend {sub}`.\n"
        message = blocks.help_message(await ctx.supervisors.allows(user))
        message["blocks"].insert(0, blocks.notice(prefix)["blocks"][0])
        return message
    return blocks.help_message(await ctx.supervisors.allows(user))


async def next_task(ctx: Context, user: str) -> Message:
    person = await ctx.stores.slack.agent(user)
    if person is None:
        return blocks.notice("You are not on the roster yet: ask a supervisor to add you.")
    async with transaction(ctx.pool) as conn:
        zone = ZoneInfo(ctx.config.timezone)  # the default site's: an agent in one hears theirs
        policy, now = ctx.config.policy, ctx.now()
        result = await ask_for_work(conn, person.agent_id, None, policy, now, zone=zone)
        if isinstance(result, NoOffer):
            return blocks.notice(f"Nothing for you right now: {result.reason}.")
        minutes, _ = await cards.facts(conn, result.task.id)
        if result.task.status == "offered":
            card = blocks.offer(result.task, result.why, ctx.now(), minutes)
        else:  # the agent's own work in progress or paused, shown back
            card = await cards.for_agent(conn, result.task, person.agent_id, ctx.now())
        await SlackStore(conn).card(card_ref(result.task.id, user), user, card)
    return blocks.notice(f"Task #{result.task.id} is waiting for you in your DM with me.")


async def priority(ctx: Context, args: list[str], user: str, now: datetime) -> Message:
    rules = ctx.stores.rules
    verb = args[0].lower() if args else "list"
    if verb == "list":
        lines = []
        for rule in await rules.all(now):
            until = f" until {blocks.when(rule.until, now)}" if rule.until else ""
            state = "" if rule.active else " (ended)"
            lines.append(f"`{rule.name}` {rule.boost:+d} when `{rule.when}`{until}{state}")
        return blocks.table("Priority rules", lines, "No priority rules.")
    if verb == "boost":
        match = _BOOST.match(" ".join(args))
        if match is None or not _TYPE.match(match["type"]):
            return blocks.notice(
                "Usage: `/blend priority boost <task type> +30 for 4h reason month-end`"
            )
        ends = now + _duration(match["n"], match["unit"])
        body = RuleIn(
            when=f'type == "{match["type"]}"',
            boost=max(-1000, min(1000, int(match["boost"]))),
            until=ends,
            reason=(match["reason"] or "boost from Slack")[:500],
            author=user,
        )
        try:
            rule, _ = await rules.put(BOOST_PREFIX + match["type"], body, now)
        except (InvalidRule, ValueError) as exc:
            return blocks.notice(f"That boost cannot be made: {exc}")
        return blocks.notice(
            f":arrow_up: `{match['type']}` {rule.boost:+d} until {blocks.when(ends, now)} "
            f"({rule.reason}). It applies from the next tick."
        )
    if verb == "clear" and len(args) >= 2:
        try:
            await rules.delete(BOOST_PREFIX + args[1], user, " ".join(args[2:]) or None, now)
        except NotFound:
            return blocks.notice(f"No boost on `{args[1][:64]}` to clear.")
        return blocks.notice(f"Boost on `{args[1][:64]}` cleared.")
    return blocks.notice("Usage: `/blend priority list|boost ...|clear <task type>`")


async def _agent_named(ctx: Context, word: str) -> Person | None:
    """The agent a command names: ``<@U123>`` as Slack sends a mention, or a roster id."""
    store = ctx.stores.slack
    mention = _MENTION.match(word)
    if mention:
        return await store.agent(mention[1])
    agent_id = word.lstrip("@")
    return (await store.agents([agent_id])).get(agent_id)


async def lend(ctx: Context, args: list[str], user: str) -> Message:
    """``/blend lend @agent <minutes> [override]``: the API's lend, from Slack."""
    usage = blocks.notice("Usage: `/blend lend @agent <minutes> [override]`")
    override = len(args) == 3 and args[2].lower() == "override"
    if override:
        args = args[:2]
    if len(args) != 2 or not args[1].isdigit() or not 1 <= int(args[1]) <= 24 * 60:
        return usage
    if ctx.steering is None:
        return blocks.notice("Lending is not available on this instance.")
    person = await _agent_named(ctx, args[0])
    if person is None:
        return blocks.notice(f"{blocks.escape(args[0][:100])} is not on the roster.")
    me = await ctx.stores.slack.agent(user)
    by = me.agent_id if me else user
    try:
        lent = await ctx.steering.lend(person.agent_id, int(args[1]), by, override=override)
    except LendRefused as exc:
        return blocks.notice(f"Not lent: {blocks.escape(str(exc))}.")
    if override:
        await ctx.stores.slack.audit(user, "lend override", True, agent=person.agent_id)
    zone = await ctx.zone_of(user)
    text = (
        f":clipboard: {blocks.escape(person.name)} is lent to back-office work until "
        f"{lent.ends_at.astimezone(zone):%H:%M}"
    )
    if lent.mode == "control":
        text += "; the phone system is being set to back office"
    if isinstance(lent.offer, NoOffer):
        text += f". No task offered yet: {blocks.escape(lent.offer.reason)}."
    else:
        text += f". Offered task #{lent.offer.task.id}."
    return blocks.notice(text)


async def recall(ctx: Context, args: list[str], user: str) -> Message:
    """``/blend recall @agent [reason]``: the API's recall, from Slack."""
    if not args:
        return blocks.notice("Usage: `/blend recall @agent [reason]`")
    if ctx.steering is None:
        return blocks.notice("Recalling is not available on this instance.")
    person = await _agent_named(ctx, args[0])
    if person is None:
        return blocks.notice(f"{blocks.escape(args[0][:100])} is not on the roster.")
    me = await ctx.stores.slack.agent(user)
    by = me.agent_id if me else user
    reason = " ".join(args[1:])[:500] or f"recalled by {me.name if me else 'a supervisor'}"
    done = await ctx.steering.recall(person.agent_id, by, reason)
    text = f":telephone_receiver: {blocks.escape(person.name)} is recalled to the phones"
    if done.mode == "control":
        text += "; the phone system is being set to available"
    if done.withdrawn:
        text += f"; {len(done.withdrawn)} open offer(s) went back to the queue"
    return blocks.notice(text + ".")


async def assign(ctx: Context, args: list[str], user: str) -> Message:
    usage = blocks.notice("Usage: `/blend assign <task id> @agent [override]`")
    override = len(args) == 3 and args[2].lower() == "override"
    if override:
        args = args[:2]
    if len(args) != 2 or not args[0].lstrip("#").isdigit() or len(args[0]) > 18:
        return usage
    task_id = int(args[0].lstrip("#"))
    store = ctx.stores.slack
    mention = _MENTION.match(args[1])
    if mention:
        person = await store.agent(mention[1])
    else:
        person = (await store.agents([args[1].lstrip("@")])).get(args[1].lstrip("@"))
    if person is None:
        return blocks.notice(f"{args[1][:100]} is not on the roster.")
    me = await store.agent(user)
    try:
        async with transaction(ctx.pool) as conn:
            limit = ctx.config.policy.max_tasks_per_agent
            task = await reassign(
                Lifecycle(conn, max_tasks_per_agent=limit),
                task_id,
                person.agent_id,
                me.agent_id if me else user,
                override=override,
            )
            if override:
                await SlackStore(conn).audit(
                    user, "assign override", True, task=task_id, agent=person.agent_id
                )
            if person.slack_user_id:
                card = await cards.for_agent(conn, task, person.agent_id, ctx.now())
                await SlackStore(conn).card(
                    card_ref(task_id, person.slack_user_id), person.slack_user_id, card
                )
    except QueuesError as exc:
        return blocks.notice(await cards.refusal(ctx.pool, exc, None))
    return blocks.notice(f"Task #{task_id} is now with {person.name}.")


async def forecast(ctx: Context, args: list[str], user: str, now: datetime) -> Message:
    """A queue's forecast for the rest of today and tomorrow's peak; the chart follows in a DM.
    Without a queue: the queues that have a forecast."""
    if not args:
        lines = [
            f"`{blocks.escape(s.queue)}` {s.intervals} intervals ahead"
            if s.error is None
            else f"`{blocks.escape(s.queue)}` no forecast: {blocks.escape(s.error)}"
            for s in await summaries(ctx.pool, now)
        ]
        return blocks.table(
            "Queues with a forecast",
            [*lines, "_Ask for one with_ `/blend forecast <queue>`"] if lines else [],
            "No forecasts yet: they are computed from the telephony feeds' interval figures.",
        )
    queue = args[0][:200]
    zone = await ctx.zone_of(user)
    local = now.astimezone(zone)
    since = local.replace(hour=0, minute=0, second=0, microsecond=0)
    try:
        found = await read(ctx.pool, queue, since)
    except NoForecast as exc:
        return blocks.notice(f"No forecast to show: {blocks.escape(str(exc))}.")
    hours, peak = forecasts.split_days(forecasts.hourly(found.intervals, zone), local)
    upcoming = found.model_copy(
        update={
            "intervals": [
                i for i in found.intervals if i.interval_start >= now - timedelta(hours=1)
            ]
        }
    )
    if upcoming.intervals:
        ctx.spawn(forecasts.send_chart(ctx, user, upcoming), name=f"forecast-chart-{queue}")
    return blocks.forecast(
        queue,
        hours,
        peak,
        model=found.model,
        computed_at=found.computed_at,
        zone=zone.key,
        now=now,
        chart=bool(upcoming.intervals),
    )


async def report(ctx: Context, args: list[str], user: str, now: datetime) -> Message:
    period = args[0].lower() if args else "today"
    if period not in ("today", "week"):
        return blocks.notice("Usage: `/blend report [today|week]`")
    today = midnight(now, await ctx.zone_of(user))
    since = today if period == "today" else today - timedelta(days=6)
    seen = await ctx.stores.views.activity(since)
    facts = blocks.Report(
        period="today" if period == "today" else "the last 7 days",
        since=since,
        created=seen.created,
        completed=seen.completed,
        escalated=seen.escalated,
        cancelled=seen.cancelled,
        on_time=seen.completed_on_time,
        minutes=seen.minutes,
        top=[(a.name, a.completed, a.minutes) for a in seen.top],
    )
    return blocks.report(facts, now)


def midnight(now: datetime, zone: tzinfo) -> datetime:
    """The start of ``now``'s day on ``zone``'s clock (the person's site's): where "today"
    begins."""
    return now.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)


async def blending(ctx: Context, on: bool, reason: str, user: str) -> Message:
    """Turn blending off (no back-office offers: calls come first) or back on."""
    person = await ctx.stores.slack.agent(user)
    by = person.name if person else f"<@{user}>"
    state, changed = await ctx.stores.switch.set(on, by, reason.strip()[:500] or None)
    if not changed:
        since = blocks.when(state.at, ctx.now())
        who = blocks.escape(state.by or "nobody")
        return blocks.notice(f"Blending is already {'on' if on else 'paused'} (by {who}, {since}).")
    if on:
        return blocks.notice(":arrow_forward: Blending is on: agents get back-office work again.")
    return blocks.notice(
        ":double_vertical_bar: Blending is paused: no back-office offers until `/blend resume`. "
        "Tasks already in progress stay with their agents."
    )

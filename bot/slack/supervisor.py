"""Supervisors' buttons on an escalation: reassign, return to queue, take over, cancel."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.slack import blocks, cards
from bot.slack.context import Context, card_ref, escalation_ref
from bot.slack.store import SlackStore
from bot.work import reassign as reassign_task
from queues.db import transaction
from queues.errors import QueuesError
from queues.lifecycle import Lifecycle
from queues.models import TaskOut

DENIED = ":lock: Only supervisors can do that. Your attempt was recorded."


async def supervise(
    ctx: Context,
    body: dict[str, Any],
    action: str,
    op: Callable[[Lifecycle, str], Awaitable[TaskOut]],
    headline: Callable[[TaskOut], str],
) -> None:
    """Check the clicker is a supervisor, apply ``op``, and close the escalation post."""
    user = body["user"]["id"]
    chosen = body["actions"][0]
    task_id = int(chosen.get("value") or str(chosen["block_id"]).rpartition(":")[2])
    container = body.get("container") or {}
    channel = container.get("channel_id") or ctx.config.supervisor_channel or user
    store = ctx.stores.slack
    if container.get("message_ts"):
        await store.remember(escalation_ref(task_id), channel, container["message_ts"])
    try:
        if not await ctx.supervisors.check(user, action, task=task_id):
            await store.ephemeral(channel, user, blocks.notice(DENIED))
            return
        me = await store.agent(user)
        by = me.agent_id if me else user
        now = ctx.now()
        try:
            async with transaction(ctx.pool) as conn:
                limit = ctx.config.policy.max_tasks_per_agent
                task = await op(Lifecycle(conn, max_tasks_per_agent=limit), by)
                tx = SlackStore(conn)
                closed = blocks.closed(task, headline(task), now)
                await tx.channel_card(escalation_ref(task_id), channel, closed)
                if task.holder:
                    holder = (await tx.agents([task.holder])).get(task.holder)
                    if holder and holder.slack_user_id:
                        card = await cards.for_agent(conn, task, holder.agent_id, now)
                        await tx.card(
                            card_ref(task_id, holder.slack_user_id), holder.slack_user_id, card
                        )
        except QueuesError as exc:
            why = await cards.refusal(ctx.pool, exc, None)
            await store.ephemeral(channel, user, blocks.notice(why))
            current = await cards.task(ctx.pool, task_id)
            if current is not None and current.status != "escalated":
                closed = blocks.closed(current, cards.describe(current), now)
                await store.channel_card(escalation_ref(task_id), channel, closed)
    finally:
        ctx.outbox.kick()


def register(app: AsyncApp, ctx: Context) -> None:
    async def reassign(ack: AsyncAck, body: dict[str, Any]) -> None:
        user = body["user"]["id"]
        target = str(body["actions"][0].get("selected_user") or "")
        person = await ctx.stores.slack.agent(target) if target else None
        if person is None:
            text = f"<@{target}> is not on the roster: pick an agent." if target else "Pick one."
            await _tell(ctx, body, user, text)
            await ack()
            return
        await supervise(
            ctx,
            body,
            "reassign",
            lambda lc, by: reassign_task(lc, _task_of(body), person.agent_id, by),
            lambda t: f":arrows_counterclockwise: Reassigned to {person.name} by <@{user}>.",
        )
        await ack()

    async def requeue(ack: AsyncAck, body: dict[str, Any]) -> None:
        user = body["user"]["id"]
        await supervise(
            ctx,
            body,
            "return to queue",
            lambda lc, by: lc.requeue(_task_of(body), by, "returned by a supervisor"),
            lambda t: f":leftwards_arrow_with_hook: Returned to the queue by <@{user}>.",
        )
        await ack()

    async def take_over(ack: AsyncAck, body: dict[str, Any]) -> None:
        user = body["user"]["id"]
        me = await ctx.stores.slack.agent(user)
        if me is None:
            await ctx.stores.slack.audit(user, "take over", False, task=_task_of(body))
            text = "You are not on the roster, so you cannot hold tasks: reassign it instead."
            await _tell(ctx, body, user, text)
            await ack()
            return
        await supervise(
            ctx,
            body,
            "take over",
            lambda lc, by: lc.reassign(_task_of(body), me.agent_id, by),
            lambda t: f":raising_hand: <@{user}> took it over.",
        )
        await ack()

    async def cancel(ack: AsyncAck, body: dict[str, Any]) -> None:
        user = body["user"]["id"]
        await supervise(
            ctx,
            body,
            "cancel",
            lambda lc, by: lc.cancel(_task_of(body), by, "cancelled by a supervisor"),
            lambda t: f":x: Cancelled by <@{user}>.",
        )
        await ack()

    app.action("esc_reassign")(reassign)
    app.action("esc_requeue")(requeue)
    app.action("esc_takeover")(take_over)
    app.action("esc_cancel")(cancel)


def _task_of(body: dict[str, Any]) -> int:
    chosen = body["actions"][0]
    return int(chosen.get("value") or str(chosen["block_id"]).rpartition(":")[2])


async def _tell(ctx: Context, body: dict[str, Any], user: str, text: str) -> None:
    """A private notice to the supervisor who clicked, where they clicked."""
    channel = (body.get("container") or {}).get("channel_id") or user
    await ctx.stores.slack.ephemeral(channel, user, blocks.notice(text))
    ctx.outbox.kick()

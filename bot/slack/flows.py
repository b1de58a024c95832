"""The shape every button and modal shares: change the task, then say so on its card.

The state change and the card it leaves behind are committed in one transaction, before the
listener acks; the outbox sends the card afterwards. A refused change leaves the card showing
the task as it really is, with the reason.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.slack import blocks, cards
from bot.slack.context import Context, card_ref
from bot.slack.store import SlackStore
from queues.db import Connection, transaction
from queues.errors import OfferWithdrawn, QueuesError
from queues.lifecycle import Lifecycle
from queues.models import TaskOut
from queues.views import Person

CARD_BLOCKS = ("offer:", "work:", "paused:")

Op = Callable[[Lifecycle, Person], Awaitable[TaskOut]]
After = Callable[[Connection, TaskOut, Person], Awaitable[None]]


@dataclass(frozen=True)
class Click:
    user: str
    task_id: int
    channel: str | None
    ts: str | None
    on_card: bool
    trigger_id: str | None


def click(body: dict[str, Any]) -> Click:
    """Who clicked what, and on which message."""
    action = body["actions"][0]
    container = body.get("container") or {}
    block_id = str(action.get("block_id", ""))
    value = action.get("value") or block_id.rpartition(":")[2]
    return Click(
        user=body["user"]["id"],
        task_id=int(value),
        channel=container.get("channel_id"),
        ts=container.get("message_ts"),
        on_card=block_id.startswith(CARD_BLOCKS),
        trigger_id=body.get("trigger_id"),
    )


async def remember(ctx: Context, c: Click) -> None:
    if c.on_card and c.channel and c.ts:
        await ctx.stores.slack.remember(card_ref(c.task_id, c.user), c.channel, c.ts)


async def not_on_roster(ctx: Context, user: str, channel: str | None) -> None:
    text = "You are not on the roster yet: ask a supervisor to add your Slack account."
    await ctx.stores.slack.ephemeral(channel or user, user, blocks.notice(text))
    ctx.outbox.kick()


async def act(
    ctx: Context,
    user: str,
    task_id: int,
    op: Op,
    *,
    channel: str | None = None,
    headline: Callable[[TaskOut], str] | None = None,
    after: After | None = None,
) -> TaskOut | None:
    """Run ``op`` for the agent behind ``user``; leave their card showing the outcome."""
    store = ctx.stores.slack
    person = await store.agent(user)
    if person is None:
        await not_on_roster(ctx, user, channel)
        return None
    ref = card_ref(task_id, user)
    now = ctx.now()
    policy = ctx.config.policy
    try:
        async with transaction(ctx.pool) as conn:
            lifecycle = Lifecycle(
                conn,
                skip_cooldown_seconds=policy.skip_cooldown_seconds,
                max_tasks_per_agent=policy.max_tasks_per_agent,
            )
            done = await op(lifecycle, person)
            title = headline(done) if headline else None
            card = await cards.for_agent(conn, done, person.agent_id, now, title)
            await SlackStore(conn).card(ref, user, card)
            if after is not None:
                await after(conn, done, person)
        return done
    except QueuesError as exc:
        await refused(ctx, person, user, task_id, exc, channel)
        return None
    finally:
        ctx.outbox.kick()


async def refused(
    ctx: Context,
    person: Person,
    user: str,
    task_id: int,
    exc: QueuesError,
    channel: str | None,
) -> None:
    """Tell the clicker why nothing happened, and bring their card up to date."""
    store = ctx.stores.slack
    current = await cards.task(ctx.pool, task_id)
    holder = None
    if current is not None and current.holder:
        holder = (await store.agents([current.holder])).get(current.holder)
    why = await cards.refusal(ctx.pool, exc, holder)
    if current is None:
        await store.ephemeral(channel or user, user, blocks.notice(why))
        return
    card = await cards.for_agent(ctx.pool, current, person.agent_id, ctx.now(), why)
    await store.card(card_ref(task_id, user), user, card)
    if current.holder == person.agent_id or isinstance(exc, OfferWithdrawn):
        await store.ephemeral(channel or user, user, blocks.notice(why))

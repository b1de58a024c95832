"""Agents' buttons and modals: claim, skip, complete, pause, resume, release, escalate."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot import work
from bot.slack import blocks, cards
from bot.slack.context import Context, escalation_ref
from bot.slack.flows import Click, act, click, not_on_roster, refused, remember
from bot.slack.store import SlackStore
from queues.db import Connection
from queues.errors import InvalidTransition
from queues.lifecycle import Lifecycle
from queues.models import TaskOut
from queues.views import Person

MODALS = {
    "complete": (("in_progress",), blocks.complete_modal),
    "escalate": (("offered", "in_progress", "paused"), blocks.escalate_modal),
    "skip": (("offered",), blocks.skip_modal),
}


def _input(view: dict[str, Any], block: str) -> str | None:
    value = view["state"]["values"].get(block, {}).get("value", {})
    selected = value.get("selected_option")
    if selected:
        return str(selected["value"])
    text = value.get("value")
    return str(text).strip() or None if text is not None else None


def register(app: AsyncApp, ctx: Context) -> None:
    async def claim(ack: AsyncAck, body: dict[str, Any]) -> None:
        c = click(body)
        await remember(ctx, c)
        await act(
            ctx,
            c.user,
            c.task_id,
            lambda lc, p: lc.claim(c.task_id, p.agent_id),
            channel=c.channel,
        )
        await ack()

    async def simple(ack: AsyncAck, body: dict[str, Any]) -> None:
        c = click(body)
        await remember(ctx, c)
        action = body["actions"][0]["action_id"]
        # The reason stays with the task: the next holder sees it if the pause lasts too long.
        recalled = body["actions"][0].get("block_id") == "recall"
        why = "recalled to the phones" if recalled else "paused from Slack"

        async def op(lc: Lifecycle, p: Person) -> TaskOut:
            if action == "pause":
                return await lc.pause(c.task_id, p.agent_id, why)
            if action == "resume":
                return await work.resume(lc, c.task_id, p.agent_id)
            return await lc.release(c.task_id, p.agent_id, "released from Slack")

        def headline(t: TaskOut) -> str:
            return "Released: the task is back in the queue." if t.status == "queued" else ""

        await act(ctx, c.user, c.task_id, op, channel=c.channel, headline=headline)
        await ack()

    async def open_modal(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        c = click(body)
        await remember(ctx, c)
        action = body["actions"][0]["action_id"]
        allowed, build = MODALS[action]
        person = await ctx.stores.slack.agent(c.user)
        if person is None:
            await not_on_roster(ctx, c.user, c.channel)
            return
        task = await cards.task(ctx.pool, c.task_id)
        if task is None or task.holder != person.agent_id or task.status not in allowed:
            status = task.status if task is not None else "gone"
            exc = InvalidTransition(c.task_id, action, status)
            await refused(ctx, person, c.user, c.task_id, exc, c.channel)
            ctx.outbox.kick()
            return
        if c.trigger_id:
            view = build(task, blocks.metadata(task.id, c.channel))
            await ctx.client.views_open(trigger_id=c.trigger_id, view=view)

    async def submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        meta = json.loads(view.get("private_metadata") or "{}")
        task_id, channel = int(meta["task"]), meta.get("ref")
        user = body["user"]["id"]
        kind = view["callback_id"]
        if kind == "complete":
            outcome = _input(view, "outcome") or "done"
            note = _input(view, "note")
            await act(
                ctx,
                user,
                task_id,
                lambda lc, p: lc.complete(task_id, p.agent_id, outcome, note),
                channel=channel,
                headline=lambda t: (
                    f":white_check_mark: Done: {outcome}."
                    if t.status == "done"
                    else f"Step done ({outcome}): the next step is back in the queue."
                ),
            )
        elif kind == "skip":
            reason = _input(view, "reason") or "skipped"
            await act(
                ctx,
                user,
                task_id,
                lambda lc, p: lc.skip(task_id, p.agent_id, reason),
                channel=channel,
                headline=lambda t: f"Skipped ({reason}). Ask `/blend next` for another task.",
            )
        else:
            why = _input(view, "reason")
            if not why:
                await ack(response_action="errors", errors={"reason": "Say what is wrong."})
                return
            await act(
                ctx,
                user,
                task_id,
                lambda lc, p: lc.escalate(task_id, p.agent_id, why),
                channel=channel,
                headline=lambda t: f":rotating_light: Escalated to the supervisors: {why}",
                after=_post_escalation(ctx, why),
            )
        await ack()

    app.action("claim")(claim)
    for action_id in ("pause", "resume", "release"):
        app.action(action_id)(simple)
    for action_id in MODALS:
        app.action(action_id)(open_modal)
    for callback_id in MODALS:
        app.view(callback_id)(submitted)


def _post_escalation(ctx: Context, reason: str | None) -> Any:
    async def after(conn: Connection, task: TaskOut, person: Person) -> None:
        await post_escalation(ctx, conn, task, person.name, reason)

    return after


async def post_escalation(
    ctx: Context, conn: Connection, task: TaskOut, by: str, reason: str | None
) -> None:
    """Post (or refresh) the escalation in the supervisors' channel."""
    channel = ctx.config.supervisor_channel
    if channel is None:
        return
    message = blocks.escalation(task, by, reason, ctx.now())
    await SlackStore(conn).channel_card(escalation_ref(task.id), channel, message)


__all__ = ["Click", "post_escalation", "register"]

"""Which card a person sees for a task, from the task's current state."""

from __future__ import annotations

from datetime import datetime

from bot.slack import blocks
from bot.slack.blocks import Message
from queues.db import Executor
from queues.errors import (
    AgentBusy,
    AgentInactive,
    AgentNeeded,
    HeldByOther,
    InvalidTransition,
    NotFound,
    OfferExpired,
    OfferWithdrawn,
    QueuesError,
)
from queues.models import TaskOut
from queues.tasks import Tasks
from queues.views import Person, Views


async def task(db: Executor, task_id: int) -> TaskOut | None:
    return await Tasks(db).one(task_id)


async def facts(db: Executor, task_id: int) -> tuple[float | None, bool]:
    """Expected minutes of the current step, and whether the task may be paused."""
    found = (await Views(db).task_facts([task_id])).get(task_id)
    if found is None:
        return None, True
    return found.minutes, found.pausable


async def for_agent(
    db: Executor, t: TaskOut, agent_id: str, now: datetime, headline: str | None = None
) -> Message:
    """The card ``agent_id`` should see for ``t`` now: its buttons follow the task's state."""
    minutes, pausable = await facts(db, t.id)
    if t.holder == agent_id:
        if t.status == "in_progress":
            return blocks.working(t, now, pausable)
        if t.status == "paused":
            return blocks.paused(t, now)
        live = t.offer_expires_at is not None and t.offer_expires_at > now
        if t.status == "offered" and live:
            return blocks.offer(t, [], now, minutes)
    return blocks.closed(t, headline or describe(t), now)


def describe(t: TaskOut) -> str:
    words = {
        "queued": "Back in the queue.",
        "offered": "Offered to someone else.",
        "in_progress": "Someone else is working on it.",
        "paused": "Paused by someone else.",
        "escalated": "With the supervisors.",
        "done": ":white_check_mark: Done.",
        "cancelled": "Cancelled.",
    }
    return words[t.status]


async def refusal(db: Executor, exc: QueuesError, holder: Person | None) -> str:
    """Why an action did not happen, in words for the person who clicked."""
    if isinstance(exc, HeldByOther):
        who = holder.first_name if holder else "someone else"
        return f":no_entry: {who} has this task now."
    if isinstance(exc, OfferWithdrawn):
        return f":telephone_receiver: This offer was {exc.reason}: the task is back in the queue."
    if isinstance(exc, AgentNeeded) and not exc.overridable:
        return f":telephone_receiver: Not now: {exc.reason}."
    if isinstance(exc, AgentNeeded):
        return (
            f":telephone_receiver: Not now: {exc.reason}. To give it anyway: "
            f"`/blend assign {exc.task_id} @agent override`."
        )
    if isinstance(exc, AgentInactive):
        return ":no_entry: You are no longer on the blending roster: ask a supervisor."
    if isinstance(exc, OfferExpired):
        return ":hourglass: This offer lapsed and the task went back to the queue."
    if isinstance(exc, AgentBusy):
        held = ", ".join(f"#{t}" for t in exc.holding)
        return f":raised_hand: Finish or release {held} first: one task at a time."
    if isinstance(exc, InvalidTransition):
        return f"This task is {exc.status.replace('_', ' ')} now: nothing to do here."
    if isinstance(exc, NotFound):
        return "This task no longer exists."
    return f"That did not work: {exc}"

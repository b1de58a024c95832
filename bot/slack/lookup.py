"""``/blend task <query>``: what any agent may tell a customer.

The query is what the customer quotes: a task id (``1042``, ``#1042``), their customer ref,
or the source system's id of the request (``APP-1042``). Only people on the roster (a Slack
user mapped to an agent) and supervisors may look up; everyone else is politely refused.
Every lookup, refused ones too, goes to the audit log of lookups with what was found.

The reply: where the task is, who holds it (first name only), its SLA and likely end with the
estimate's basis, and the payload fields its task type marks shareable. The rest of the
payload never reaches the reply.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ValidationError

from bot.slack import blocks
from bot.slack.blocks import Message
from bot.slack.context import Context
from queues.catalog import shareable
from queues.errors import NotFound
from queues.models import TaskFilter

MAX_TASKS = 5
USAGE = "Usage: `/blend task <task id, customer ref or source id such as APP-1042>`"
REFUSED = (
    "Sorry, task lookups are for agents on the roster and supervisors. If you should have "
    "access, ask a supervisor to add your Slack account to the roster."
)


async def lookup(ctx: Context, user: str, query: str, now: datetime) -> Message:
    query = query.strip()
    if not query:
        return blocks.notice(USAGE)
    lookups = ctx.stores.lookups
    asked = {"q": query[:200]}
    person = await ctx.stores.slack.agent(user)
    if person is None and not await ctx.supervisors.allows(user):
        await lookups.record("slack", user, asked, [], allowed=False)
        return blocks.notice(REFUSED)
    if person is not None:
        asked["agent_id"] = person.agent_id
    tasks = ctx.stores.tasks
    try:
        found = await tasks.find(TaskFilter(q=query, limit=MAX_TASKS + 1))
    except ValidationError:
        found = []
    more = len(found) > MAX_TASKS
    ids = [t.id for t in found[:MAX_TASKS]]
    await lookups.record("slack", user, asked, ids)
    missing = blocks.notice(f"No task found for `{blocks.escape(query[:100])}`.")
    if not ids:
        return missing
    catalog = ctx.stores.catalog
    fields: dict[str, list[str]] = {}
    messages: list[dict[str, Any]] = []
    for task_id in ids:
        try:
            detail = await tasks.get(task_id, now, sla_top_share=ctx.config.policy.sla_top_share)
        except NotFound:
            continue
        if detail.type not in fields:
            task_type = await catalog.get(detail.type)
            fields[detail.type] = task_type.shareable_fields if task_type else []
        holder = None
        if detail.holder:
            holder_person = (await ctx.stores.slack.agents([detail.holder])).get(detail.holder)
            holder = holder_person.first_name if holder_person else None
        shared = shareable(detail.payload, fields[detail.type])
        messages.append(blocks.lookup(detail, holder, now, shared))
    if not messages:
        return missing
    shown = [b for m in messages for b in m["blocks"]]
    if more:
        note = f"More than {MAX_TASKS} tasks match; the newest are shown. Ask by task id."
        shown += blocks.notice(note)["blocks"]
    return {"text": messages[0]["text"], "blocks": shown}

"""``/blend task <task id or customer ref>``: what any agent may tell a customer.

Where the task is, who holds it (first name only), its SLA and likely end, and the payload
fields its task type marks shareable. The rest of the payload never reaches the reply.
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


async def lookup(ctx: Context, query: str, now: datetime) -> Message:
    query = query.strip()
    if not query:
        return blocks.notice("Usage: `/blend task <task id or customer ref>`")
    tasks = ctx.stores.tasks
    ids: list[int] = []
    if query.lstrip("#").isdigit() and len(query) < 19:
        ids = [int(query.lstrip("#"))]
    else:
        try:
            found = await tasks.find(TaskFilter(customer_ref=query, limit=MAX_TASKS))
        except ValidationError:
            found = []
        ids = [t.id for t in found]
    missing = blocks.notice(f"No task found for `{blocks.escape(query[:100])}`.")
    if not ids:
        return missing
    catalog = ctx.stores.catalog
    fields: dict[str, list[str]] = {}
    messages: list[dict[str, Any]] = []
    for task_id in ids[:MAX_TASKS]:
        try:
            detail = await tasks.get(task_id, now, sla_top_share=ctx.config.policy.sla_top_share)
        except NotFound:
            return missing
        if detail.type not in fields:
            task_type = await catalog.get(detail.type)
            fields[detail.type] = task_type.shareable_fields if task_type else []
        holder = None
        if detail.holder:
            person = (await ctx.stores.slack.agents([detail.holder])).get(detail.holder)
            holder = person.first_name if person else None
        shared = shareable(detail.payload, fields[detail.type])
        messages.append(blocks.lookup(detail, holder, now, shared))
    return {
        "text": messages[0]["text"],
        "blocks": [b for m in messages for b in m["blocks"]],
    }

"""What the tick tells people: new offers, lapsed offers, nudges, escalations, paused work gone
back by itself, recalls, the offers a recall took back, and tasks that will likely miss their
SLA; a supervisor's lend; tasks a call paused and resumed; state commands the phone system did
not carry out.

Each call writes outbox rows in one transaction and wakes the sender; none calls Slack.
"""

from __future__ import annotations

from collections.abc import Sequence

from blending.decision_store import WITHDRAWN, Withdrawn
from bot.slack import blocks, cards
from bot.slack.agent import post_escalation
from bot.slack.context import Context, card_ref
from bot.slack.store import SlackStore
from queues.db import Connection, transaction
from queues.eta_store import AtRisk, EtaStore
from queues.models import TaskOut
from queues.timers import TimerReport
from queues.views import Views


class Notifier:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    async def offers(self, tasks: Sequence[TaskOut]) -> int:
        """DM each offer to its agent (from a matching round); return how many were sent."""
        if not tasks:
            return 0
        ctx = self._ctx
        ids = [t.id for t in tasks]
        now = ctx.now()
        sent = 0
        async with transaction(ctx.pool) as conn:
            store = SlackStore(conn)
            people = await store.agents([t.holder for t in tasks if t.holder])
            views = Views(conn)
            reasons = await views.offer_reasons(ids)
            facts = await views.task_facts(ids)
            for task in tasks:
                person = people.get(task.holder or "")
                if person is None or person.slack_user_id is None:
                    continue
                found = facts.get(task.id)
                minutes = found.minutes if found is not None else None
                card = blocks.offer(task, reasons.get(task.id, []), now, minutes)
                await store.card(
                    card_ref(task.id, person.slack_user_id), person.slack_user_id, card
                )
                sent += 1
        ctx.outbox.kick()
        return sent

    async def timers(self, report: TimerReport) -> None:
        """Lapsed offers update their card; overdue work is nudged; escalations are posted;
        paused work that went back by itself closes its card and its holder is told."""
        ctx = self._ctx
        now = ctx.now()
        pairs = (
            report.expired
            + report.nudged
            + report.escalated
            + report.returned
            + report.paused_escalated
        )
        if not pairs:
            return
        async with transaction(ctx.pool) as conn:
            store = SlackStore(conn)
            people = await store.agents([holder for _, holder in pairs if holder])
            for task_id, holder in report.expired:
                person = people.get(holder or "")
                task = await cards.task(conn, task_id)
                if person and person.slack_user_id and task:
                    text = ":hourglass: This offer lapsed. Ask `/blend next` when you are free."
                    await store.card(
                        card_ref(task_id, person.slack_user_id),
                        person.slack_user_id,
                        blocks.closed(task, text, now),
                    )
            for task_id, holder in report.nudged:
                person = people.get(holder or "")
                if person and person.slack_user_id:
                    text = (
                        f"Still on task #{task_id}? It is past its expected time: complete, "
                        "release or escalate it from its card."
                    )
                    await store.ephemeral(
                        person.slack_user_id, person.slack_user_id, blocks.notice(text)
                    )
            for task_id, holder in report.escalated:
                task = await cards.task(conn, task_id)
                if task is not None:
                    by = people[holder].name if holder in people else "the timers"
                    await post_escalation(ctx, conn, task, by, "overdue: no progress in time")
            for task_id, holder in report.returned + report.paused_escalated:
                task = await cards.task(conn, task_id)
                if task is None:
                    continue
                escalated = task.status == "escalated"
                reason = await Views(conn).last_reason(task_id)
                if escalated:
                    await post_escalation(ctx, conn, task, "the timers", reason)
                person = people.get(holder or "")
                if person is None or person.slack_user_id is None:
                    continue
                user = person.slack_user_id
                where = (
                    "it is with the supervisors now"
                    if escalated
                    else "it is back in the queue for someone else"
                )
                text = (
                    f":hourglass: Task #{task_id} was {reason or 'paused too long'}: {where}, "
                    "with your pause note and the time you put in."
                )
                await store.card(card_ref(task_id, user), user, blocks.closed(task, text, now))
                await store.ephemeral(user, user, blocks.notice(text))
        ctx.outbox.kick()

    async def recall(self, agent_ids: Sequence[str]) -> int:
        """Calls are rising: ask these agents to pause, with a one-click Pause."""
        if not agent_ids:
            return 0
        ctx = self._ctx
        sent = 0
        async with transaction(ctx.pool) as conn:
            store = SlackStore(conn)
            people = await store.agents(list(agent_ids))
            for agent_id, person in people.items():
                if person.slack_user_id is None:
                    continue
                work = await Views(conn).work_of(agent_id)
                active = [t for t in work if t.status == "in_progress"]
                ref = f"recall:{person.slack_user_id}:{int(now_ts(ctx))}"
                await store.card(ref, person.slack_user_id, blocks.recall(active))
                sent += 1
        ctx.outbox.kick()
        return sent

    async def withdrawn(self, taken: Sequence[Withdrawn]) -> int:
        """Offers a recall took back: each agent's offer card now says so, in place."""
        if not taken:
            return 0
        ctx = self._ctx
        now = ctx.now()
        sent = 0
        async with transaction(ctx.pool) as conn:
            store = SlackStore(conn)
            people = await store.agents([w.agent_id for w in taken])
            for w in taken:
                person = people.get(w.agent_id)
                if person is None or person.slack_user_id is None:
                    continue
                user = person.slack_user_id
                text = (
                    f":telephone_receiver: Offer {WITHDRAWN}: the task is back in the queue. "
                    "Ask `/blend next` when the calls are quiet again."
                )
                await store.card(card_ref(w.task.id, user), user, blocks.closed(w.task, text, now))
                sent += 1
        ctx.outbox.kick()
        return sent

    async def resume(self, tasks: Sequence[TaskOut]) -> int:
        """Calls are quiet again: the paused task's card comes back with its Resume button."""
        if not tasks:
            return 0
        ctx = self._ctx
        now = ctx.now()
        sent = 0
        async with transaction(ctx.pool) as conn:
            store = SlackStore(conn)
            people = await store.agents([t.holder for t in tasks if t.holder])
            for task in tasks:
                person = people.get(task.holder or "")
                if person is None or person.slack_user_id is None:
                    continue
                user = person.slack_user_id
                await store.card(card_ref(task.id, user), user, blocks.paused(task, now))
                text = f":white_check_mark: Calls are quiet again: resume task #{task.id}."
                await store.ephemeral(user, user, blocks.notice(text))
                sent += 1
        ctx.outbox.kick()
        return sent

    async def lent(self, agent_id: str, until: str, by: str) -> int:
        """A supervisor lent the agent to back-office work: they are told until when."""
        ctx = self._ctx
        async with transaction(ctx.pool) as conn:
            store = SlackStore(conn)
            person = (await store.agents([agent_id])).get(agent_id)
            if person is None or person.slack_user_id is None:
                return 0
            user = person.slack_user_id
            text = (
                f":clipboard: {blocks.escape(by)} lent you to back-office work until {until}. "
                "Your task is in this DM, or ask `/blend next`."
            )
            await store.ephemeral(user, user, blocks.notice(text))
        ctx.outbox.kick()
        return 1

    async def interrupted(
        self,
        paused: Sequence[TaskOut],
        resumed: Sequence[TaskOut] = (),
        *,
        note: str = blocks.INTERRUPTED,
    ) -> int:
        """A task paused for the phones says so on its card (``note``: a call came in, in
        interruptible mode; a recall, in control mode); one whose call is over is back in
        progress."""
        if not paused and not resumed:
            return 0
        ctx = self._ctx
        now = ctx.now()
        sent = 0
        async with transaction(ctx.pool) as conn:
            store = SlackStore(conn)
            people = await store.agents([t.holder for t in [*paused, *resumed] if t.holder])
            for task in [*paused, *resumed]:
                person = people.get(task.holder or "")
                if person is None or person.slack_user_id is None:
                    continue
                user = person.slack_user_id
                if task.status == "paused":
                    card = blocks.paused(task, now, note=note)
                else:
                    card = await cards.for_agent(conn, task, person.agent_id, now)
                    await store.ephemeral(user, user, blocks.notice(blocks.RESUMED))
                await store.card(card_ref(task.id, user), user, card)
                sent += 1
        ctx.outbox.kick()
        return sent

    async def state_failed(
        self, conn: Connection, agent_id: str, state: str, target: str | None, detail: str, ref: str
    ) -> None:
        """A state command the phone system did not carry out: the supervisors' channel and
        the agent are told, in the caller's transaction (the one that marks it failed)."""
        ctx = self._ctx
        store = SlackStore(conn)
        person = (await store.agents([agent_id])).get(agent_id)
        name = person.name if person is not None else agent_id
        channel = ctx.config.supervisor_channel
        if channel:
            message = blocks.state_failure(name, state, target, detail)
            await store.channel_card(f"acd:{ref}", channel, message)
        if person is not None and person.slack_user_id:
            user = person.slack_user_id
            await store.card(f"acd:{ref}:{user}", user, blocks.state_failure_for_agent(state))
        ctx.outbox.kick()

    async def closed_at_source(self, conn: Connection, source: str, task: TaskOut) -> None:
        """The record behind a held task was closed at its source: its holder is told, in the
        caller's transaction (the delivery's)."""
        ctx = self._ctx
        store = SlackStore(conn)
        person = (await store.agents([task.holder])).get(task.holder) if task.holder else None
        if person is not None and person.slack_user_id:
            user = person.slack_user_id
            message = blocks.closed_at_source(task, source)
            await store.card(f"source-closed:{task.id}:{user}", user, message)
            ctx.outbox.kick()

    async def write_back_failed(
        self,
        conn: Connection,
        task_id: int,
        title: str,
        source: str,
        event: str,
        external_id: str,
        detail: str,
        ref: str,
    ) -> None:
        """A write-back given up: the supervisors' channel is told, in the caller's
        transaction (the one that marks it failed)."""
        ctx = self._ctx
        channel = ctx.config.supervisor_channel
        if channel:
            message = blocks.write_back_failure(task_id, title, source, event, external_id, detail)
            await SlackStore(conn).channel_card(f"write-back:{ref}", channel, message)
            ctx.outbox.kick()

    async def sla_risks(self, risks: Sequence[AtRisk]) -> int:
        """Warn the supervisors' channel of tasks whose ETA passes their due time, each task
        once: the warning is remembered in the same transaction as the message is queued, and
        a task warned of before (by another instance too) is left out. Returns how many tasks
        were warned of; none without a supervisors' channel."""
        ctx = self._ctx
        channel = ctx.config.supervisor_channel
        if not risks or channel is None:
            return 0
        now = ctx.now()
        people: dict[str, str] = {}
        async with transaction(ctx.pool) as conn:
            fresh = await EtaStore(conn).remember(risks)
            warned = [r for r in risks if r.task_id in fresh]
            holders = await SlackStore(conn).agents([r.holder for r in warned if r.holder])
            people = {agent_id: p.first_name for agent_id, p in holders.items()}
            for start in range(0, len(warned), RISKS_A_MESSAGE):
                chunk = warned[start : start + RISKS_A_MESSAGE]
                message = blocks.sla_risk([_risk(r, people) for r in chunk], now)
                await SlackStore(conn).channel_card(
                    f"sla-risk:{chunk[0].task_id}", channel, message
                )
        ctx.outbox.kick()
        return len(warned)


RISKS_A_MESSAGE = 20


def _risk(r: AtRisk, people: dict[str, str]) -> blocks.Risk:
    state = r.status.replace("_", " ")
    if r.holder:
        state += f" ({people.get(r.holder, r.holder)})"
    return blocks.Risk(r.task_id, r.title, r.type, r.customer_ref, state, r.due_at, r.eta, r.basis)


def now_ts(ctx: Context) -> float:
    return ctx.now().timestamp()

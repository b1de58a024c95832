"""Agent states in the platform, on the database: modes, supervisors' lends and recalls, drift
corrections, the interruptible mode's pauses, and the agent's timeline.

Every change here is one transaction with its ``blending_events`` row; the state command it
calls for is queued by the triggers of ``migrations/0016_acd_control.sql`` in that same
transaction (in ``control`` mode), and sent by :mod:`telephony_adapters.control_outbox`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from blending.acd import AcdModes, AgentTimeline, CommandOut, Correction, TimelineItem
from blending.decision_store import WITHDRAWN, Withdrawn
from queues.db import Executor, load_queries, transaction
from queues.errors import QueuesError
from queues.lifecycle import Lifecycle
from queues.models import TaskOut
from queues.tasks import task_out

_SQL = load_queries("blending", "acd.sql")
_DECISIONS = load_queries("blending", "decision_store.sql")

INTERRUPT_REASON = "a call came in: paused automatically (interruptible mode)"
RECALL_REASON = "recalled to the phones: paused automatically (control mode)"
RESUME_REASON = "the call and its wrap-up ended: resumed automatically"


@dataclass(frozen=True)
class AgentAcd:
    agent_id: str
    group: str
    mode: str
    wanted: str
    """Where the agent should be in the platform now: ``backoffice`` or ``available``."""


@dataclass(frozen=True)
class WatchRow:
    agent_id: str
    mode: str
    wanted: str
    telephony_ids: dict[str, str]
    last_state: str | None
    last_status: str | None
    last_at: datetime | None
    last_done_at: datetime | None


def _ids(value: Any) -> dict[str, str]:
    decoded = json.loads(value) if isinstance(value, str) else value
    return {str(k): str(v) for k, v in (decoded or {}).items()}


def command_out(row: Any) -> CommandOut:
    return CommandOut(
        command_id=row["command_id"],
        state=row["state"],
        status=row["status"],
        cause=row["cause"],
        reason=row["reason"],
        actor=row["actor"],
        target=row["target"],
        created_at=row["created_at"],
        sent_at=row["sent_at"],
        done_at=row["done_at"],
        last_error=row["last_error"],
    )


async def save_modes(db: Executor, modes: AcdModes) -> None:
    """Make the database's modes the given ones (each instance does so when it starts)."""
    rows = modes.rows()
    async with transaction(db) as conn:
        groups = [g for g, _ in rows]
        await conn.execute(_SQL["drop_other_modes"], groups)
        await conn.execute(_SQL["save_modes"], groups, [m for _, m in rows])


async def mode_of(db: Executor, agent_id: str) -> str:
    """The mode of the agent's staffing group (``advisory`` for no such agent)."""
    return str(await db.fetchval(_SQL["mode_of"], agent_id) or "advisory")


async def agent_acd(db: Executor, agent_id: str) -> AgentAcd | None:
    row = await db.fetchrow(_SQL["agent"], agent_id)
    if row is None:
        return None
    return AgentAcd(row["agent_id"], row["grp"], row["mode"], row["wanted"])


async def lend(
    db: Executor,
    agent_id: str,
    group: str,
    start: datetime,
    end: datetime,
    by: str,
    reason: str,
    *,
    override: bool = False,
) -> None:
    """A supervisor's lend: a window until ``end`` (see ``acd.sql``)."""
    async with transaction(db) as conn:
        await conn.execute(_SQL["lock_agent"], agent_id)
        await conn.execute(_SQL["lend"], agent_id, group, start, end, by, override, reason)


async def recall(
    db: Executor, agent_id: str, group: str, by: str, reason: str, until: datetime
) -> list[Withdrawn]:
    """A supervisor's recall, held until ``until``: the agent's open offers are withdrawn and
    their window ends, as when the guard recalls. Returns the offers taken back."""
    async with transaction(db) as conn:
        await conn.execute(_SQL["lock_agent"], agent_id)
        await conn.execute(_SQL["recall"], agent_id, group, reason, by, until)
        taken = await conn.fetch(_DECISIONS["withdraw_offers"], [agent_id], WITHDRAWN, group)
        await conn.execute(_DECISIONS["end_windows"], [agent_id])
    return [Withdrawn(task_out(r), r["offered_to"]) for r in taken]


async def end_lends(db: Executor, now: datetime) -> list[str]:
    """End the supervisors' lends past their end; return whose."""
    return [r["agent_id"] for r in await db.fetch(_SQL["end_lends"], now)]


async def end_recalls(db: Executor, now: datetime) -> list[str]:
    """End the supervisors' recalls past their hold; return whose."""
    return [r["agent_id"] for r in await db.fetch(_SQL["end_recalls"], now)]


async def watched(db: Executor) -> list[WatchRow]:
    return [
        WatchRow(
            r["agent_id"],
            r["mode"],
            r["wanted"],
            _ids(r["telephony_ids"]),
            r["last_state"],
            r["last_status"],
            r["last_at"],
            r["last_done_at"],
        )
        for r in await db.fetch(_SQL["watched"])
    ]


async def lines(
    db: Executor, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], tuple[str, datetime]]:
    """The feed lines ``(source, external id)`` as last reported: their state and since when."""
    if not keys:
        return {}
    rows = await db.fetch(_SQL["lines"], [k[0] for k in keys], [k[1] for k in keys])
    return {(r["source"], r["external_id"]): (r["state"], r["since"]) for r in rows}


async def correct(db: Executor, fix: Correction) -> int | None:
    """Queue a drift correction, with its event; None when the agent has an open command."""
    async with transaction(db) as conn:
        queued = await conn.fetchval(
            _SQL["enqueue"], fix.agent_id, fix.state, fix.cause, fix.reason
        )
        if queued is None:
            return None
        await conn.execute(_SQL["drift_event"], fix.agent_id, f"{fix.cause}: {fix.reason}")
    return int(queued)


async def last_command(db: Executor, agent_id: str) -> CommandOut | None:
    row = await db.fetchrow(_SQL["last_command"], agent_id)
    return command_out(row) if row is not None else None


async def interruptions(db: Executor) -> tuple[list[TaskOut], list[TaskOut]]:
    """In interruptible groups: (pausable work in progress of agents a call was routed to, work
    a call paused whose agent's wrap-up has ended)."""
    states: Mapping[str, str] = {
        r["agent_id"]: r["state"] for r in await db.fetch(_SQL["latest_line"])
    }
    busy = [a for a, s in states.items() if s in ("on_call", "after_call_work")]
    back = [a for a, s in states.items() if s in ("available", "back_office")]
    pause = [task_out(r) for r in await db.fetch(_SQL["to_interrupt"], busy)] if busy else []
    resume = [task_out(r) for r in await db.fetch(_SQL["to_resume"], back)] if back else []
    return pause, resume


async def recalled_work(db: Executor) -> list[TaskOut]:
    """In control groups: pausable work in progress of agents who are recalled."""
    return [task_out(r) for r in await db.fetch(_SQL["to_pause_recalled"])]


async def interrupted(db: Executor, agent_id: str, text: str) -> None:
    await db.execute(_SQL["interrupted_event"], agent_id, text)


@dataclass(frozen=True)
class PhoneWork:
    """What one step of pausing and resuming work for the phones changed."""

    interrupted: list[TaskOut]
    """Paused because a call reached their holder (``interruptible``)."""
    resumed: list[TaskOut]
    """Resumed because their holder's call and wrap-up ended (``interruptible``)."""
    recalled: list[TaskOut]
    """Paused because their holder was recalled (``control``)."""


async def work_for_phones(db: Executor, modes: AcdModes) -> PhoneWork:
    """Pause and resume back-office work for the phones' sake, as the feeds and the recalls
    call for it: in ``interruptible`` groups the work of agents a call reached is paused and
    resumed once their wrap-up ends; in ``control`` groups the pausable work of recalled agents
    is paused. Each change goes through the task lifecycle (a conditional change with its
    event), so two runs acting on one state change it once. The service's
    :class:`bot.acd.Interruptions` and the simulator both run this step."""
    interrupted: list[TaskOut] = []
    resumed: list[TaskOut] = []
    recalled: list[TaskOut] = []
    if modes.uses("interruptible"):
        pause, resume = await interruptions(db)
        interrupted, resumed = await _change(db, pause, resume, INTERRUPT_REASON, "call")
    if modes.uses("control"):
        recalled, _ = await _change(db, await recalled_work(db), [], RECALL_REASON, "recall")
    return PhoneWork(interrupted, resumed, recalled)


async def _change(
    db: Executor, pause: list[TaskOut], resume: list[TaskOut], reason: str, by: str
) -> tuple[list[TaskOut], list[TaskOut]]:
    life = Lifecycle(db)
    paused: list[TaskOut] = []
    resumed: list[TaskOut] = []
    for task in pause:
        holder = task.holder or ""
        try:
            paused.append(
                await life.pause(
                    task.id, holder, reason, actor="blendbot", data={"interrupted_by": by}
                )
            )
        except QueuesError:  # the agent (or another instance) changed it meanwhile
            continue
        await interrupted(db, holder, f"task #{task.id} paused: a {by}")
    for task in resume:
        holder = task.holder or ""
        try:
            resumed.append(await life.resume(task.id, holder, RESUME_REASON, actor="blendbot"))
        except QueuesError:
            continue
        await interrupted(db, holder, f"task #{task.id} resumed")
    return paused, resumed


async def timeline(
    db: Executor, agent_id: str, since: datetime, limit: int
) -> AgentTimeline | None:
    """The agent's timeline since ``since``, newest first (None: no such agent)."""
    agent = await agent_acd(db, agent_id)
    if agent is None:
        return None
    rows = await db.fetch(_SQL["timeline"], agent_id, since, limit)
    items = [
        TimelineItem(
            at=r["at"],
            kind=r["kind"],
            event=r["event"],
            detail=r["detail"],
            command_id=r["command_id"],
            task_id=r["task_id"],
        )
        for r in rows
    ]
    return AgentTimeline(
        agent_id=agent_id,
        mode=agent.mode,
        group=agent.group,
        wanted=agent.wanted,
        last_command=await last_command(db, agent_id),
        items=items,
    )


async def end_windows(db: Executor, agent_ids: list[str]) -> None:
    """End the agents' windows, the engine's and supervisors' lends alike (deactivated
    agents: their lend's trigger follows in control mode)."""
    await db.execute(_DECISIONS["end_windows"], agent_ids)

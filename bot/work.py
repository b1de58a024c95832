"""An agent asking for work, given work, lent or recalled by a supervisor: the one way in, for
the API and for Slack.

The request is honoured unless a supervisor has paused blending, the real-time guard has
recalled the agent or holds their staffing group's offers, or the telephony feeds know the
agent is on a call or wrapping one up: then the phones come first and nothing is offered. A
supervisor may still give such an agent a task, by saying so; the override is recorded.

Every pull is fitted to the agent's time (:func:`blending.budget.budget`): the rest of the
window the engine granted them, never past their next break or the end of their shift. Minutes
named in the request are honoured within those bounds, also when the engine granted no window
(a pull a supervisor arranged; the guard and recalls hold all the same); a request without
minutes and without a window is refused, with the engine's reason.

A supervisor's lend (:func:`lend`) goes the engine's way: the same checks (blending paused, a
recall, the guard; ``override`` sets them aside, a call in progress refuses it), a window the
agent's pulls are fitted to, an offer at once, and in ``control`` mode the state command,
queued by the database with the window. A supervisor's recall (:func:`recall`) is the guard's:
open offers withdrawn, the window ended, nothing new offered for a while, and the command.
In ``interruptible`` mode only pausable task types are offered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo

from blending import acd_store
from blending.acd import CommandOut
from blending.budget import budget
from blending.decision_store import (
    Withdrawn,
    guard_for,
    recalled,
    shift_of,
    why_no_window,
    window_of,
)
from blending.errors import LendRefused
from blending.sites import agent_clock
from blending.switch import BlendingState
from blending.telemetry_store import TelemetryStore
from queues.db import Executor, connection, transaction
from queues.dispatch import Dispatcher, DispatchSettings, NoOffer, Offer
from queues.errors import AgentInactive, AgentNeeded, NotFound
from queues.lifecycle import Lifecycle
from queues.matching import Budget
from queues.models import TaskOut
from queues.roster import Roster
from queues.views import Views

ON_THE_PHONES = {"on_call": "on a call", "after_call_work": "wrapping up a call"}
UNSEEN = {
    "unknown": "the phone system does not show you available for calls",
    "offline": "the phone system shows you offline",
    "break": "the phone system shows you away",
}
"""Why an agent the engine cannot see available has no window (it lends only those it sees)."""


async def ask_for_work(
    db: Executor,
    agent_id: str,
    minutes: float | None,
    policy: DispatchSettings,
    now: datetime,
    *,
    zone: tzinfo = UTC,
    take: bool = False,
) -> Offer | NoOffer:
    """The agent's work back, or an offer that fits their time, or why not. ``minutes``: the
    time named in the request (None: the engine's window); the agent is told clock times on
    their site's clock (``zone``: the default site's). A deactivated agent is refused
    (:class:`AgentInactive`). With ``take`` the task is claimed for them at once, under the
    same checks, and held work refuses it (:class:`~queues.errors.HoldsWork`)."""
    async with connection(db) as conn:  # a dozen reads in turn: the pool is waited for once
        return await _ask(conn, agent_id, minutes, policy, now, zone, take)


async def _ask(
    db: Executor,
    agent_id: str,
    minutes: float | None,
    policy: DispatchSettings,
    now: datetime,
    zone: tzinfo,
    take: bool,
) -> Offer | NoOffer:
    active = await Roster(db).active(agent_id)
    if active is None:
        raise NotFound("agent", agent_id)
    if not active:
        raise AgentInactive(agent_id, "ask for work")
    blending = await BlendingState(db).get()
    if not blending.on:
        return NoOffer(f"blending is paused by {blending.by or 'a supervisor'}: calls come first")
    asked_back = await recalled(db, [agent_id])
    if agent_id in asked_back:
        return NoOffer(f"calls are rising ({asked_back[agent_id]}): you are needed on the phones")
    holds = await guard_for(db, agent_id)
    if holds is not None:
        return NoOffer(holds.why())
    presence = await TelemetryStore(db).presence(now, [agent_id], unmatched=False)
    state = None
    for item in presence.items:
        if item.agent_id == agent_id and item.state in ON_THE_PHONES:
            return NoOffer(f"you are {ON_THE_PHONES[item.state]} ({item.source}): calls come first")
        if item.agent_id == agent_id:
            state = item.state
    zone = await agent_clock(db, agent_id, zone)
    time = await time_for(db, agent_id, minutes, now, zone, state)
    interruptible = await acd_store.mode_of(db, agent_id) == "interruptible"
    return await Dispatcher(db, policy).next_for(
        agent_id, time, now, pausable_only=interruptible, take=take
    )


async def time_for(
    db: Executor,
    agent_id: str,
    minutes: float | None,
    now: datetime,
    zone: tzinfo,
    state: str | None = None,
) -> Budget:
    """The agent's time for a new task: ``minutes`` (if named), the rest of their window and
    their schedule, the least of them; ``state`` is their presence, to say why they have no
    window."""
    window = await window_of(db, agent_id, now)
    shift = await shift_of(db, agent_id, now)
    no_window = ""
    if window is None and minutes is None:
        no_window = UNSEEN.get(state or "") or await why_no_window(db, agent_id)
    end = window.end if window is not None else None
    return budget(now, minutes, end, shift, no_window, zone)


async def reassign(
    lifecycle: Lifecycle,
    task_id: int,
    to_agent_id: str,
    by: str,
    *,
    override: bool = False,
) -> TaskOut:
    """A supervisor gives a task to an agent. While the guard of the agent's staffing group
    holds or recalls, only with ``override``, which the task's event records with the guard's
    state; without it :class:`AgentNeeded` says why."""
    holds = await guard_for(lifecycle.db, to_agent_id)
    if holds is None:
        return await lifecycle.reassign(task_id, to_agent_id, by)
    if not override:
        raise AgentNeeded(task_id, to_agent_id, holds.why())
    guard = {"group": holds.group, "mode": holds.mode, "reason": holds.reason}
    why = f"override of the guard ({holds.mode} in {holds.group}: {holds.reason or 'no reason'})"
    return await lifecycle.reassign(task_id, to_agent_id, by, why, {"override": guard})


@dataclass(frozen=True)
class Lent:
    agent_id: str
    group: str
    mode: str
    starts_at: datetime
    ends_at: datetime
    offer: Offer | NoOffer
    """The task offered at once (or the work the agent holds), or why none."""
    command: CommandOut | None
    """The agent's last state command (in ``control`` mode, the one the lend queued)."""
    zone: tzinfo = UTC
    """The agent's clock, their site's: the times they are told are on it."""


@dataclass(frozen=True)
class Recalled:
    agent_id: str
    group: str
    mode: str
    until: datetime
    """No new work is offered to the agent before this (unless a supervisor lends them)."""
    withdrawn: list[Withdrawn] = field(default_factory=list)
    working: list[TaskOut] = field(default_factory=list)
    """The agent's work in progress, which they are asked to pause."""
    command: CommandOut | None = None


async def resume(life: Lifecycle, task_id: int, agent_id: str) -> TaskOut:
    """The holder takes up their paused work again, unless they are recalled to the phones: in
    ``control`` mode the platform routes calls to them then, and their work would be paused
    again at once (:class:`AgentNeeded`, which says why)."""
    asked_back = await recalled(life.db, [agent_id])
    if agent_id in asked_back:
        raise AgentNeeded(
            task_id,
            agent_id,
            f"they are recalled to the phones ({asked_back[agent_id]}); "
            "resume it when the calls are quiet again",
            action="resume",
        )
    return await life.resume(task_id, agent_id)


async def _held_back(db: Executor, agent_id: str, now: datetime) -> tuple[str | None, bool]:
    """Why the phones come first for the agent now (None: they do not), and whether that is a
    call in progress (which no override sets aside)."""
    presence = await TelemetryStore(db).presence(now, [agent_id], unmatched=False)
    for item in presence.items:
        if item.state in ON_THE_PHONES:
            return f"they are {ON_THE_PHONES[item.state]} ({item.source})", True
    blending = await BlendingState(db).get()
    if not blending.on:
        return f"blending is paused by {blending.by or 'a supervisor'}", False
    asked_back = await recalled(db, [agent_id])
    if agent_id in asked_back:
        return f"they are recalled to the phones ({asked_back[agent_id]})", False
    holds = await guard_for(db, agent_id)
    if holds is not None:
        verb = "recalls agents" if holds.mode == "recall" else "holds offers"
        return f"the guard of {holds.group} {verb} ({holds.reason or 'calls are queueing'})", False
    return None, False


async def lend(
    db: Executor,
    agent_id: str,
    minutes: float,
    by: str,
    policy: DispatchSettings,
    now: datetime,
    *,
    override: bool = False,
    zone: tzinfo = UTC,
) -> Lent:
    """A supervisor lends the agent to back-office work for ``minutes``: a window (their pulls
    are fitted to it, within their schedule), and the best task that fits offered at once.
    Refused (:class:`LendRefused`) while the phones come first, unless ``override``; always
    while the agent is on a call. Times are said on the agent's site clock (``zone``: the
    default site's)."""
    agent = await acd_store.agent_acd(db, agent_id)
    if agent is None:
        raise NotFound("agent", agent_id)
    if not await Roster(db).active(agent_id):
        raise AgentInactive(agent_id, "be lent")
    why, on_call = await _held_back(db, agent_id, now)
    if why is not None and (on_call or not override):
        raise LendRefused(agent_id, why, overridable=not on_call)
    ends = now + timedelta(minutes=minutes)
    zone = await agent_clock(db, agent_id, zone)
    said = f"lent for {minutes:g} min until {ends.astimezone(zone):%H:%M}"
    if why is not None:
        said += f" (override: {why})"
    async with transaction(db) as conn:
        await acd_store.lend(conn, agent_id, agent.group, now, ends, by, said, override=override)
    time = await time_for(db, agent_id, None, now, zone)
    offer = await Dispatcher(db, policy).next_for(
        agent_id, time, now, pausable_only=agent.mode == "interruptible"
    )
    return Lent(
        agent_id,
        agent.group,
        agent.mode,
        now,
        ends,
        offer,
        await acd_store.last_command(db, agent_id),
        zone,
    )


async def recall(
    db: Executor,
    agent_id: str,
    by: str,
    reason: str,
    now: datetime,
    *,
    hold_seconds: float,
) -> Recalled:
    """A supervisor calls the agent back to the phones, as the guard would: their open offers
    are withdrawn, their window ends, and nothing new is offered for ``hold_seconds``."""
    agent = await acd_store.agent_acd(db, agent_id)
    if agent is None:
        raise NotFound("agent", agent_id)
    until = now + timedelta(seconds=hold_seconds)
    withdrawn = await acd_store.recall(db, agent_id, agent.group, by, reason, until)
    working = [t for t in await Views(db).work_of(agent_id) if t.status == "in_progress"]
    return Recalled(
        agent_id,
        agent.group,
        agent.mode,
        until,
        withdrawn,
        working,
        await acd_store.last_command(db, agent_id),
    )

"""An agent asking for work, or given work by a supervisor: the one way in, for the API and
for Slack.

The request is honoured unless a supervisor has paused blending, the real-time guard has
recalled the agent or holds their staffing group's offers, or the telephony feeds know the
agent is on a call or wrapping one up: then the phones come first and nothing is offered. A
supervisor may still give such an agent a task, by saying so; the override is recorded.

Every pull is fitted to the agent's time (:func:`blending.budget.budget`): the rest of the
window the engine granted them, never past their next break or the end of their shift. Minutes
named in the request are honoured within those bounds, also when the engine granted no window
(a pull a supervisor arranged; the guard and recalls hold all the same); a request without
minutes and without a window is refused, with the engine's reason.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

from blending.budget import budget
from blending.decision_store import guard_for, recalled, shift_of, why_no_window, window_of
from blending.switch import BlendingState
from blending.telemetry_store import TelemetryStore
from queues.db import Executor
from queues.dispatch import Dispatcher, DispatchSettings, NoOffer, Offer
from queues.errors import AgentNeeded
from queues.lifecycle import Lifecycle
from queues.matching import Budget
from queues.models import TaskOut

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
) -> Offer | NoOffer:
    """The agent's work back, or an offer that fits their time, or why not. ``minutes``: the
    time named in the request (None: the engine's window); ``zone`` is the center's, for the
    clock times the agent is told."""
    blending = await BlendingState(db).get()
    if not blending.on:
        return NoOffer(f"blending is paused by {blending.by or 'a supervisor'}: calls come first")
    asked_back = await recalled(db, [agent_id])
    if agent_id in asked_back:
        return NoOffer(f"calls are rising ({asked_back[agent_id]}): you are needed on the phones")
    holds = await guard_for(db, agent_id)
    if holds is not None:
        return NoOffer(holds.why())
    presence = await TelemetryStore(db).presence(now, [agent_id])
    state = None
    for item in presence.items:
        if item.agent_id == agent_id and item.state in ON_THE_PHONES:
            return NoOffer(f"you are {ON_THE_PHONES[item.state]} ({item.source}): calls come first")
        if item.agent_id == agent_id:
            state = item.state
    time = await time_for(db, agent_id, minutes, now, zone, state)
    return await Dispatcher(db, policy).next_for(agent_id, time, now)


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

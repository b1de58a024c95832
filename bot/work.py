"""An agent asking for work, or given work by a supervisor: the one way in, for the API and
for Slack.

The request is honoured unless a supervisor has paused blending, the real-time guard has
recalled the agent or holds their staffing group's offers, or the telephony feeds know the
agent is on a call or wrapping one up: then the phones come first and nothing is offered. A
supervisor may still give such an agent a task, by saying so; the override is recorded.
"""

from __future__ import annotations

from datetime import datetime

from blending.decision_store import guard_for, recalled
from blending.switch import BlendingState
from blending.telemetry_store import TelemetryStore
from queues.db import Executor
from queues.dispatch import Dispatcher, DispatchSettings, NoOffer, Offer
from queues.errors import AgentNeeded
from queues.lifecycle import Lifecycle
from queues.models import TaskOut

ON_THE_PHONES = {"on_call": "on a call", "after_call_work": "wrapping up a call"}


async def ask_for_work(
    db: Executor, agent_id: str, minutes: float | None, policy: DispatchSettings, now: datetime
) -> Offer | NoOffer:
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
    for item in presence.items:
        if item.agent_id == agent_id and item.state in ON_THE_PHONES:
            return NoOffer(f"you are {ON_THE_PHONES[item.state]} ({item.source}): calls come first")
    return await Dispatcher(db, policy).next_for(agent_id, minutes, now)


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

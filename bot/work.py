"""An agent asks for work: the one way in, for the API and for Slack.

The request is honoured unless a supervisor has paused blending, the real-time guard has
recalled the agent, or the telephony feeds know the agent is on a call or wrapping one up:
then the phones come first and nothing is offered.
"""

from __future__ import annotations

from datetime import datetime

from blending.decision_store import recalled
from blending.switch import BlendingState
from blending.telemetry_store import TelemetryStore
from queues.db import Executor
from queues.dispatch import Dispatcher, DispatchSettings, NoOffer, Offer

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
    presence = await TelemetryStore(db).presence(now, [agent_id])
    for item in presence.items:
        if item.agent_id == agent_id and item.state in ON_THE_PHONES:
            return NoOffer(f"you are {ON_THE_PHONES[item.state]} ({item.source}): calls come first")
    return await Dispatcher(db, policy).next_for(agent_id, minutes, now)

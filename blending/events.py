"""Normalized call and agent events: what every telephony source is turned into.

An event says what happened and when (``at``, timezone-aware); the source that sent it is
given alongside when it is recorded, and ``(source, event_id)`` identifies it, so that a
retried delivery is recognised. Agents are named by the source's own id of them (an Amazon
Connect agent ARN, a Twilio WorkerSid, a Genesys user id, an Asterisk queue member interface);
the roster maps those ids to agents.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

from queues.bounds import Instant, check_storable

Source = Literal["amazon_connect", "twilio", "genesys", "asterisk", "generic"]
SOURCES: tuple[Source, ...] = ("amazon_connect", "twilio", "genesys", "asterisk", "generic")

AgentState = Literal[
    "offline", "available", "on_call", "after_call_work", "break", "back_office", "unknown"
]
"""An agent's state. ``break`` covers every away state (lunch, training, meeting...);
``back_office`` is work handed out by this service (or the platform's back-office status);
``unknown`` is a silent source."""

TelephonyState = Literal[
    "offline", "available", "on_call", "after_call_work", "break", "back_office"
]
"""The states a telephony platform reports. ``back_office`` is the platform's not-routable
back-office status (activity, pause) that blendbot sets when it lends an agent in ``control``
mode: each adapter maps the status it is configured with to it (``telephony_adapters.marks``)."""

Id = Annotated[str, Field(min_length=1, max_length=512)]
Seconds = Annotated[float, Field(ge=0, le=86_400 * 7)]
Count = Annotated[int, Field(ge=0, le=1_000_000)]


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: Id = Field(description="Unique within its source; a repeat is a retried delivery.")
    at: Instant = Field(description="When it happened, by the source's clock.")

    @model_validator(mode="after")
    def _only_storable_text(self) -> Self:
        for value in self.__dict__.values():
            if isinstance(value, str):
                check_storable(value)
        return self


class CallArrived(_Event):
    """A call entered a queue."""

    type: Literal["call_arrived"] = "call_arrived"
    queue: Id
    call_id: Id


class CallAnswered(_Event):
    """An agent took a queued call."""

    type: Literal["call_answered"] = "call_answered"
    queue: Id | None = None
    call_id: Id
    agent_id: Id | None = None
    wait_seconds: Seconds | None = Field(
        default=None, description="Time in queue, when the source says; else from arrival."
    )


class CallAbandoned(_Event):
    """The caller hung up while waiting in the queue."""

    type: Literal["call_abandoned"] = "call_abandoned"
    queue: Id | None = None
    call_id: Id
    wait_seconds: Seconds | None = None


class CallEnded(_Event):
    """An answered call is over (the agent may still be in after-call work)."""

    type: Literal["call_ended"] = "call_ended"
    queue: Id | None = None
    call_id: Id
    agent_id: Id | None = None
    talk_seconds: Seconds | None = None
    hold_seconds: Seconds | None = None
    wrap_seconds: Seconds | None = None


class AgentStateChanged(_Event):
    """An agent's state as the telephony platform sees it (a heartbeat repeats it)."""

    type: Literal["agent_state"] = "agent_state"
    agent_id: Id
    state: TelephonyState
    reason: Annotated[str, Field(max_length=500)] | None = Field(
        default=None, description="The platform's own name of the state, e.g. `Lunch`."
    )


class QueueSnapshot(_Event):
    """The live picture of one queue, as the platform reports it."""

    type: Literal["queue_snapshot"] = "queue_snapshot"
    queue: Id
    calls_waiting: Count | None = None
    longest_wait_seconds: Seconds | None = None
    agents_available: Count | None = None
    agents_on_calls: Count | None = None


CallEvent = CallArrived | CallAnswered | CallAbandoned | CallEnded
Event = Annotated[
    CallArrived | CallAnswered | CallAbandoned | CallEnded | AgentStateChanged | QueueSnapshot,
    Field(discriminator="type"),
]
EVENT_LIST: TypeAdapter[list[Event]] = TypeAdapter(list[Event])
EVENT: TypeAdapter[Event] = TypeAdapter(Event)


@dataclass(frozen=True)
class Rejected:
    """A record that cannot be used: set aside as it was received, with the reason."""

    where: str
    """Its place in the delivery, e.g. ``record 3``."""
    reason: str
    record: bytes


@dataclass
class Parsed:
    """What an adapter made of a payload: the events, the event types it does not use, and
    the records it could not read (each alone: the others are used)."""

    events: list[Event] = field(default_factory=list)
    ignored: Counter[str] = field(default_factory=Counter)
    rejected: list[Rejected] = field(default_factory=list)

    def extend(self, other: Parsed) -> None:
        self.events.extend(other.events)
        self.ignored.update(other.ignored)
        self.rejected.extend(other.rejected)

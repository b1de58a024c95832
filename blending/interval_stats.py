"""Interval statistics from call events: pure folding, no I/O.

Each call is folded from its events, in any order, into one :class:`Call`; a call counts in the
interval of its queue in which it arrived (so answered plus abandoned never exceeds offered).
When an event changes a call, the statistics change by the difference between what the call
contributed before and after, which makes late and out-of-order events exact, and concurrent
updates commutative.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, Field

from blending.events import CallAbandoned, CallAnswered, CallArrived, CallEnded, CallEvent

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def interval_start(at: datetime, minutes: int) -> datetime:
    """The start of the ``minutes``-long interval holding ``at`` (intervals divide the hour)."""
    seconds = minutes * 60
    offset = (at - _EPOCH).total_seconds()
    return _EPOCH + timedelta(seconds=offset - offset % seconds)


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    return a if b is None or a <= b else b


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    return a if b is None or a >= b else b


@dataclass(frozen=True)
class Call:
    """What is known of one call so far."""

    queue: str | None = None
    arrived_at: datetime | None = None
    answered_at: datetime | None = None
    abandoned_at: datetime | None = None
    ended_at: datetime | None = None
    agent_id: str | None = None
    wait_seconds: float | None = None
    talk_seconds: float | None = None
    hold_seconds: float | None = None
    wrap_seconds: float | None = None

    @property
    def answered(self) -> bool:
        return self.answered_at is not None or (
            self.ended_at is not None and self.agent_id is not None
        )

    @property
    def abandoned(self) -> bool:
        return self.abandoned_at is not None and not self.answered

    @property
    def is_open(self) -> bool:
        """Still waiting in the queue."""
        return (
            self.arrived_at is not None
            and self.answered_at is None
            and self.abandoned_at is None
            and self.ended_at is None
        )

    def wait(self) -> float | None:
        if self.wait_seconds is not None:
            return self.wait_seconds
        end = self.answered_at or self.abandoned_at
        if end is not None and self.arrived_at is not None and end >= self.arrived_at:
            return (end - self.arrived_at).total_seconds()
        return None

    def arrival(self) -> datetime | None:
        """When the call arrived: as reported, else inferred from a later event and its wait."""
        if self.arrived_at is not None:
            return self.arrived_at
        later = self.answered_at or self.abandoned_at
        if later is not None and self.wait_seconds is not None:
            return later - timedelta(seconds=self.wait_seconds)
        return _earliest(_earliest(self.answered_at, self.abandoned_at), self.ended_at)

    def talk(self) -> float | None:
        if self.talk_seconds is not None:
            return self.talk_seconds
        if self.answered_at is not None and self.ended_at is not None:
            talk = (self.ended_at - self.answered_at).total_seconds()
            return talk if talk >= 0 else None
        return None


def fold(call: Call, event: CallEvent) -> Call:
    """``call`` with one more event: times keep the earliest report, amounts the latest given."""
    queue = call.queue if call.queue is not None else event.queue
    if isinstance(event, CallArrived):
        return replace(call, queue=event.queue, arrived_at=_earliest(call.arrived_at, event.at))
    if isinstance(event, CallAnswered):
        return replace(
            call,
            queue=queue,
            answered_at=_earliest(call.answered_at, event.at),
            agent_id=event.agent_id or call.agent_id,
            wait_seconds=event.wait_seconds
            if event.wait_seconds is not None
            else call.wait_seconds,
        )
    if isinstance(event, CallAbandoned):
        return replace(
            call,
            queue=queue,
            abandoned_at=_earliest(call.abandoned_at, event.at),
            wait_seconds=call.wait_seconds if call.wait_seconds is not None else event.wait_seconds,
        )
    assert isinstance(event, CallEnded)
    return replace(
        call,
        queue=queue,
        ended_at=_latest(call.ended_at, event.at),
        agent_id=call.agent_id or event.agent_id,
        talk_seconds=event.talk_seconds if event.talk_seconds is not None else call.talk_seconds,
        hold_seconds=event.hold_seconds if event.hold_seconds is not None else call.hold_seconds,
        wrap_seconds=event.wrap_seconds if event.wrap_seconds is not None else call.wrap_seconds,
    )


@dataclass(frozen=True)
class Counts:
    """Additive statistics of one queue interval."""

    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    answered_in_sl: int = 0
    handled: int = 0
    handle_seconds: float = 0.0
    wait_seconds: float = 0.0

    def __add__(self, other: Counts) -> Counts:
        return Counts(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    def __neg__(self) -> Counts:
        return Counts(*(-getattr(self, f.name) for f in fields(self)))

    def is_zero(self) -> bool:
        return all(getattr(self, f.name) == 0 for f in fields(self))


Key = tuple[str, datetime]


def contribution(call: Call, minutes: int, sl_seconds: float) -> tuple[Key, Counts] | None:
    """Where ``call`` counts and what it adds there; ``None`` while its queue is unknown."""
    arrival = call.arrival()
    if call.queue is None or arrival is None:
        return None
    answered = call.answered
    wait = call.wait()
    handled = answered and call.ended_at is not None
    talk = call.talk() if handled else None
    handle = (talk or 0.0) + (call.hold_seconds or 0.0) + (call.wrap_seconds or 0.0)
    counts = Counts(
        offered=1,
        answered=int(answered),
        abandoned=int(call.abandoned),
        answered_in_sl=int(answered and wait is not None and wait <= sl_seconds),
        handled=int(handled),
        handle_seconds=handle if handled else 0.0,
        wait_seconds=(wait or 0.0) if answered else 0.0,
    )
    return (call.queue, interval_start(arrival, minutes)), counts


def deltas(
    changes: Iterable[tuple[Call, Call]], minutes: int, sl_seconds: float
) -> dict[Key, Counts]:
    """The change of every interval touched by calls going from ``before`` to ``after``."""
    out: dict[Key, Counts] = {}
    for before, after in changes:
        for call, sign in ((before, -1), (after, 1)):
            found = contribution(call, minutes, sl_seconds)
            if found is None:
                continue
            key, counts = found
            out[key] = out.get(key, Counts()) + (counts if sign > 0 else -counts)
    return {k: v for k, v in out.items() if not v.is_zero()}


def fold_all(
    calls: Mapping[tuple[str, str], Call], events: Iterable[tuple[str, CallEvent]]
) -> dict[tuple[str, str], Call]:
    """Fold ``(source, event)`` pairs into the calls they name, in time order."""
    out = dict(calls)
    for source, event in sorted(events, key=lambda pair: pair[1].at):
        key = (source, event.call_id)
        out[key] = fold(out.get(key, Call()), event)
    return out


class IntervalOut(BaseModel):
    """One queue interval's statistics."""

    queue: str
    interval_start: datetime
    minutes: int
    offered: int
    answered: int
    abandoned: int
    handled: int = Field(description="Answered calls that have ended.")
    aht_seconds: float | None = Field(description="Average handle time: talk, hold and wrap.")
    asa_seconds: float | None = Field(description="Average speed of answer.")
    service_level: float | None = Field(
        description="Answered within the target, over answered plus abandoned (0 to 1)."
    )
    imported: bool = Field(description="Set from an imported export rather than events.")
    updated_at: datetime


class QueueOut(BaseModel):
    """A queue's live picture: waiting calls from events, agents from the platform's report."""

    queue: str
    calls_waiting: int
    longest_wait_seconds: float | None
    agents_available: int | None
    agents_on_calls: int | None
    reported_by: str | None = Field(description="The source of the last queue report.")
    reported_at: datetime | None

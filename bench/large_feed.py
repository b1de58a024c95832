"""A large center's telephony feed, generated from a real center's day and replayed faster.

The arrival profile is the shipped one (``simulation.profile``: the Anonymous Bank's calls per
6-minute slot of a Monday, its handle times and its callers' patience), scaled to
``agents * calls_per_agent`` calls a day and spread over ``queues`` queues of unequal size
(Zipf weights: a few big queues, many small ones). A slice of that day, starting at
``start_minute``, is replayed ``speed`` times faster than real time: an event that happens
``s`` seconds into the slice is due ``s / speed`` seconds into the run.

Each call is the generic feed's events, as a platform sends them: ``call_arrived``; then
``call_abandoned`` (the caller's patience ran out first) or ``call_answered`` by an agent of the
queue with the agent's ``agent_state`` going ``on_call``; ``call_ended`` with the talk and wrap
times, ``after_call_work``, and ``available`` when the wrap is over. Events past the slice's end
are left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from simulation.profile import load_profile

WRAP_SECONDS = 30.0
MEAN_WAIT_SECONDS = 20.0
QUEUE_SKEW = 0.8
"""Zipf exponent of the queues' shares of the calls."""


@dataclass(frozen=True)
class FeedShape:
    agents: int
    queues: int
    minutes: float
    """Wall-clock length of the replay."""
    speed: float = 3.0
    calls_per_agent: float = 60.0
    """Calls a day per agent: voice agents answer about one every six to eight minutes."""
    start_minute: int | None = None
    """Minute of the day the slice starts at; none: the day's busiest hour starts it."""
    seed: int = 19

    @property
    def day_calls(self) -> float:
        return self.agents * self.calls_per_agent


@dataclass(frozen=True)
class Due:
    """One event, without its ``at``: the sender stamps it with the moment it is sent."""

    offset: float
    """Seconds into the run at which it is due."""
    event: dict[str, Any]


def day_shape() -> tuple[np.ndarray, float, float, float]:
    """Share of a day's calls in each minute (sums to 1), handle mean and sd, patience mean."""
    profile = load_profile()
    minutes = profile.per_minute(0)
    return minutes / minutes.sum(), profile.handle_mean, profile.handle_sd, profile.patience_mean


def busiest_hour(share: np.ndarray) -> int:
    """The first minute of the hour with the most calls."""
    hourly = np.convolve(share, np.ones(60), mode="valid")
    return int(hourly.argmax())


def slice_rate(shape: FeedShape) -> tuple[int, float, float]:
    """The slice's first minute, and its calls per second of the day's time: mean, busiest."""
    share, *_ = day_shape()
    start = shape.start_minute if shape.start_minute is not None else busiest_hour(share)
    day_minutes = max(1, round(shape.minutes * shape.speed))
    window = np.take(share, range(start, start + day_minutes), mode="wrap")
    per_second = window * shape.day_calls / 60
    return start, float(per_second.mean()), float(per_second.max())


def agent_id(n: int) -> str:
    return f"agent{n:04d}"


def generate(shape: FeedShape) -> list[Due]:
    """The slice's events in the order they are due."""
    share, handle_mean, handle_sd, patience_mean = day_shape()
    start, _, _ = slice_rate(shape)
    rng = np.random.default_rng(shape.seed)
    weights = 1 / np.arange(1, shape.queues + 1) ** QUEUE_SKEW
    weights /= weights.sum()
    per_queue = max(1, shape.agents // shape.queues)
    sigma = float(np.sqrt(np.log(1 + (handle_sd / handle_mean) ** 2)))
    mu = float(np.log(handle_mean) - sigma**2 / 2)
    length = shape.minutes * 60
    due: list[Due] = []

    def at(day_seconds: float, event: dict[str, Any]) -> None:
        offset = day_seconds / shape.speed
        if offset < length:
            due.append(Due(offset, event))

    calls = 0
    for minute in range(max(1, round(shape.minutes * shape.speed))):
        expected = share[(start + minute) % len(share)] * shape.day_calls
        for _ in range(int(rng.poisson(expected))):
            calls += 1
            call = f"c{calls}"
            queue = int(rng.choice(shape.queues, p=weights))
            name = f"queue{queue:03d}"
            arrived = 60 * (minute + float(rng.random()))
            wait = float(rng.exponential(MEAN_WAIT_SECONDS))
            patience = float(rng.exponential(patience_mean))
            at(arrived, {"type": "call_arrived", "queue": name, "call_id": call})
            if patience < wait:
                gone = {"queue": name, "call_id": call, "wait_seconds": round(patience, 1)}
                at(arrived + patience, {"type": "call_abandoned", **gone})
                continue
            agent = agent_id((queue * per_queue + int(rng.integers(per_queue))) % shape.agents)
            talk = min(3600.0, float(rng.lognormal(mu, sigma)))
            answered, ended = arrived + wait, arrived + wait + talk
            who = {"queue": name, "call_id": call, "agent_id": agent}
            at(answered, {"type": "call_answered", **who, "wait_seconds": round(wait, 1)})
            at(answered, {"type": "agent_state", "agent_id": agent, "state": "on_call"})
            times = {"talk_seconds": round(talk, 1), "wrap_seconds": WRAP_SECONDS}
            at(ended, {"type": "call_ended", **who, **times})
            state = {"type": "agent_state", "agent_id": agent}
            at(ended, {**state, "state": "after_call_work"})
            at(ended + WRAP_SECONDS, {**state, "state": "available"})
    due.sort(key=lambda d: d.offset)
    return [Due(d.offset, {"event_id": f"e{n}", **d.event}) for n, d in enumerate(due)]


def stamped(batch: list[Due], now: datetime) -> list[dict[str, Any]]:
    """The events as sent: each with ``at``, the moment it is sent (the run is real time,
    only the day is compressed), a microsecond apart so that their order survives."""
    return [
        {**d.event, "at": (now + timedelta(microseconds=n)).isoformat()}
        for n, d in enumerate(batch)
    ]

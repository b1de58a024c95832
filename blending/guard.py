"""The real-time guard: the live queue overrides the forecast.

Pure: each step takes the guard's state, what the queue looks like now and ``now``, and says
whether new offers may be made and how many lent agents to call back. Three modes:

* ``open``: lending as the plan says;
* ``hold``: calls are queueing: no new offers, nobody is recalled yet;
* ``recall``: the queue is past its thresholds: lent agents are called back, as many as the
  waiting calls need.

Hysteresis keeps it from flapping: it leaves ``hold`` or ``recall`` only after the queue has
been calm (nobody waiting, the recent service level back on target) for ``calm_seconds``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

Mode = Literal["open", "hold", "recall"]


@dataclass(frozen=True)
class GuardSettings:
    hold_waiting: int = 2
    """Calls waiting at which new offers stop."""
    recall_waiting: int = 4
    """Calls waiting at which lent agents are recalled."""
    recall_wait_seconds: float = 20.0
    """Longest wait at which lent agents are recalled (the service-level target, by default)."""
    recall_service_level: float = 0.6
    """Recent service level below which lent agents are recalled."""
    calm_seconds: float = 180.0
    """How long the queue must stay calm before lending resumes."""


@dataclass(frozen=True)
class LiveQueue:
    calls_waiting: int
    longest_wait_seconds: float = 0.0
    service_level: float | None = None
    """Share answered within target over the last few minutes; None when too few calls."""
    idle_agents: int = 0
    """Agents available for calls and not on one."""


@dataclass(frozen=True)
class GuardState:
    mode: Mode = "open"
    since: datetime | None = None
    calm_since: datetime | None = None


@dataclass(frozen=True)
class Verdict:
    state: GuardState
    offers_allowed: bool
    recall: int
    """How many more lent agents to call back now."""
    reason: str | None


def _trouble(live: LiveQueue, p: GuardSettings) -> str | None:
    if live.calls_waiting >= p.recall_waiting:
        return f"{live.calls_waiting} calls waiting"
    if live.calls_waiting and live.longest_wait_seconds >= p.recall_wait_seconds:
        return f"a caller has waited {live.longest_wait_seconds:.0f} s"
    if live.service_level is not None and live.service_level < p.recall_service_level:
        return f"service level {live.service_level:.0%} in the last minutes"
    return None


def tripped(live: LiveQueue, p: GuardSettings) -> tuple[str, ...]:
    """The thresholds (by setting name) that the live queue crosses, for the record."""
    crossed = [
        ("hold_waiting", live.calls_waiting >= p.hold_waiting),
        ("recall_waiting", live.calls_waiting >= p.recall_waiting),
        (
            "recall_wait_seconds",
            live.calls_waiting > 0 and live.longest_wait_seconds >= p.recall_wait_seconds,
        ),
        (
            "recall_service_level",
            live.service_level is not None and live.service_level < p.recall_service_level,
        ),
    ]
    return tuple(name for name, over in crossed if over)


def _calm(live: LiveQueue, p: GuardSettings) -> bool:
    recovered = live.service_level is None or live.service_level >= p.recall_service_level
    return live.calls_waiting == 0 and recovered


def guard_step(
    state: GuardState, live: LiveQueue, now: datetime, policy: GuardSettings | None = None
) -> Verdict:
    p = policy or GuardSettings()
    trouble = _trouble(live, p)
    if trouble is not None:
        entered = state if state.mode == "recall" else GuardState("recall", now, None)
        shortfall = max(1, live.calls_waiting - live.idle_agents)
        return Verdict(entered, False, shortfall, f"calls are rising: {trouble}")
    if state.mode == "open":
        if live.calls_waiting >= p.hold_waiting:
            held = GuardState("hold", now, None)
            return Verdict(held, False, 0, f"{live.calls_waiting} calls waiting: offers on hold")
        return Verdict(state, True, 0, None)
    if not _calm(live, p):
        return Verdict(replace(state, calm_since=None), False, 0, "waiting for the queue to clear")
    calm_since = state.calm_since or now
    if (now - calm_since).total_seconds() >= p.calm_seconds:
        return Verdict(GuardState("open", now, None), True, 0, None)
    return Verdict(replace(state, calm_since=calm_since), False, 0, "the queue is clearing")

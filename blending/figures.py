"""The figures behind a blending decision: what the engine saw when it lent, held or recalled.

Pure: :func:`figures_of` reads a group's inputs and its decision and says, in numbers, why: the
interval's forecast calls, the agents they need at the policy's bound, who is staffed, the
surplus, the reserve kept, who is lent already, the live queue, and which of the guard's
thresholds tripped. Each lend, hold and recall is recorded with them, so that a supervisor can
see afterwards what the decision rested on. Attribute docstrings document the API's fields.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, ClassVar

from pydantic import ConfigDict

from blending.guard import Mode, tripped
from blending.windows import UsableWindow

if TYPE_CHECKING:
    from blending.policy import AgentNow, BlendPolicy, GroupDecision, GroupNow


@dataclass(frozen=True)
class WindowFigures:
    """The window a lend was made in."""

    __pydantic_config__: ClassVar[ConfigDict] = ConfigDict(use_attribute_docstrings=True)

    start: datetime
    end: datetime
    """When the window is expected to close (the agent is wanted back on the phones)."""
    minutes: float
    confidence: float
    """Share of the window's intervals that keep enough agents even at the higher bound."""


@dataclass(frozen=True)
class Figures:
    """What one staffing group looked like to the engine when it decided."""

    __pydantic_config__: ClassVar[ConfigDict] = ConfigDict(use_attribute_docstrings=True)

    policy: str
    """The blending policy: `none`, `reserve_k`, `forecast` or `forecast_guard`."""
    bound: str
    """The forecast figure the calls are staffed for: `hi_80`, `hi_95` or `mean`."""
    interval_start: datetime | None = None
    """The forecast interval now; null without a forecast."""
    forecast_calls: float | None = None
    """Calls forecast for that interval (the group's queues together); null when unknown."""
    need: int | None = None
    """Agents the forecast calls need now at the bound; null when unknown or when no staffing
    meets the target."""
    staffed: int = 0
    """Agents on shift and not on a break now: idle, on calls and lent."""
    surplus: int = 0
    """Agents that may be away from the phones now: staffed - need - reserve (`reserve_k`: idle
    - k), never below 0; those already lent count against it."""
    reserve: int = 0
    """Agents kept for calls beyond the need (the safety margin, less the extra lent where
    calls pause work at once; `reserve_k`: k)."""
    lent: int = 0
    """Agents of the group already on back-office work (or holding an offer) before the round."""
    idle: int = 0
    """Agents of the group available for calls and not on one."""
    calls_waiting: int | None = None
    """Calls waiting in the group's queues; null when nothing reports on them."""
    longest_wait_seconds: float | None = None
    service_level: float | None = None
    """Share answered within the target over the last minutes; null with too few calls."""
    guard: Mode | None = None
    """The guard's mode after the decision (`forecast_guard` only)."""
    tripped: tuple[str, ...] = ()
    """The guard's thresholds the live queue crossed, by setting name: `hold_waiting`,
    `recall_waiting`, `recall_wait_seconds`, `recall_service_level`."""
    window: WindowFigures | None = None
    """On a lend: the window it was made in."""

    def with_window(self, window: UsableWindow) -> Figures:
        """These figures for one lend, in ``window``."""
        shown = WindowFigures(window.start, window.end, round(window.minutes, 1), window.confidence)
        return replace(self, window=shown)


def figures_of(
    policy: BlendPolicy,
    now: datetime,
    group: GroupNow,
    people: Sequence[AgentNow],
    decided: GroupDecision,
) -> Figures:
    """The figures behind ``decided``, the decision for ``group`` whose agents are ``people``."""
    current = next((n for n in group.ahead if n.start + timedelta(minutes=n.minutes) > now), None)
    idle = sum(1 for a in people if a.activity == "idle")
    staffed = len(people)
    if current is not None and current.staffed is not None:
        staffed = current.staffed
    need = current.required if current is not None else None
    if policy.name == "reserve_k":
        reserve = policy.k
        surplus = max(0, idle - policy.k)
    else:
        reserve = policy.windows.safety_margin
        if group.interruptible:
            reserve -= policy.interruptible_extra
        surplus = 0 if need is None else max(0, staffed - need - reserve)
    live = group.live
    guarded = policy.name == "forecast_guard"
    return Figures(
        policy=policy.name,
        bound=policy.bound,
        interval_start=current.start if current is not None else None,
        forecast_calls=current.calls if current is not None else None,
        need=need,
        staffed=staffed,
        surplus=surplus,
        reserve=reserve,
        lent=decided.lent,
        idle=idle,
        calls_waiting=live.calls_waiting if live is not None else None,
        longest_wait_seconds=live.longest_wait_seconds if live is not None else None,
        service_level=live.service_level if live is not None else None,
        guard=decided.guard.mode if guarded else None,
        tripped=tripped(live, policy.guard) if guarded and live is not None else (),
    )

"""Usable windows of agents' time: where a lull's surplus becomes chunks for named agents.

Pure: the caller passes the intervals ahead (how many agents the calls need, at the expected
load and at its upper bound), the agents available for calls with their shifts, breaks and
skills, what the waiting back-office work needs, and ``now``.

The j-th agent lent can stay away as long as every interval ahead has at least j agents to
spare, so window lengths fall out of the surplus profile: the first agent gets the longest
chunk, the next one a shorter or equal one, and so on. Chunks go to the agents who have had
least back-office time today (fairness), among those who can do some waiting work in that
time, and end at the agent's next break or the end of their shift.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass(frozen=True)
class IntervalNeed:
    start: datetime
    minutes: int
    required: int
    """Agents the calls need in this interval (from the forecast's upper bound, by default)."""
    required_high: int | None = None
    """Agents needed at a higher bound (e.g. 95%): the window's confidence is judged on it."""


@dataclass(frozen=True)
class AgentSlot:
    agent_id: str
    skills: Mapping[str, int]
    shift_end: datetime
    next_break: datetime | None = None
    minutes_today: float = 0.0


@dataclass(frozen=True)
class WorkNeed:
    """What one kind of waiting work needs: its skills and its (shortest) handle minutes."""

    skills: frozenset[str]
    minutes: float


@dataclass(frozen=True)
class WindowPolicy:
    safety_margin: int = 1
    """Agents kept for calls beyond what the forecast needs."""
    min_minutes: float = 10
    """A shorter chunk is not worth lending."""
    fit_margin: float = 1.2


@dataclass(frozen=True)
class UsableWindow:
    agent_id: str
    start: datetime
    end: datetime
    confidence: float
    """Share of the window's intervals that keep enough agents even at the higher bound."""

    @property
    def minutes(self) -> float:
        return (self.end - self.start).total_seconds() / 60


@dataclass
class WindowPlan:
    windows: list[UsableWindow] = field(default_factory=list)
    surplus_now: int = 0
    reason: str | None = None
    """Why nobody is lent, when nobody is."""


def surplus(available: int, need: IntervalNeed, margin: int) -> int:
    return max(0, available - need.required - margin)


def plan_windows(
    now: datetime,
    ahead: Sequence[IntervalNeed],
    available: Sequence[AgentSlot],
    work: Sequence[WorkNeed],
    policy: WindowPolicy | None = None,
) -> WindowPlan:
    """Chunks of time for named agents, longest first to whoever had least today."""
    p = policy or WindowPolicy()
    plan = WindowPlan()
    current = [n for n in ahead if n.start + timedelta(minutes=n.minutes) > now]
    if not current:
        plan.reason = "no forecast ahead: nobody is lent"
        return plan
    if not available:
        plan.reason = "no agent is available for calls"
        return plan
    staffed = len(available)
    spare = [surplus(staffed, n, p.safety_margin) for n in current]
    spare_high = [
        surplus(staffed, IntervalNeed(n.start, n.minutes, n.required_high), p.safety_margin)
        if n.required_high is not None
        else s
        for n, s in zip(current, spare, strict=True)
    ]
    plan.surplus_now = spare[0]
    if spare[0] == 0:
        plan.reason = "the calls need every available agent now"
        return plan
    shortest = min((w.minutes * p.fit_margin for w in work), default=None)
    if shortest is None:
        plan.reason = "no back-office work is waiting"
        return plan
    candidates = sorted(available, key=lambda a: (a.minutes_today, a.agent_id))
    for rank in range(1, spare[0] + 1):
        length = next((i for i, s in enumerate(spare) if s < rank), len(spare))
        end = current[length - 1].start + timedelta(minutes=current[length - 1].minutes)
        held = sum(1 for s in spare_high[:length] if s >= rank)
        for agent in candidates:
            stop = min(end, agent.shift_end, agent.next_break or end)
            minutes = (stop - now).total_seconds() / 60
            if minutes < p.min_minutes or minutes < shortest:
                continue
            if not any(
                all(agent.skills.get(s, 0) >= 1 for s in w.skills)
                and w.minutes * p.fit_margin <= minutes
                for w in work
            ):
                continue
            plan.windows.append(UsableWindow(agent.agent_id, now, stop, held / length))
            candidates.remove(agent)
            break
    if not plan.windows:
        plan.reason = f"no available agent can do waiting work in at least {p.min_minutes:g} min"
    return plan

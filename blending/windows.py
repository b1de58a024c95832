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
    required: int | None
    """Agents the calls need in this interval (from the forecast's upper bound, by default);
    None when no staffing meets the target: then nobody is spare."""
    required_high: int | None = None
    """Agents needed at a higher bound (e.g. 95%): the window's confidence is judged on it."""
    staffed: int | None = None
    """Agents on shift and not on a break in this interval (lent agents included); None: as
    many as now."""
    calls: float | None = None
    """The calls forecast for the interval (expected), for the record of a decision."""


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
class WindowSettings:
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


def fits_some_work(
    agent: AgentSlot, work: Sequence[WorkNeed], minutes: float, policy: WindowSettings
) -> bool:
    """Whether some waiting work needs only skills the agent has and fits in ``minutes``."""
    return any(
        all(agent.skills.get(s, 0) >= 1 for s in w.skills)
        and w.minutes * policy.fit_margin <= minutes
        for w in work
    )


def plan_windows(
    now: datetime,
    ahead: Sequence[IntervalNeed],
    available: Sequence[AgentSlot],
    work: Sequence[WorkNeed],
    policy: WindowSettings | None = None,
    *,
    lent: int = 0,
    staffed_now: int | None = None,
) -> WindowPlan:
    """Chunks of time for named agents, longest first to whoever had least today.

    ``available`` are the agents who could be lent now (idle, on shift); ``lent`` agents of the
    same group are out on back-office work already and take the first ranks of the surplus.
    ``staffed_now`` counts everyone on shift and not on a break (those on calls too); it
    stands for the intervals whose ``staffed`` is unknown.
    """
    p = policy or WindowSettings()
    plan = WindowPlan()
    current = [n for n in ahead if n.start + timedelta(minutes=n.minutes) > now]
    if not current:
        plan.reason = "no forecast ahead: nobody is lent"
        return plan
    now_staffed = len(available) + lent if staffed_now is None else staffed_now
    if current[0].staffed == 0 or now_staffed == 0:
        plan.reason = "no agent is on shift and available for calls"
        return plan

    def spare_at(n: IntervalNeed, required: int | None) -> int:
        if required is None:
            return 0
        staffed = now_staffed if n.staffed is None else n.staffed
        return max(0, staffed - required - p.safety_margin)

    spare = [spare_at(n, n.required) for n in current]
    spare_high = [
        s if n.required_high is None else spare_at(n, n.required_high)
        for n, s in zip(current, spare, strict=True)
    ]
    plan.surplus_now = spare[0]
    if spare[0] <= lent:
        plan.reason = (
            "the calls need every available agent now"
            if spare[0] == 0
            else f"the surplus of {spare[0]} is lent already"
        )
        return plan
    if not available:
        plan.reason = "no agent is free to lend"
        return plan
    shortest = min((w.minutes * p.fit_margin for w in work), default=None)
    if shortest is None:
        plan.reason = "no back-office work is waiting"
        return plan
    candidates = sorted(available, key=lambda a: (a.minutes_today, a.agent_id))
    for rank in range(lent + 1, spare[0] + 1):
        length = next((i for i, s in enumerate(spare) if s < rank), len(spare))
        end = current[length - 1].start + timedelta(minutes=current[length - 1].minutes)
        held = sum(1 for s in spare_high[:length] if s >= rank)
        for agent in candidates:
            stop = min(end, agent.shift_end, agent.next_break or end)
            minutes = (stop - now).total_seconds() / 60
            if minutes < p.min_minutes or minutes < shortest:
                continue
            if not fits_some_work(agent, work, minutes, p):
                continue
            plan.windows.append(UsableWindow(agent.agent_id, now, stop, held / length))
            candidates.remove(agent)
            break
    if not plan.windows:
        plan.reason = f"no available agent can do waiting work in at least {p.min_minutes:g} min"
    return plan


@dataclass(frozen=True)
class Lull:
    start: datetime
    end: datetime
    spare: int
    """Agents spare throughout (the least over the lull's intervals)."""


def lulls(ahead: Sequence[IntervalNeed], safety_margin: int = 0) -> list[Lull]:
    """Runs of intervals whose scheduled agents exceed the need: what a supervisor plans by."""
    out: list[Lull] = []
    run: list[tuple[IntervalNeed, int]] = []

    def close() -> None:
        if run:
            last = run[-1][0]
            end = last.start + timedelta(minutes=last.minutes)
            out.append(Lull(run[0][0].start, end, min(s for _, s in run)))
            run.clear()

    for n in ahead:
        spare = 0
        if n.required is not None and n.staffed is not None:
            spare = n.staffed - n.required - safety_margin
        if spare > 0:
            run.append((n, spare))
        else:
            close()
    close()
    return out

"""Match free windows of agents' time to open tasks, as one assignment problem.

Pure: the caller passes the windows, the candidate tasks, what each agent can do and has done,
and the handle-time estimates; ``now`` is not needed because priorities come computed. Solving
the whole round at once (scipy's ``linear_sum_assignment``) beats first-come greedy: an agent
who can do only one kind of work is not left idle because a more versatile colleague took it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment


@dataclass(frozen=True)
class Window:
    agent_id: str
    minutes: float


@dataclass(frozen=True)
class Budget:
    """The time one agent asking for work has for a new task."""

    minutes: float | None
    """None: no time for new work, and ``basis`` says why."""
    basis: str = ""
    """Where the time comes from, in words ("until your break at 14:30"); empty when the
    agent named the minutes."""


@dataclass(frozen=True)
class Candidate:
    task_id: int
    type: str
    step: int
    skills: frozenset[str]
    handle_minutes: float
    priority: float


@dataclass(frozen=True)
class AgentProfile:
    skills: Mapping[str, int]
    """Skill → proficiency, 1 to 5."""
    recent_types: Sequence[str] = ()
    """Task types the agent worked on lately, most recent first (for rotation)."""
    minutes_today: float = 0.0
    """Back-office minutes already given to this agent today (for fairness)."""


@dataclass(frozen=True)
class Weights:
    fit_margin: float = 1.2
    """Expected handle time times this must fit in the window."""
    rotation: float = 8.0
    """Penalty for the type the agent did last, halving for each older one."""
    fairness: float = 4.0
    """Penalty per hour of back-office work the agent already had today."""
    proficiency: float = 1.0
    """Bonus per proficiency level above 1 on the task's skills (experts get harder work)."""


@dataclass(frozen=True)
class Assignment:
    agent_id: str
    task_id: int
    score: float
    expected_minutes: float


@dataclass
class MatchResult:
    assignments: list[Assignment] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    """Agents whose window no candidate task fits."""


Estimate = Callable[[str, str, int, float], float]
"""(agent, type, step, the type's handle minutes) → this agent's expected minutes."""


def _as_is(agent: str, type_: str, step: int, minutes: float) -> float:
    return minutes


_INFEASIBLE = -1e12


def match(
    windows: Sequence[Window],
    candidates: Sequence[Candidate],
    agents: Mapping[str, AgentProfile],
    *,
    weights: Weights | None = None,
    estimate: Estimate = _as_is,
    excluded: Mapping[str, AbstractSet[int]] | None = None,
) -> MatchResult:
    """Give each window at most one task, maximising the total score; deterministic.

    ``excluded`` maps an agent to the tasks they must not be offered (skipped lately).
    """
    w = weights or Weights()
    windows = sorted(windows, key=lambda x: x.agent_id)
    # Tasks with the same requirements form a group; no round can use more of a group than
    # there are windows, so only its best len(windows) tasks are candidates.
    groups: dict[tuple[str, int, frozenset[str], float], list[Candidate]] = {}
    for task in sorted(candidates, key=lambda c: (-c.priority, c.task_id)):
        members = groups.setdefault((task.type, task.step, task.skills, task.handle_minutes), [])
        if len(members) < len(windows):
            members.append(task)
    result = MatchResult()
    if not windows or not groups:
        result.unmatched = [x.agent_id for x in windows]
        return result
    keys = list(groups)
    # Per (window, group): whether it fits, this agent's adjustment, and the expected minutes.
    adjust = np.full((len(windows), len(keys)), np.nan)
    minutes_of = np.zeros((len(windows), len(keys)))
    for i, window in enumerate(windows):
        profile = agents.get(window.agent_id)
        if profile is None:
            continue
        penalty_by_type: dict[str, float] = {}
        for age, type_ in enumerate(profile.recent_types[:6]):
            penalty_by_type.setdefault(type_, w.rotation / 2**age)
        fairness = w.fairness * profile.minutes_today / 60
        for g, (type_, step, skills, handle) in enumerate(keys):
            levels = [profile.skills.get(s, 0) for s in skills]
            if any(level < 1 for level in levels):
                continue
            minutes = estimate(window.agent_id, type_, step, handle)
            if minutes * w.fit_margin > window.minutes:
                continue
            bonus = w.proficiency * (sum(levels) / len(levels) - 1) if levels else 0.0
            adjust[i, g] = bonus - penalty_by_type.get(type_, 0.0) - fairness
            minutes_of[i, g] = minutes
    # A group can give at most one task to each window that fits it (plus the tasks some of
    # those windows must not get), so only that many of its best tasks are columns.
    fitting = (~np.isnan(adjust)).sum(axis=0)
    spare = sum(len(v) for v in (excluded or {}).values())
    kept = [groups[k][: int(n) + spare] if n else [] for k, n in zip(keys, fitting, strict=True)]
    tasks = [t for members in kept for t in members]
    if not tasks:
        result.unmatched = [x.agent_id for x in windows]
        return result
    group_of = np.repeat(np.arange(len(keys)), [len(m) for m in kept])
    priority = np.array([t.priority for t in tasks])
    index = {t.task_id: j for j, t in enumerate(tasks)}
    per_task = adjust[:, group_of]
    score = np.where(np.isnan(per_task), _INFEASIBLE, priority[None, :] + per_task)
    expected = minutes_of[:, group_of]
    for i, window in enumerate(windows):
        for task_id in (excluded or {}).get(window.agent_id, ()):
            column = index.get(task_id)
            if column is not None:
                score[i, column] = _INFEASIBLE
    rows, cols = linear_sum_assignment(score, maximize=True)
    matched = set()
    for i, j in zip(rows, cols, strict=True):
        if score[i, j] <= _INFEASIBLE / 2:
            continue
        matched.add(i)
        result.assignments.append(
            Assignment(
                windows[i].agent_id, tasks[j].task_id, float(score[i, j]), float(expected[i, j])
            )
        )
    result.unmatched = [x.agent_id for i, x in enumerate(windows) if i not in matched]
    return result

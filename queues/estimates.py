"""Handle-time estimates per (agent, task type, step), learnt from completed work.

An agent's own mean is shrunk toward the mean of everyone on that step, which is itself shrunk
toward the task type's configured handle time, each in proportion to how little has been seen:
``(n * own_mean + k * prior) / (n + k)``. A newcomer starts at the team's figure and moves to
their own as completions accumulate.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from queues.db import Executor

PRIOR_WEIGHT = 5.0
"""How many completions the prior counts for."""


@dataclass(frozen=True)
class Sample:
    agent_id: str
    type: str
    step: int
    completed: int
    total_seconds: float


def shrunk(completed: int, total_minutes: float, prior_minutes: float, k: float) -> float:
    return (total_minutes + k * prior_minutes) / (completed + k)


class Estimates:
    """Estimates from a snapshot of the ``handle_times`` table; pure once built."""

    def __init__(self, samples: Iterable[Sample], *, k: float = PRIOR_WEIGHT) -> None:
        self._k = k
        self._own: dict[tuple[str, str, int], tuple[int, float]] = {}
        team: dict[tuple[str, int], tuple[int, float]] = {}
        for s in samples:
            self._own[(s.agent_id, s.type, s.step)] = (s.completed, s.total_seconds / 60)
            n, total = team.get((s.type, s.step), (0, 0.0))
            team[(s.type, s.step)] = (n + s.completed, total + s.total_seconds / 60)
        self._team = team

    def team_minutes(self, type_: str, step: int, configured: float) -> float:
        n, total = self._team.get((type_, step), (0, 0.0))
        return shrunk(n, total, configured, self._k)

    def minutes(self, agent_id: str, type_: str, step: int, configured: float) -> float:
        """This agent's expected minutes on this step; ``configured`` is the type's figure."""
        prior = self.team_minutes(type_, step, configured)
        n, total = self._own.get((agent_id, type_, step), (0, 0.0))
        return shrunk(n, total, prior, self._k)


async def load_estimates(db: Executor, agents: list[str] | None = None) -> Estimates:
    rows = await db.fetch(
        "SELECT agent_id, type, step, completed, total_seconds FROM handle_times"
        " WHERE $1::text[] IS NULL OR (type, step) IN"
        " (SELECT type, step FROM handle_times WHERE agent_id = ANY ($1))",
        agents,
    )
    return Estimates(Sample(**dict(r)) for r in rows)

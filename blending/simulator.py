"""A SimPy contact center for scenario runs: calls, patience, agents, back-office work, policy.

This is the theory-check model: identical agents, one call queue served first come first
served, and a back-office backlog that agents draw from when the blending policy lends them.
With stationary Poisson calls, exponential times and ``reserve_k`` it is the chain of
:mod:`blending.threshold`, which the tests hold it to.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np
import simpy
from pydantic import BaseModel

from blending.intervals import read_arrivals_csv
from blending.scenario import Scenario

WEEK_SECONDS = 7 * 24 * 3600


class PolicyResult(BaseModel):
    service_level: float
    asa_seconds: float
    abandon_rate: float
    utilization: float
    backoffice_completed: int
    backoffice_sla_attainment: float | None
    backlog_end: int | None


@dataclass
class _Call:
    arrived: float
    answered: bool = False
    abandoned: bool = False


@dataclass
class _Stats:
    since: float
    offered: int = 0
    in_target: int = 0
    answered: int = 0
    abandoned: int = 0
    wait_total: float = 0.0
    busy_area: float = 0.0
    tasks_done: int = 0
    tasks_in_sla: int = 0
    batches: list[tuple[int, int]] = field(default_factory=list)
    """(offered, answered in target) per hour, for the sampling error of the service level."""
    task_hours: list[int] = field(default_factory=list)
    """Back-office tasks completed per hour."""


class _Center:
    def __init__(self, scenario: Scenario) -> None:
        self.s = scenario
        self.rng = np.random.default_rng(scenario.seed)
        self.env = simpy.Environment()
        self.handle = scenario.handle_seconds.sampler(self.rng)
        self.task_time = scenario.backoffice.task_seconds.sampler(self.rng)
        self.patience = (
            scenario.patience_seconds.sampler(self.rng) if scenario.patience_seconds else None
        )
        backlog = scenario.backoffice.backlog
        self.backlog: int | None = None if backlog == "unlimited" else int(backlog)
        self.task_arrivals: deque[float] = deque([0.0] * (self.backlog or 0))
        self.idle = scenario.agents
        self.busy = 0
        self.last_change = 0.0
        self.queue: deque[_Call] = deque()
        self.stats = _Stats(since=scenario.warmup_hours * 3600)
        self._hour = (0, 0)
        self.rates = self._rates()

    # -- arrivals -------------------------------------------------------------------------
    def _rates(self) -> np.ndarray:
        """Calls per second for each minute of the week."""
        spec = self.s.arrivals
        if spec.per_hour is not None:
            return np.full(7 * 1440, spec.per_hour * spec.scale / 3600)
        assert spec.profile is not None
        history = read_arrivals_csv(spec.profile)[0]
        per_slot = np.zeros((7, history.slots_per_day))
        counts = np.zeros(7)
        for day in range(history.complete_days()):
            if history.holidays[day]:
                continue
            weekday = history.day(day).weekday()
            per_slot[weekday] += history.calls[day]
            counts[weekday] += 1
        per_slot /= np.maximum(counts, 1)[:, None]
        per_minute = np.repeat(per_slot, history.interval_minutes, axis=1) / (
            history.interval_minutes * 60
        )
        return per_minute.reshape(-1) * spec.scale

    def arrivals(self) -> simpy.events.ProcessGenerator:
        """Non-homogeneous Poisson arrivals by thinning against the week's peak rate."""
        peak = float(self.rates.max())
        if peak <= 0:
            return
        while True:
            yield self.env.timeout(self.rng.exponential(1 / peak))
            minute = int(self.env.now % WEEK_SECONDS // 60)
            if self.rng.random() * peak <= self.rates[minute]:
                self.call_arrives()

    # -- agents ---------------------------------------------------------------------------
    def _set_busy(self, delta: int) -> None:
        now = self.env.now
        if now > self.stats.since:
            self.stats.busy_area += self.busy * (now - max(self.last_change, self.stats.since))
        self.last_change = now
        self.busy += delta

    def call_arrives(self) -> None:
        call = _Call(self.env.now)
        counted = call.arrived >= self.stats.since
        if counted:
            self.stats.offered += 1
        if self.idle:
            self.idle -= 1
            self._answer(call)
            return
        self.queue.append(call)
        if self.patience is not None:
            self.env.process(self._give_up(call, self.patience()))

    def _give_up(self, call: _Call, patience: float) -> simpy.events.ProcessGenerator:
        yield self.env.timeout(patience)
        if not call.answered:
            call.abandoned = True
            if call.arrived >= self.stats.since:
                self.stats.abandoned += 1
                self._tally(in_target=False)

    def _answer(self, call: _Call) -> None:
        call.answered = True
        wait = self.env.now - call.arrived
        if call.arrived >= self.stats.since:
            self.stats.answered += 1
            self.stats.wait_total += wait
            in_target = wait <= self.s.target.seconds
            self.stats.in_target += in_target
            self._tally(in_target)
        self._set_busy(+1)
        self.env.process(self._work(self.handle()))

    def _tally(self, in_target: bool) -> None:
        hour = int(self.env.now // 3600)
        while len(self.stats.batches) <= hour:
            self.stats.batches.append((0, 0))
        offered, good = self.stats.batches[hour]
        self.stats.batches[hour] = (offered + 1, good + in_target)

    def _work(
        self, seconds: float, task_arrived: float | None = None
    ) -> simpy.events.ProcessGenerator:
        yield self.env.timeout(seconds)
        self._set_busy(-1)
        if task_arrived is not None and self.env.now >= self.stats.since:
            self.stats.tasks_done += 1
            hour = int(self.env.now // 3600)
            while len(self.stats.task_hours) <= hour:
                self.stats.task_hours.append(0)
            self.stats.task_hours[hour] += 1
            sla = self.s.backoffice.sla_minutes
            if sla is not None and self.env.now - task_arrived <= sla * 60:
                self.stats.tasks_in_sla += 1
        self.agent_free()

    def agent_free(self) -> None:
        """A free agent takes the first waiting call, else back-office work if lent, else idles."""
        while self.queue:
            call = self.queue.popleft()
            if not call.abandoned:
                self._answer(call)
                return
        if self.may_lend(self.idle + 1) and self._take_task():
            return
        self.idle += 1

    def may_lend(self, idle_with_me: int) -> bool:
        policy = self.s.policy
        if policy.name == "none":
            return False
        assert policy.k is not None
        return idle_with_me > policy.k

    def _take_task(self) -> bool:
        if self.backlog is None:
            arrived = self.env.now
        elif self.task_arrivals:
            arrived = self.task_arrivals.popleft()
        else:
            return False
        self._set_busy(+1)
        self.env.process(self._work(self.task_time(), arrived))
        return True

    def start(self) -> None:
        for _ in range(self.s.agents):
            self.idle -= 1
            self.agent_free()
        self.env.process(self.arrivals())


@dataclass(frozen=True)
class Simulation:
    result: PolicyResult
    hourly_service_level: list[float]
    """The service level of each measured hour: batch means, for the sampling error."""
    hourly_tasks: list[int]


def run(scenario: Scenario) -> Simulation:
    """Run the scenario and measure it after the warm-up."""
    center = _Center(scenario)
    center.start()
    end = scenario.hours * 3600
    center.env.run(until=end)
    center._set_busy(0)
    stats = center.stats
    measured = end - stats.since
    offered = max(stats.offered, 1)
    sla = scenario.backoffice.sla_minutes
    result = PolicyResult(
        service_level=stats.in_target / offered,
        asa_seconds=stats.wait_total / max(stats.answered, 1),
        abandon_rate=stats.abandoned / offered,
        utilization=stats.busy_area / (scenario.agents * measured),
        backoffice_completed=stats.tasks_done,
        backoffice_sla_attainment=(
            stats.tasks_in_sla / stats.tasks_done if sla is not None and stats.tasks_done else None
        ),
        backlog_end=None if center.backlog is None else len(center.task_arrivals),
    )
    first = int(stats.since // 3600) + 1
    hourly = [good / n for n, good in stats.batches[first:] if n]
    tasks = stats.task_hours[first : int(end // 3600)]
    return Simulation(result, hourly, tasks)


def simulate(scenario: Scenario) -> PolicyResult:
    return run(scenario).result

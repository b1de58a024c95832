"""Scenario runs: the simulated center under a blending policy, with the policy code alone.

No database: the back-office backlog is kept in memory and a lent agent starts a task the
moment the policy lends them, and stops it the moment it recalls them. With stationary
Poisson calls, exponential times and ``reserve_k`` this is the chain of
:mod:`tests.support.threshold`, which the tests hold it to. The forecast policies see a perfect
forecast: the scenario's own arrival rate.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import numpy as np
from pydantic import BaseModel

from blending.errors import BlendingError
from blending.guard import GuardState, LiveQueue
from blending.intervals import read_arrivals_csv
from blending.policy import Activity, AgentNow, BlendPolicy, GroupNow, decide
from blending.staffing import agents_needed
from blending.windows import AgentSlot, IntervalNeed, WorkNeed
from simulation.center import CallStream, Center, Shift, SimAgent, Work, draw_calls
from simulation.scenario import Scenario

WEEK_MINUTES = 7 * 1440
EPOCH = datetime(2000, 1, 3, tzinfo=UTC)
"""Scenario time zero: a Monday at midnight, so that a weekly profile lines up."""


class PolicyResult(BaseModel):
    service_level: float
    asa_seconds: float
    abandon_rate: float
    utilization: float
    backoffice_completed: int
    backoffice_sla_attainment: float | None
    backlog_end: int | None


def weekly_rates(scenario: Scenario) -> np.ndarray:
    """Calls per minute for each minute of the week."""
    spec = scenario.arrivals
    if spec.per_hour is not None:
        return np.full(WEEK_MINUTES, spec.per_hour * spec.scale / 60)
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
    per_minute = np.repeat(per_slot, history.interval_minutes, axis=1) / history.interval_minutes
    return per_minute.reshape(-1) * spec.scale


class MemoryBackoffice:
    """The controller of a scenario run: the policy's decisions, carried out at once."""

    def __init__(self, scenario: Scenario, rates: np.ndarray, rng: np.random.Generator) -> None:
        self.s = scenario
        self.policy: BlendPolicy = scenario.policy.blend_policy()
        self.rates = rates
        self.task_time = scenario.backoffice.task_seconds.sampler(rng)
        backlog = scenario.backoffice.backlog
        self.arrivals: deque[float] | None = (
            None if backlog == "unlimited" else deque([0.0] * int(backlog))
        )
        sla = scenario.backoffice.sla_minutes
        self.sla_seconds = None if sla is None else sla * 60
        self.work = [WorkNeed(frozenset(), scenario.backoffice.task_seconds.mean / 60)]
        self.guard = GuardState()
        self.center: Center
        self._ids = 0
        self._busy = False
        self._views: dict[str, tuple[tuple[str, int], AgentNow]] = {}

    def attach(self, center: Center) -> None:
        self.center = center

    def wake(self) -> None:
        self._round()

    def tick(self) -> None:
        self._round()

    def work_done(self, agent: SimAgent, work: Work) -> None:
        return None

    def call_routed(self, agent: SimAgent) -> None:
        return None

    def interrupted(self, agent: SimAgent, work: Work) -> None:
        return None

    def backlog(self) -> int | None:
        return None if self.arrivals is None else len(self.arrivals)

    def _take(self) -> Work | None:
        if self.arrivals is None:
            arrived = self.center.now
        elif self.arrivals:
            arrived = self.arrivals.popleft()
        else:
            return None
        self._ids += 1
        due = None if self.sla_seconds is None else arrived + self.sla_seconds
        return Work(self._ids, self.task_time(), arrived=arrived, due=due)

    def _round(self) -> None:
        if self._busy or self.policy.name == "none":
            return
        idle = len(self.center.idle)
        if self.policy.name != "forecast_guard" and (
            not idle or (self.policy.name == "reserve_k" and idle <= self.policy.k)
        ):
            return  # nobody to lend: the decision would say so
        self._busy = True  # starting and pausing work frees agents, which wakes us again
        try:
            self._decide_and_act()
        finally:
            self._busy = False

    def _decide_and_act(self) -> None:
        c = self.center
        now = EPOCH + timedelta(seconds=c.now)
        agents = [self._view(a) for a in c.agents.values() if a.state in ("idle", "call", "task")]
        live = None
        if self.policy.name == "forecast_guard":
            live = LiveQueue(c.waiting, c.longest_wait(), c.recent_service_level(), len(c.idle))
        group = GroupNow("calls", self._ahead(now) if self.policy.name != "reserve_k" else (), live)
        decision = decide(self.policy, now, [group], agents, self.work, {"calls": self.guard})
        verdict = decision.groups["calls"]
        self.guard = verdict.guard
        for agent_id in verdict.recall:
            c.pause_work(c.agents[agent_id])
        for window in verdict.windows:
            agent = c.agents[window.agent_id]
            if agent.state != "idle":
                continue
            work = agent.paused.pop() if agent.paused else self._take()
            if work is None:
                return
            c.start_work(agent, work)

    def _view(self, agent: SimAgent) -> AgentNow:
        """The policy's view of an agent, made again only when it changed."""
        key = (agent.state, round(agent.backoffice_seconds / 60))
        cached = self._views.get(agent.agent_id)
        if cached is not None and cached[0] == key:
            return cached[1]
        activity: Activity = "lent" if agent.state == "task" else agent.state  # type: ignore[assignment]
        view = AgentNow(AgentSlot(agent.agent_id, {}, _FAR, None, key[1]), "calls", activity)
        self._views[agent.agent_id] = (key, view)
        return view

    def _ahead(self, now: datetime) -> list[IntervalNeed]:
        """A perfect forecast: the scenario's own rate."""
        minute = int((now - EPOCH).total_seconds() // 60)
        start = now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0)
        first = minute - minute % 15
        out = []
        for i in range(8):
            m = (first + 15 * i) % WEEK_MINUTES
            calls = float(self.rates[m : m + 15].sum())
            out.append(
                IntervalNeed(start + timedelta(minutes=15 * i), 15, self._need(round(calls, 3)))
            )
        return out

    @lru_cache(maxsize=4096)  # noqa: B019 - one controller per run; a few distinct rates
    def _need(self, calls: float) -> int | None:
        """Agents for the scenario's target: the rate is known, so every bound is the rate
        itself (Erlang's formula accounts for the Poisson spread of the calls)."""
        try:
            return agents_needed(
                calls,
                15,
                self.s.handle_seconds.mean,
                self.s.target.service_level,
                self.s.target.seconds,
            ).agents
        except BlendingError:
            return None


_FAR = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Simulation:
    result: PolicyResult
    hourly_service_level: list[float]
    """The service level of each measured hour: batch means, for the sampling error."""
    hourly_tasks: list[int]


def _calls(scenario: Scenario, rates: np.ndarray, rng: np.random.Generator) -> CallStream:
    minutes = math.ceil(scenario.hours * 60)
    per_minute = np.resize(rates, minutes)
    patience = scenario.patience_seconds
    return draw_calls(
        per_minute,
        lambda n: scenario.handle_seconds.draw(rng, n),
        None if patience is None else (lambda n: patience.draw(rng, n)),
        rng,
    )


def run(scenario: Scenario) -> Simulation:
    """Run the scenario and measure it after the warm-up."""
    rng = np.random.default_rng(scenario.seed)
    rates = weekly_rates(scenario)
    calls = _calls(scenario, rates, rng)
    controller = MemoryBackoffice(scenario, rates, rng)
    end = scenario.hours * 3600
    agents = [SimAgent(f"agent{i + 1}", shifts=[_always(end)]) for i in range(scenario.agents)]
    center = Center(
        agents,
        calls,
        controller,
        target_seconds=scenario.target.seconds,
        since=scenario.warmup_hours * 3600,
        interval_seconds=3600,
        horizon=end,
    )
    center.start()
    center.env.run(until=end)
    center.finish()
    t = center.tally
    measured = end - center.since
    offered = max(t.offered, 1)
    result = PolicyResult(
        service_level=t.in_target / offered,
        asa_seconds=t.wait_total / max(t.answered, 1),
        abandon_rate=t.abandoned / offered,
        utilization=(t.on_calls + t.on_tasks) / (scenario.agents * measured),
        backoffice_completed=t.tasks_done,
        backoffice_sla_attainment=(
            t.tasks_in_sla / t.tasks_done
            if scenario.backoffice.sla_minutes is not None and t.tasks_done
            else None
        ),
        backlog_end=controller.backlog(),
    )
    first = int(center.since // 3600) + 1
    last = int(end // 3600)
    hourly = [
        float(good / n)
        for n, good in zip(
            center.offered_by_interval[first:last],
            center.in_target_by_interval[first:last],
            strict=True,
        )
        if n
    ]
    tasks = [int(x) for x in center.tasks_by_interval[first:last]]
    return Simulation(result, hourly, tasks)


def _always(end: float) -> Shift:
    return Shift(0.0, end + 1.0)


def simulate(scenario: Scenario) -> PolicyResult:
    return run(scenario).result

"""The simulated contact center: calls, agents with shifts and breaks, and the ACD.

SimPy keeps the time. Calls come from a stream drawn beforehand, the same for every policy
(common random numbers make policies comparable on one seed). The ACD routes a call to the
agent idle longest, or queues it first come first served until an agent frees up or the
caller's patience runs out. An agent the platform holds not routable (``control`` mode: lent
to the back office) gets no calls while idle; in an ``interruptible`` center a call that finds
nobody idle goes to an agent on pausable back-office work, whose task is paused at once.
Agents follow their shifts and breaks; between calls a :class:`Controller` (a blending policy
and its back-office source) may send them to the back office, and may call them back.

It measures what the issue's table reports: service level (answered within the target over
all offered calls, abandoned ones included), ASA, abandonment, and utilization, which is
(talk + after-call work + back-office work) over staffed time (on shift, breaks excluded).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt
import simpy

FloatArray = npt.NDArray[np.float64]
State = Literal["off", "idle", "call", "task", "break"]
_STAFFED: frozenset[State] = frozenset({"idle", "call", "task"})


@dataclass(frozen=True)
class CallStream:
    arrivals: FloatArray
    """Arrival times in seconds, sorted."""
    handle: FloatArray
    patience: FloatArray | None


def draw_calls(
    per_minute: FloatArray,
    handle: Callable[[int], FloatArray],
    patience: Callable[[int], FloatArray] | None,
    rng: np.random.Generator,
) -> CallStream:
    """Non-homogeneous Poisson arrivals with rate ``per_minute[m]`` calls in minute ``m``
    (thinning of a homogeneous stream at the peak rate), with their handle times and
    patience."""
    horizon = len(per_minute) * 60.0
    peak = float(per_minute.max(initial=0.0)) / 60
    if peak <= 0:
        empty = np.zeros(0)
        return CallStream(empty, empty, None if patience is None else empty)
    times = np.sort(rng.uniform(0, horizon, rng.poisson(peak * horizon)))
    keep = rng.uniform(0, peak, len(times)) <= per_minute[(times // 60).astype(int)] / 60
    times = times[keep]
    n = len(times)
    return CallStream(times, handle(n), None if patience is None else patience(n))


@dataclass(frozen=True)
class Shift:
    start: float
    end: float
    breaks: tuple[tuple[float, float], ...] = ()


@dataclass
class Work:
    """A back-office task in an agent's hands."""

    task_id: int
    seconds_left: float
    type: str = "backoffice"
    pausable: bool = True
    arrived: float = 0.0
    due: float | None = None
    end_at: float = 0.0
    token: int = 0


@dataclass
class SimAgent:
    agent_id: str
    skills: dict[str, int] = field(default_factory=dict)
    speed: float = 1.0
    """Back-office work takes this times its drawn time."""
    group: str = "calls"
    shifts: list[Shift] = field(default_factory=list)
    state: State = "off"
    shift: Shift | None = None
    after: Literal["break", "off"] | None = None
    """What the agent does once free: take a break that is due, or leave at shift end."""
    break_seconds: float = 0.0
    work: Work | None = None
    paused: list[Work] = field(default_factory=list)
    offered: int | None = None
    """A task offered and not yet claimed (the agent stays available for calls meanwhile)."""
    backoffice_seconds: float = 0.0
    routable: bool = True
    """Whether the platform routes calls to the agent (``control`` mode sets it)."""
    back_office: bool = False
    """Dedicated back-office staff: never routed a call, and never lent or recalled."""


@dataclass
class _Call:
    arrived: float
    handle: float
    answered: bool = False
    abandoned: bool = False


class Controller(Protocol):
    """The blending side: told when agents free up and work ends, it may lend and recall."""

    def attach(self, center: Center) -> None: ...

    def wake(self) -> None:
        """An agent became idle (and no call was waiting)."""

    def work_done(self, agent: SimAgent, work: Work) -> None: ...

    def call_routed(self, agent: SimAgent) -> None:
        """A call went to an agent who holds an offer."""

    def interrupted(self, agent: SimAgent, work: Work) -> None:
        """A call went to an agent on back-office work, which was paused for it."""

    def tick(self) -> None: ...


@dataclass
class Tally:
    """Counts and time integrals after the warm-up."""

    offered: int = 0
    in_target: int = 0
    answered: int = 0
    abandoned: int = 0
    wait_total: float = 0.0
    staffed: float = 0.0
    on_calls: float = 0.0
    on_tasks: float = 0.0
    tasks_done: int = 0
    tasks_in_sla: int = 0


class Center:
    def __init__(
        self,
        agents: Sequence[SimAgent],
        calls: CallStream,
        controller: Controller,
        *,
        target_seconds: float = 20.0,
        since: float = 0.0,
        interval_seconds: float = 900.0,
        horizon: float,
        tick_seconds: float = 30.0,
        interruptible: bool = False,
    ) -> None:
        self.env = simpy.Environment()
        self.agents = {a.agent_id: a for a in agents}
        self.calls = calls
        self.controller = controller
        self.target = target_seconds
        self.since = since
        self.horizon = horizon
        self.tally = Tally()
        self.idle: dict[str, SimAgent] = {}
        """Idle agents, longest idle first (insertion order)."""
        self.queue: deque[_Call] = deque()
        self.waiting = 0
        self._recent: deque[tuple[float, bool]] = deque()
        self._recent_good = 0
        self._counts = {"staffed": 0, "call": 0, "task": 0}
        self._last = 0.0
        self.interval_seconds = interval_seconds
        slots = int(np.ceil(horizon / interval_seconds))
        self.offered_by_interval = np.zeros(slots)
        self.handled_by_interval = np.zeros(slots)
        self.handle_by_interval = np.zeros(slots)
        self.in_target_by_interval = np.zeros(slots)
        self.abandoned_by_interval = np.zeros(slots)
        self.tasks_by_interval = np.zeros(slots)
        self._tick_seconds = tick_seconds
        self.interruptible = interruptible
        controller.attach(self)

    # -- plumbing -----------------------------------------------------------------------------
    @property
    def now(self) -> float:
        return float(self.env.now)

    def at(self, delay: float, action: Callable[[], None]) -> None:
        """Run ``action`` ``delay`` seconds from now."""
        self.env.timeout(max(0.0, delay)).callbacks.append(lambda _event: action())

    def _integrate(self) -> None:
        now = self.now
        start = max(self._last, self.since)
        if now > start:
            span = now - start
            self.tally.staffed += self._counts["staffed"] * span
            self.tally.on_calls += self._counts["call"] * span
            self.tally.on_tasks += self._counts["task"] * span
        self._last = now

    def _set(self, agent: SimAgent, state: State) -> None:
        self._integrate()
        old = agent.state
        if old in _STAFFED:
            self._counts["staffed"] -= 1
        if old in ("call", "task"):
            self._counts[old] -= 1
        if old == "idle":
            self.idle.pop(agent.agent_id, None)
        agent.state = state
        if state in _STAFFED:
            self._counts["staffed"] += 1
        if state in ("call", "task"):
            self._counts[state] += 1
        if state == "idle" and agent.routable:
            self.idle[agent.agent_id] = agent

    def _count(self, series: FloatArray, at: float, amount: float = 1.0) -> None:
        slot = int(at // self.interval_seconds)
        if slot < len(series):
            series[slot] += amount

    # -- calls --------------------------------------------------------------------------------
    def _arrive(self, i: int) -> None:
        c = self.calls
        call = _Call(float(c.arrivals[i]), float(c.handle[i]))
        counted = call.arrived >= self.since
        if counted:
            self.tally.offered += 1
        self._count(self.offered_by_interval, call.arrived)
        if self.idle:
            agent = next(iter(self.idle.values()))
            self._answer(agent, call)
        elif (busy := self._interruptible_agent()) is not None:
            work = self._stop_work(busy)
            self._answer(busy, call)
            self.controller.interrupted(busy, work)
        else:
            self.queue.append(call)
            self.waiting += 1
            if c.patience is not None:
                self.at(float(c.patience[i]), lambda: self._give_up(call))
        if i + 1 < len(c.arrivals):
            self.at(float(c.arrivals[i + 1]) - self.now, lambda: self._arrive(i + 1))

    def _interruptible_agent(self) -> SimAgent | None:
        """In an interruptible center, the agent on pausable back-office work longest."""
        if not self.interruptible:
            return None
        started = {
            a.agent_id: a.work.end_at - a.work.seconds_left
            for a in self.agents.values()
            if a.state == "task" and a.routable and a.work is not None and a.work.pausable
        }
        return self.agents[min(started, key=started.__getitem__)] if started else None

    def _give_up(self, call: _Call) -> None:
        if call.answered:
            return
        call.abandoned = True
        self.waiting -= 1
        if call.arrived >= self.since:
            self.tally.abandoned += 1
        self._settled(False)
        self._count(self.abandoned_by_interval, call.arrived)

    def _answer(self, agent: SimAgent, call: _Call) -> None:
        call.answered = True
        wait = self.now - call.arrived
        in_target = wait <= self.target
        if call.arrived >= self.since:
            self.tally.answered += 1
            self.tally.wait_total += wait
            self.tally.in_target += in_target
        self._settled(in_target)
        self._count(self.handled_by_interval, call.arrived)
        self._count(self.handle_by_interval, call.arrived, call.handle)
        if in_target:
            self._count(self.in_target_by_interval, call.arrived)
        self._set(agent, "call")
        if agent.offered is not None:
            self.controller.call_routed(agent)
        self.at(call.handle, lambda: self._free(agent))

    def next_call(self) -> _Call | None:
        while self.queue:
            call = self.queue.popleft()
            if not call.abandoned:
                self.waiting -= 1
                return call
        return None

    def longest_wait(self) -> float:
        while self.queue and self.queue[0].abandoned:
            self.queue.popleft()
        return self.now - self.queue[0].arrived if self.queue else 0.0

    def _settled(self, in_target: bool) -> None:
        self._recent.append((self.now, in_target))
        self._recent_good += in_target

    def recent_service_level(self, seconds: float = 600.0, least: int = 5) -> float | None:
        """Share answered within target of the calls settled in the last ``seconds``."""
        horizon = self.now - seconds
        while self._recent and self._recent[0][0] < horizon:
            self._recent_good -= self._recent.popleft()[1]
        if len(self._recent) < least:
            return None
        return self._recent_good / len(self._recent)

    # -- agents -------------------------------------------------------------------------------
    def _free(self, agent: SimAgent) -> None:
        """The agent finished something: leave, take a due break, a call, or stand by."""
        shift = agent.shift
        if agent.after == "off" or shift is None or self.now >= shift.end:
            agent.after = None
            self._leave(agent)
            return
        if agent.after == "break":
            agent.after = None
            self._take_break(agent)
            return
        call = None if agent.back_office else self.next_call()
        if call is not None:
            self._answer(agent, call)
            return
        self._set(agent, "idle")
        self.controller.wake()

    def _leave(self, agent: SimAgent) -> None:
        agent.shift = None
        self._set(agent, "off")

    def _back(self, agent: SimAgent) -> None:
        if agent.state == "break":
            self._set(agent, "idle")  # counted staffed again from now
            self._free(agent)

    def _start_shift(self, agent: SimAgent, shift: Shift) -> None:
        agent.shift = shift
        agent.after = None
        for start, end in shift.breaks:
            self.at(start - self.now, partial(self._break_due, agent, end - start))
        self.at(shift.end - self.now, lambda: self._end_shift(agent, shift))
        self._set(agent, "idle")
        self._free(agent)

    def _break_due(self, agent: SimAgent, seconds: float) -> None:
        """A break starts when due, or as soon as the agent finishes the call or task."""
        agent.break_seconds = seconds
        if agent.state == "idle":
            self._take_break(agent)
        elif agent.state in ("call", "task") and agent.after is None:
            agent.after = "break"

    def _take_break(self, agent: SimAgent) -> None:
        self._set(agent, "break")
        self.at(agent.break_seconds, lambda: self._back(agent))

    def _end_shift(self, agent: SimAgent, shift: Shift) -> None:
        if agent.shift is not shift:
            return
        if agent.state in ("idle", "break"):
            self._leave(agent)
        else:
            agent.after = "off"

    # -- back-office work, for the controller -------------------------------------------------
    def start_work(self, agent: SimAgent, work: Work) -> None:
        """Send an idle agent to a task (or back to a paused one)."""
        assert agent.state == "idle", agent.state
        work.token += 1
        work.end_at = self.now + work.seconds_left
        agent.work = work
        self._set(agent, "task")
        token = work.token
        self.at(work.seconds_left, lambda: self._work_ends(agent, work, token))

    def _work_ends(self, agent: SimAgent, work: Work, token: int) -> None:
        if agent.work is not work or work.token != token:
            return  # paused meanwhile
        agent.work = None
        agent.backoffice_seconds += work.seconds_left
        work.seconds_left = 0.0
        self._count(self.tasks_by_interval, self.now)
        if self.now >= self.since:
            self.tally.tasks_done += 1
            if work.due is None or self.now <= work.due:
                self.tally.tasks_in_sla += 1
        self.controller.work_done(agent, work)
        self._free(agent)

    def pause_work(self, agent: SimAgent) -> Work | None:
        """Call an agent back from their task; the task keeps what is left of it."""
        if agent.work is None or agent.state != "task":
            return None
        work = self._stop_work(agent)
        self._free(agent)
        return work

    def _stop_work(self, agent: SimAgent) -> Work:
        work = agent.work
        assert work is not None
        done = work.seconds_left - (work.end_at - self.now)
        agent.backoffice_seconds += done
        work.seconds_left = work.end_at - self.now
        work.token += 1
        agent.work = None
        agent.paused.append(work)
        return work

    def set_routable(self, agent: SimAgent, routable: bool) -> None:
        """The platform makes the agent routable or not; routable and idle, they take the
        call waiting longest."""
        if agent.routable == routable:
            return
        agent.routable = routable
        if agent.state != "idle":
            return
        if not routable:
            self.idle.pop(agent.agent_id, None)
            return
        call = self.next_call()
        if call is not None:
            self._answer(agent, call)
        else:
            self.idle[agent.agent_id] = agent

    # -- running ------------------------------------------------------------------------------
    def _ticks(self) -> simpy.events.ProcessGenerator:
        while True:
            self.controller.tick()
            yield self.env.timeout(self._tick_seconds)

    def add_shift(self, agent: SimAgent, shift: Shift) -> None:
        if shift.end > self.now:
            agent.shifts.append(shift)
            self.at(shift.start - self.now, partial(self._start_shift, agent, shift))

    def start(self) -> None:
        for agent in self.agents.values():
            shifts, agent.shifts = agent.shifts, []
            for shift in shifts:
                self.add_shift(agent, shift)
        if len(self.calls.arrivals):
            self.at(float(self.calls.arrivals[0]), lambda: self._arrive(0))
        self.env.process(self._ticks())

    def finish(self) -> None:
        self._integrate()

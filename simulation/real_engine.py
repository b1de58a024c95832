"""The simulator driving the real engine: forecasting, blending and matching on PostgreSQL.

The center (:mod:`simulation.center`) runs in SimPy; this controller is its back office, and
it is the service's own code: interval statistics are stored as they complete and the
forecast is refreshed from them (:mod:`blending.forecast_store`), shifts are planned from the
forecast, every decision is :func:`blending.policy.decide` and is carried out by
:func:`blending.decision_store.act` (matching rounds, offers, recalls), and virtual agents
act on the offers through an :class:`AgentActions` (the task lifecycle directly, or the Slack app).

The ACD mode is the service's too (``BLENDBOT_ACD_MODE``, :mod:`blending.acd`): in
``advisory`` a recalled agent comes back after a person's reaction to the Slack card; in
``control`` the state commands the database queues with each decision are sent by the
service's own outbox to a simulated platform (:mod:`simulation.phone_system`), which makes the
agent not routable, or routable again, after its command latency, and the recalled agent's
pausable work is paused by the service's step (:func:`blending.acd_store.work_for_phones`);
in ``interruptible`` the agent stays routable, a call that reaches them pauses their task, the
feed shows it, and the same step pauses the task and resumes it once the call is over.

SimPy is synchronous and the database is not: the driver steps SimPy one event at a time,
and after each step carries out, in order, the database work that the step asked for, with
the database's clock (:mod:`simulation.database_clock`) set to the simulated time first.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial
from typing import Protocol

import asyncpg
import numpy as np

from blending import acd_store, decision_store
from blending.acd import AcdModes, Mode
from blending.errors import BlendingError
from blending.events import AgentStateChanged, Parsed, TelephonyState
from blending.forecast_store import ForecastSettings, IntervalForecast, NoForecast, read, refresh
from blending.guard import GuardState, LiveQueue
from blending.policy import Activity, AgentNow, BlendPolicy, GroupNow, decide
from blending.snapshot import ForecastRow, required_agents
from blending.telemetry_store import IntervalRow, TelemetryStore
from blending.windows import AgentSlot, IntervalNeed, WorkNeed
from clock import Clock, FunctionClock
from queues.catalog import Catalog
from queues.db import Executor, load_queries
from queues.dispatch import DispatchSettings
from queues.errors import QueuesError
from queues.lifecycle import Lifecycle
from queues.models import AgentIn, TaskIn, TaskOut, TaskTypeIn
from queues.roster import Roster
from queues.tasks import Tasks
from queues.timers import TimerSettings, run_timers
from simulation.center import Center, Shift, SimAgent, Work
from simulation.database_clock import SimClock
from simulation.hindsight import Hindsight, hindsight, realized, work_by_interval
from simulation.phone_system import CommandLatency, PhoneSystem
from simulation.shifts import free_longest
from simulation.world import TASK_KINDS, RosterAgent, SimTask, World, plan_day
from telephony_adapters.control import AgentState
from telephony_adapters.control_outbox import WEBHOOK_FEED, ControlOutbox, Targets

QUEUE = "calls"
GROUP = "calls"
DAY = 86400.0
_SQL = load_queries("simulation", "results.sql")


class AgentActions(Protocol):
    """How a virtual agent acts on their work: each returns whether it took effect."""

    async def claim(self, task_id: int, agent_id: str) -> bool: ...

    async def skip(self, task_id: int, agent_id: str, reason: str) -> bool: ...

    async def complete(self, task_id: int, agent_id: str) -> bool: ...

    async def pause(self, task_id: int, agent_id: str) -> bool: ...

    async def resume(self, task_id: int, agent_id: str) -> bool: ...


class DirectActions:
    """The task lifecycle itself, as the API's handlers call it."""

    def __init__(self, db: Executor) -> None:
        self._lc = Lifecycle(db)

    async def _try(self, op: Awaitable[TaskOut]) -> bool:
        try:
            await op
        except QueuesError:
            return False
        return True

    async def claim(self, task_id: int, agent_id: str) -> bool:
        return await self._try(self._lc.claim(task_id, agent_id))

    async def skip(self, task_id: int, agent_id: str, reason: str) -> bool:
        return await self._try(self._lc.skip(task_id, agent_id, reason))

    async def complete(self, task_id: int, agent_id: str) -> bool:
        return await self._try(self._lc.complete(task_id, agent_id, "done", None))

    async def pause(self, task_id: int, agent_id: str) -> bool:
        return await self._try(self._lc.pause(task_id, agent_id, "recalled to the phones"))

    async def resume(self, task_id: int, agent_id: str) -> bool:
        return await self._try(self._lc.resume(task_id, agent_id))


Notify = Callable[[decision_store.Acted], Awaitable[None]]


@dataclass(frozen=True)
class EngineSettings:
    policy: BlendPolicy
    dispatch: DispatchSettings = field(default_factory=lambda: DispatchSettings(offer_seconds=90))
    timers: TimerSettings = field(default_factory=TimerSettings)
    forecast: ForecastSettings = field(
        default_factory=lambda: ForecastSettings(every_seconds=7200, new_intervals=10**6)
    )
    tick_seconds: float = 30.0
    timer_seconds: float = 120.0
    work_seconds: float = 600.0
    """How often the waiting work's needs are read again (they change slowly)."""
    claim_seconds: float = 12.0
    """Mean time a virtual agent takes to act on an offer or a recall."""
    skip_share: float = 0.05
    acd_mode: Mode = "advisory"
    """How blendbot acts on the platform (``BLENDBOT_ACD_MODE``)."""
    latency: CommandLatency = field(default_factory=CommandLatency)
    """The platform's command latency (``control`` mode)."""


@dataclass
class Timeline:
    """Per-interval figures for the report."""

    starts: list[datetime] = field(default_factory=list)
    forecast: list[float] = field(default_factory=list)
    required: list[int] = field(default_factory=list)
    scheduled: list[int] = field(default_factory=list)
    backlog: list[tuple[float, int]] = field(default_factory=list)
    lent: list[tuple[float, int]] = field(default_factory=list)
    recalls: int = 0
    offers: int = 0
    skips: int = 0
    recall_delays: list[float] = field(default_factory=list)
    """Seconds from the recall of an agent on pausable work to their being routable again."""
    interruptions: int = 0
    """Tasks a call paused in the center (``interruptible``)."""
    paused_for_phones: int = 0
    resumed_for_phones: int = 0
    """Tasks the service's step paused (for a call or a recall) and resumed after a call."""
    offered_types: dict[str, int] = field(default_factory=dict)
    """Offers made, by task type."""
    commands: int = 0
    """State commands the platform was sent (``control``)."""


class EngineBackoffice:
    """The center's controller: the engine on a database, run by :func:`drive`."""

    def __init__(
        self,
        db: Executor,
        world: World,
        roster: Sequence[RosterAgent],
        settings: EngineSettings,
        actions: AgentActions,
        *,
        notify: Notify | None = None,
        pool: asyncpg.Pool | None = None,
    ) -> None:
        self.db = db
        self.world = world
        self.roster = {r.agent_id: r for r in roster}
        if settings.acd_mode == "interruptible":
            # The simulated platform takes commands: work no call can pause may be lent, its
            # holder out of routing for it.
            policy = replace(settings.policy, interruptible_unpausable=True)
            settings = replace(settings, policy=policy)
        self.s = settings
        self.actions = actions
        self.notify = notify
        self.database_clock = SimClock(db, world.clock(0))
        self.clock: Clock = FunctionClock(lambda: world.clock(self.center.now))
        """The simulated time: the engine's, and the Slack app's when the run wires one."""
        self.rng = np.random.default_rng(world.seed + 1)
        self.center: Center
        self.jobs: deque[Callable[[], Awaitable[None]]] = deque()
        self.round_due = False
        self.guards: dict[str, GuardState] = {}
        self.ahead: list[IntervalForecast] = []
        self.forecast_problem: str | None = "no forecast yet"
        self.staffed_by_slot: dict[int, int] = {}
        self.facts: dict[int, SimTask] = {}
        self.open_tasks = 0
        self.work: list[WorkNeed] = []
        self.work_read_at = -math.inf
        self.timeline = Timeline()
        self._feeds = 0
        self._slot_seconds = world.spec.interval_minutes * 60
        self._target = (settings.forecast.target_sl, settings.forecast.target_seconds)
        self.modes = AcdModes(settings.acd_mode)
        self._recalled_at: dict[str, float] = {}
        """Agents recalled on pausable work, not yet back on the phones: since when."""
        self._recall_pauses: dict[str, int] = {}
        """Control: the task the service paused for each recalled agent."""
        self._interrupted: dict[str, Work] = {}
        """Interruptible: the work a call paused, by agent, until it is resumed."""
        self.on_wake: list[Callable[[], None]] = []
        """Told when an agent frees up and at every tick (dedicated staff ask for work)."""
        self.platform: PhoneSystem | None = None
        self.outbox: ControlOutbox | None = None
        self._outbox_due = False
        if settings.acd_mode in ("control", "interruptible"):
            if pool is None:
                raise BlendingError(f"{settings.acd_mode} mode needs a pool for the command outbox")
            self.platform = PhoneSystem(
                settings.latency,
                world.seed + 2,
                lambda: self.center.now,
                lambda delay, action: self.center.at(delay, action),
                self._platform_sets,
            )
            self.outbox = ControlOutbox(pool, Targets([self.platform]), clock=self.clock)

    # -- the controller's side of the center --------------------------------------------------
    def attach(self, center: Center) -> None:
        self.center = center

    def wake(self) -> None:
        self.round_due = self.s.policy.name != "none"
        for listener in self.on_wake:
            listener()
        for agent_id, work in list(self._interrupted.items()):
            agent = self.center.agents[agent_id]
            if agent.state == "idle":  # the call and its wrap-up are over
                del self._interrupted[agent_id]
                self.jobs.append(partial(self._after_call, agent, work))

    def tick(self) -> None:
        self.round_due = self.s.policy.name != "none"
        for listener in self.on_wake:
            listener()

    def work_done(self, agent: SimAgent, work: Work) -> None:
        self.jobs.append(lambda: self._complete(agent, work))

    def call_routed(self, agent: SimAgent) -> None:
        task_id, agent.offered = agent.offered, None
        if task_id is not None:
            self.jobs.append(lambda: self._skip(task_id, agent, "took a call"))

    def interrupted(self, agent: SimAgent, work: Work) -> None:
        self.timeline.interruptions += 1
        self._interrupted[agent.agent_id] = work
        self.jobs.append(partial(self._on_a_call, agent))

    @property
    def pending(self) -> bool:
        return self.round_due or bool(self.jobs) or self._outbox_due

    # -- the database work --------------------------------------------------------------------
    async def flush(self) -> None:
        """Carry out what the last step asked for: its jobs, then a round if one is due."""
        await self._jobs()
        if self.round_due:
            self.round_due = False
            await self._round()
            await self._jobs()
        if self._outbox_due and self.outbox is not None:
            self._outbox_due = False
            await self._on_time()
            await self.outbox.step()

    async def _jobs(self) -> None:
        if self.jobs:
            await self._on_time()
            self._outbox_due = self.outbox is not None
        while self.jobs:
            await self.jobs.popleft()()

    async def _on_time(self) -> None:
        await self.database_clock.set(self.clock.now())

    async def _complete(self, agent: SimAgent, work: Work) -> None:
        if await self.actions.complete(work.task_id, agent.agent_id):
            self.open_tasks -= 1

    async def _skip(self, task_id: int, agent: SimAgent, reason: str) -> None:
        self.timeline.skips += 1
        await self.actions.skip(task_id, agent.agent_id, reason)

    # -- a blending round ---------------------------------------------------------------------
    def _views(self, now: datetime) -> list[AgentNow]:
        c = self.center
        out = []
        for a in c.agents.values():
            if a.state not in ("idle", "call", "task") or a.shift is None or a.back_office:
                continue
            shift = a.shift
            later = [b for b, _ in shift.breaks if b > c.now]
            slot = AgentSlot(
                a.agent_id,
                a.skills,
                self.world.clock(shift.end),
                self.world.clock(min(later)) if later else None,
                a.backoffice_seconds / 60,
            )
            activity: Activity = (
                "lent" if a.state == "task" or a.offered is not None else a.state  # type: ignore[assignment]
            )
            work_end = self.world.clock(a.work.end_at) if a.work is not None else None
            pausable = a.work.pausable if a.work is not None else True
            out.append(AgentNow(slot, GROUP, activity, work_end, pausable))
        return out

    def _needs(self, now: datetime) -> list[IntervalNeed]:
        horizon = now + timedelta(minutes=self.s.policy.max_minutes)
        out = []
        for p in self.ahead:
            end = p.interval_start + timedelta(minutes=p.minutes)
            if end <= now:
                continue
            if p.interval_start >= horizon:
                break
            slot = int((p.interval_start - self.world.clock(0)).total_seconds() // 60)
            row = ForecastRow(
                QUEUE,
                p.interval_start,
                p.minutes,
                p.mean,
                p.aht_seconds or self.world.profile.handle_mean,
                p.agents,
                p.agents_high,
            )
            required = required_agents(row, self.s.policy, self._target)
            out.append(
                IntervalNeed(
                    p.interval_start,
                    p.minutes,
                    required,
                    p.agents_high,
                    self.staffed_by_slot.get(slot // self.world.spec.interval_minutes, 0),
                    p.mean,
                )
            )
        return out

    async def _round(self) -> None:
        c = self.center
        if self.s.policy.name == "none":
            return
        if c.now - self.work_read_at >= self.s.work_seconds:
            await self._on_time()
            self.work = await decision_store.waiting_work(self.db)
            self.work_read_at = c.now
        now = self.clock.now()
        live = LiveQueue(c.waiting, c.longest_wait(), c.recent_service_level(), len(c.idle))
        group = GroupNow(
            GROUP,
            self._needs(now),
            live,
            self.forecast_problem,
            interruptible=self.s.acd_mode == "interruptible",
        )
        decision = decide(self.s.policy, now, [group], self._views(now), self.work, self.guards)
        guards = {g.group: g.guard for g in decision.groups.values()}
        if not decision.windows and not decision.recalls and guards == self.guards:
            return
        await self._on_time()
        acted = await decision_store.act(self.db, decision, now, self.s.dispatch, self.guards)
        self._outbox_due = self.outbox is not None
        self.guards = guards
        if self.notify is not None:
            await self.notify(acted)
        for task in acted.offers:
            self._offered(task)
        for task in acted.resume:
            self._resumable(task)
        for agent_id in decision.recalls:
            self.timeline.recalls += 1
            agent = c.agents[agent_id]
            if agent.state == "task" and agent.work is not None and agent.work.pausable:
                self._recalled_at.setdefault(agent_id, c.now)
            mode = self.s.acd_mode
            if mode == "advisory":
                c.at(self._reaction(), partial(self._recalled, agent))
            elif mode == "interruptible":  # routable all along: a call pauses their work
                self._back_on_phones(agent)
            else:
                agent.offered = None  # withdrawn with the recall
        if self.s.acd_mode == "control" and decision.recalls:
            done = await acd_store.work_for_phones(self.db, self.modes)
            self.timeline.paused_for_phones += len(done.recalled)
            for task in done.recalled:
                self._recall_pauses[task.holder or ""] = task.id

    def _back_on_phones(self, agent: SimAgent) -> None:
        since = self._recalled_at.pop(agent.agent_id, None)
        if since is not None:
            self.timeline.recall_delays.append(self.center.now - since)

    # -- the platform (control and interruptible modes) ---------------------------------------
    def _platform_sets(self, agent_id: str, state: AgentState) -> None:
        """The platform applies a command: the agent's routing changes, and the feed says so."""
        c = self.center
        agent = c.agents[agent_id]
        self.timeline.commands += 1
        self.jobs.append(
            partial(self._feed, agent_id, "back_office" if state == "backoffice" else "available")
        )
        if state == "backoffice":
            c.set_routable(agent, False)
            return
        c.set_routable(agent, True)
        self._back_on_phones(agent)
        task_id = self._recall_pauses.pop(agent_id, None)
        work = agent.work
        if task_id is not None and agent.state == "task" and work and work.task_id == task_id:
            c.pause_work(agent)

    async def _feed(self, agent_id: str, state: TelephonyState) -> None:
        """What the platform's feed shows of the agent (the generic feed, by roster id)."""
        at = self.clock.now()
        self._feeds += 1
        event = AgentStateChanged(
            event_id=f"sim-{self._feeds}", at=at, agent_id=agent_id, state=state
        )
        store = TelemetryStore(self.db, interval_minutes=self.world.spec.interval_minutes)
        await store.record(WEBHOOK_FEED, Parsed(events=[event]), at)

    async def _on_a_call(self, agent: SimAgent) -> None:
        await self._feed(agent.agent_id, "on_call")
        await self._follow(await acd_store.work_for_phones(self.db, self.modes))

    async def _after_call(self, agent: SimAgent, work: Work) -> None:
        await self._feed(agent.agent_id, "available")
        await self._follow(await acd_store.work_for_phones(self.db, self.modes))

    async def _follow(self, done: acd_store.PhoneWork) -> None:
        """Carry out in the center what the service's step resumed: an idle holder goes back
        to the work; one who is busy again (a call, a break) has it paused again, as the feed
        would have it, until they are free."""
        self.timeline.paused_for_phones += len(done.interrupted)
        self.timeline.resumed_for_phones += len(done.resumed)
        for task in done.resumed:
            agent = self.center.agents.get(task.holder or "")
            work = (
                None
                if agent is None
                else next((w for w in agent.paused if w.task_id == task.id), None)
            )
            if agent is None or work is None:
                continue
            if agent.state == "idle":
                agent.paused.remove(work)
                self.center.start_work(agent, work)
            else:
                self._interrupted[agent.agent_id] = work
                await Lifecycle(self.db).pause(
                    task.id,
                    agent.agent_id,
                    acd_store.INTERRUPT_REASON,
                    actor="blendbot",
                    data={"interrupted_by": "call"},
                )

    def _reaction(self) -> float:
        return 2.0 + float(self.rng.exponential(self.s.claim_seconds))

    def _offered(self, task: TaskOut) -> None:
        agent = self.center.agents.get(task.holder or "")
        if agent is None:
            return
        self.timeline.offers += 1
        kinds = self.timeline.offered_types
        kinds[task.type] = kinds.get(task.type, 0) + 1
        agent.offered = task.id
        self.center.at(self._reaction(), lambda: self._react(agent, task.id))

    def _react(self, agent: SimAgent, task_id: int) -> None:
        if agent.offered != task_id:
            return  # gone meanwhile: a call came, or the offer lapsed
        if agent.state != "idle" or self.rng.random() < self.s.skip_share:
            agent.offered = None
            self.jobs.append(lambda: self._skip(task_id, agent, "not now"))
            return
        self.jobs.append(lambda: self._claim(agent, task_id))

    async def _claim(self, agent: SimAgent, task_id: int) -> None:
        agent.offered = None
        if agent.state != "idle" or not await self.actions.claim(task_id, agent.agent_id):
            return
        fact = self.facts[task_id]
        c = self.center
        due = fact.arrives + fact.kind.sla_minutes * 60
        work = Work(
            task_id,
            fact.seconds * agent.speed,
            fact.kind.name,
            fact.kind.pausable,
            fact.arrives,
            due,
        )
        c.start_work(agent, work)

    def _resumable(self, task: TaskOut) -> None:
        agent = self.center.agents.get(task.holder or "")
        if agent is None or agent.state != "idle":
            return
        work = next((w for w in agent.paused if w.task_id == task.id), None)
        if work is None:
            return
        agent.offered = task.id  # on the way back to it
        self.jobs.append(lambda: self._resume(agent, work))

    async def _resume(self, agent: SimAgent, work: Work) -> None:
        agent.offered = None
        if agent.state != "idle" or not await self.actions.resume(work.task_id, agent.agent_id):
            return
        agent.paused.remove(work)
        self.center.start_work(agent, work)

    def _recalled(self, agent: SimAgent) -> None:
        if agent.offered is not None:
            task_id, agent.offered = agent.offered, None
            self.jobs.append(lambda: self._skip(task_id, agent, "recalled to the phones"))
        if agent.state != "task":
            self._recalled_at.pop(agent.agent_id, None)  # back on the phones before reacting
        elif agent.work is not None and agent.work.pausable:
            self._back_on_phones(agent)
            work = self.center.pause_work(agent)
            if work is not None:
                self.jobs.append(lambda: self._pause(agent, work))

    async def _pause(self, agent: SimAgent, work: Work) -> None:
        await self.actions.pause(work.task_id, agent.agent_id)

    # -- the days -----------------------------------------------------------------------------
    def _later(self, at: float, job: Callable[[], Awaitable[None]]) -> None:
        """Queue ``job`` for the database at simulated time ``at``."""
        self.center.at(at - self.center.now, partial(self.jobs.append, job))

    def start(self) -> None:
        """Schedule the days, the timers and the arrivals of back-office work."""
        days = self.world.spec.days
        for d in range(days):
            self._later(d * DAY, partial(self._plan_day, d))
        every = self.s.forecast.every_seconds
        for k in range(1, int(days * DAY // every) + 1):
            if (k * every) % DAY:
                self._later(k * every, self._refresh)
        for i in range(1, int(days * DAY // self._slot_seconds) + 1):
            self._later(i * self._slot_seconds, partial(self._store_interval, i - 1))
        for k in range(1, int(days * DAY // self.s.timer_seconds) + 1):
            self._later(k * self.s.timer_seconds, self._timers)
        by_minute: dict[int, list[SimTask]] = {}
        for t in self.world.tasks:
            by_minute.setdefault(max(0, int(t.arrives // 60)), []).append(t)
        for minute, batch in sorted(by_minute.items()):
            self._later(minute * 60.0, partial(self._intake, batch))

    async def _intake(self, batch: list[SimTask]) -> None:
        # The work waiting at the start came before it: each is created at its own time on
        # the database's clock, so it counts as the arrivals of the days before the first
        # (and its share of the SLA used is what it is), not as the first day's.
        waiting = [t for t in batch if t.arrives < 0]
        for t in waiting:
            await self.database_clock.set(self.world.clock(t.arrives))
            await self._create([t])
        if waiting:
            await self._on_time()
        await self._create([t for t in batch if t.arrives >= 0])

    async def _create(self, batch: list[SimTask]) -> None:
        if not batch:
            return
        items = [
            TaskIn(
                source="simulation",
                external_id=t.external_id,
                type=t.kind.name,
                title=t.kind.name.replace("_", " "),
                customer_ref=f"CUST-{int(t.external_id[3:]) % 997:04d}",
                due_at=self.world.clock(t.arrives + t.kind.sla_minutes * 60),
            )
            for t in batch
        ]
        results = await Tasks(self.db).create_many(items, "simulation")
        for t, r in zip(batch, results, strict=True):
            if r.task is not None:
                self.facts[r.task.id] = t
                self.open_tasks += 1
        self.work_read_at = -math.inf
        self.round_due = True

    async def _refresh(self) -> None:
        now = self.clock.now()
        outcome = await refresh(self.db, now, self.s.forecast)
        error = outcome.get(QUEUE)
        try:
            found = await read(self.db, QUEUE, now - timedelta(minutes=60))
        except NoForecast as exc:
            self.forecast_problem = str(exc)
            return
        self.ahead = found.intervals
        self.forecast_problem = error if error and not self.ahead else None

    async def _plan_day(self, day: int) -> None:
        """At midnight: the day's forecast, and its shifts (planned weeks ahead) begin."""
        await self._refresh()
        start = self.world.clock(day * DAY)
        minutes = self.world.spec.interval_minutes
        slots = int(DAY // self._slot_seconds)
        points = {p.interval_start: p for p in self.ahead}
        tl = self.timeline
        for i in range(slots):
            p = points.get(start + timedelta(minutes=i * minutes))
            tl.starts.append(start + timedelta(minutes=i * minutes))
            tl.forecast.append(p.mean if p is not None else 0.0)
            tl.required.append((p.agents or 0) if p is not None else 0)
        f = self.s.forecast
        self._assign(plan_day(self.world, day, (f.target_sl, f.target_seconds, f.max_occupancy)))
        tl.scheduled += [self.staffed_by_slot.get(day * slots + i, 0) for i in range(slots)]

    def _assign(self, shifts: list[Shift]) -> None:
        """Give each shift to the agent free longest (one shift at a time per agent)."""
        c = self.center
        booked = {a.agent_id: a.shifts for a in c.agents.values() if not a.back_office}
        for shift in shifts:
            chosen = free_longest(booked, shift)
            if chosen is None:
                raise BlendingError("the roster is too small for the day's shifts")
            agent = c.agents[chosen]
            c.add_shift(agent, shift)
            first = int(shift.start // self._slot_seconds)
            last = math.ceil(shift.end / self._slot_seconds)
            for slot in range(first, last):
                at = slot * self._slot_seconds
                if not any(b <= at < e for b, e in shift.breaks):
                    self.staffed_by_slot[slot] = self.staffed_by_slot.get(slot, 0) + 1

    async def _store_interval(self, slot: int) -> None:
        c = self.center
        offered = int(c.offered_by_interval[slot])
        answered = int(c.handled_by_interval[slot])
        aht = c.handle_by_interval[slot] / answered if answered else None
        row = IntervalRow(
            QUEUE,
            self.world.clock(slot * self._slot_seconds),
            offered,
            answered,
            int(c.abandoned_by_interval[slot]),
            aht,
            int(c.in_target_by_interval[slot]),
        )
        store = TelemetryStore(self.db, interval_minutes=self.world.spec.interval_minutes)
        await store.import_intervals([row])
        self.timeline.backlog.append((c.now, self.open_tasks))
        self.timeline.lent.append((c.now, sum(1 for a in c.agents.values() if a.state == "task")))

    async def _timers(self) -> None:
        report = await run_timers(self.db, self.s.timers)
        for task_id, holder in report.escalated:
            agent = self.center.agents.get(holder or "")
            if agent is not None and agent.work is not None and agent.work.task_id == task_id:
                self.center.pause_work(agent)
                agent.paused = [w for w in agent.paused if w.task_id != task_id]
        for task_id, holder in report.expired:
            agent = self.center.agents.get(holder or "")
            if agent is not None and agent.offered == task_id:
                agent.offered = None
        # Paused too long: the task went back to the queue (or to the supervisors), so its
        # holder no longer has it to resume.
        for task_id, holder in report.returned + report.paused_escalated:
            agent = self.center.agents.get(holder or "")
            if agent is not None:
                agent.paused = [w for w in agent.paused if w.task_id != task_id]


async def prepare(
    db: Executor, world: World, roster: Sequence[RosterAgent], forecast: ForecastSettings
) -> None:
    """Task types, the roster, the history and the first forecast: what every run of the
    same world starts from (made once, in a template database)."""
    await SimClock(db, world.clock(0)).set(world.clock(0))
    catalog = Catalog(db)
    for kind in TASK_KINDS:
        body = TaskTypeIn(
            skills=kind.skills,
            sla_minutes=kind.sla_minutes,
            handle_minutes=kind.minutes,
            pausable=kind.pausable,
        )
        await catalog.put(kind.name, body)
    people = Roster(db)
    for i, r in enumerate(roster):
        body_in = AgentIn(name=r.name, skills=r.skills, slack_user_id=f"USIM{i + 1:05d}")
        await people.put(r.agent_id, body_in)
    aht = world.profile.handle_mean
    rows = [IntervalRow(QUEUE, at, int(n), int(n), 0, aht) for at, n in world.history]
    await TelemetryStore(db, interval_minutes=world.spec.interval_minutes).import_intervals(rows)
    await refresh(db, world.clock(0), forecast)


def roster_size(world: World, target: tuple[float, float, float] = (0.8, 20, 0.9)) -> int:
    """Enough agents for the busiest simulated day's shifts, with a few to spare."""
    if world.spec.roster is not None:
        return world.spec.roster
    return max(len(plan_day(world, d, target)) for d in range(world.spec.days)) + 2


async def drive(
    center: Center,
    controller: EngineBackoffice,
    end: float,
    progress: Callable[[float], None] | None = None,
) -> None:
    """Step the center to ``end``, carrying out the database work of each step."""
    env = center.env
    step = 0
    while env.peek() < end:
        env.step()
        if controller.pending:
            await controller.flush()
        step += 1
        if progress is not None and step % 2000 == 0:
            progress(center.now)
    env.run(until=end)
    center.finish()
    if progress is not None:
        progress(end)


async def results(
    db: Executor, center: Center, controller: EngineBackoffice, end: float
) -> dict[str, float | int | None]:
    """The issue's figures of one run; back-office SLA attainment is the share of the tasks
    due within the simulated time that were done by their due time."""
    t = center.tally
    offered = max(t.offered, 1)
    world = controller.world
    row = await db.fetchrow(_SQL["sla_attainment"], world.clock(0), world.clock(end))
    assert row is not None
    delays = controller.timeline.recall_delays
    bound = hindsight_of(center, controller)
    return {
        "service_level": t.in_target / offered,
        "asa_seconds": t.wait_total / max(t.answered, 1),
        "abandon_rate": t.abandoned / offered,
        "utilization": (t.on_calls + t.on_tasks) / t.staffed if t.staffed else 0.0,
        "backoffice_completed": t.tasks_done,
        "backoffice_sla_attainment": row["met"] / row["due"] if row["due"] else None,
        "backlog_end": int(await db.fetchval(_SQL["open_tasks"])),
        "recall_delay_seconds": float(np.mean(delays)) if delays else None,
        "hindsight_hours": bound.hours,
        "hindsight_spare_hours": bound.spare_hours,
        "hindsight_share": bound.share(t.on_tasks / 3600),
    }


def hindsight_of(center: Center, controller: EngineBackoffice) -> Hindsight:
    """The run's hindsight bound (:mod:`simulation.hindsight`): the world's realized calls,
    the agents its shifts staffed, the run's target and the callers' mean patience, and the
    back-office work as it arrived, at the roster's mean pace."""
    world, f = controller.world, controller.s.forecast
    minutes = world.spec.interval_minutes
    slots = len(center.offered_by_interval)
    calls, aht = realized(world.calls, slots, minutes, world.profile.handle_mean)
    staffed = [controller.staffed_by_slot.get(i, 0) for i in range(slots)]
    pace = float(np.mean([r.speed for r in controller.roster.values()]))
    work = work_by_interval(
        [t.arrives for t in world.tasks],
        [t.seconds * pace for t in world.tasks],
        slots,
        minutes,
    )
    return hindsight(
        calls,
        aht,
        staffed,
        interval_minutes=minutes,
        target_sl=f.target_sl,
        target_seconds=f.target_seconds,
        patience_seconds=world.profile.patience_mean,
        work_hours=work,
    )

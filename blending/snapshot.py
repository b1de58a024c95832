"""What a blending decision in the service sees: the stored forecasts, schedules, presence,
live queues and agents, read at once and put in the policy's terms.

Staffing groups: an agent who answers one named queue (``agents.queue``) is in that queue's
group, whose need is that queue's; agents with no queue set form one pooled group, whose need
is the sum of the queues no named group answers. An agent takes part when on shift and not on
a break (by their schedule; an agent with no schedule, while the feeds show them working)
and available, on a call, or on back-office work. :func:`assemble` is pure; :func:`snapshot`
reads the database.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from blending.errors import BlendingError
from blending.guard import LiveQueue
from blending.interval_stats import QueueOut
from blending.policy import Activity, AgentNow, BlendPolicy, GroupNow
from blending.presence import PresenceOut
from blending.schedule import ScheduleRow, shift_now
from blending.staffing import agents_needed
from blending.telemetry_store import TelemetryStore
from blending.windows import AgentSlot, IntervalNeed
from queues.db import Executor, load_queries

_SQL = load_queries("blending", "snapshot.sql")
POOLED = "all queues"
RECENT_SECONDS = 900.0
MIN_SETTLED = 5
"""A service level on fewer settled calls says nothing: it is left unknown."""
LIVE_HORIZON = timedelta(hours=1)
"""A queue with no report and no call seen for this long has no live figures."""
_ACTIVITY: dict[str, Activity] = {
    "available": "idle",
    "on_call": "on_call",
    "after_call_work": "on_call",
    "back_office": "lent",
}


def staffing_group(queue: str | None) -> str:
    """The staffing group of an agent who answers ``queue`` (none set: the pooled group)."""
    return queue or POOLED


@dataclass(frozen=True)
class AgentRow:
    agent_id: str
    queue: str | None
    skills: Mapping[str, int]
    minutes_today: float
    state: str
    """The presence state."""
    offered: bool = False
    work_end: datetime | None = None
    pausable: bool = True
    interruptible: bool = False
    """Whether the agent's staffing group is in interruptible mode."""


@dataclass(frozen=True)
class ForecastRow:
    queue: str
    start: datetime
    minutes: int
    mean: float
    aht_seconds: float | None
    agents: int | None
    agents_high: int | None


@dataclass(frozen=True)
class QueueLiveRow:
    queue: str
    calls_waiting: int
    longest_wait_seconds: float
    settled: int
    in_target: int
    live: bool
    """Whether anything reports on this queue now (a platform report, recent calls)."""


@dataclass
class Snapshot:
    groups: list[GroupNow] = field(default_factory=list)
    agents: list[AgentNow] = field(default_factory=list)


def _on_shift(
    entries: Sequence[ScheduleRow], now: datetime, horizon: datetime
) -> tuple[bool, datetime, datetime | None]:
    """(on shift now and not on a break, when the shift ends, when its next break starts)."""
    shift = shift_now(entries, now)
    if not shift.working or shift.shift_end is None:
        return False, now, None
    return True, min(shift.shift_end, horizon), shift.next_break


def required_agents(
    row: ForecastRow, policy: BlendPolicy, target: tuple[float, float]
) -> int | None:
    """Agents an interval's calls need at the policy's bound (None: no staffing meets it)."""
    if policy.bound == "hi_80":
        return row.agents
    if policy.bound == "hi_95":
        return row.agents_high
    if row.aht_seconds is None:
        return None
    if row.mean <= 0:
        return 0
    try:
        return agents_needed(row.mean, row.minutes, row.aht_seconds, *target).agents
    except BlendingError:
        return None


def assemble(
    now: datetime,
    policy: BlendPolicy,
    agents: Sequence[AgentRow],
    schedules: Sequence[ScheduleRow],
    forecasts: Sequence[ForecastRow],
    live: Sequence[QueueLiveRow],
    *,
    target: tuple[float, float] = (0.8, 20.0),
) -> Snapshot:
    """The policy's view of the center now (pure)."""
    horizon = now + timedelta(minutes=policy.max_minutes)
    by_agent: dict[str, list[ScheduleRow]] = defaultdict(list)
    for s in schedules:
        by_agent[s.agent_id].append(s)
    named = {a.queue for a in agents if a.queue}
    group_of = {a.agent_id: staffing_group(a.queue) for a in agents}
    snap = Snapshot()
    for a in agents:
        activity = _ACTIVITY.get(a.state)
        if a.offered and activity == "idle":
            activity = "lent"  # about to leave: counted as lent, not lent twice
        if activity is None:
            continue
        entries = by_agent.get(a.agent_id)
        if entries:
            working, shift_end, next_break = _on_shift(entries, now, horizon)
            if not working:
                continue
        else:
            shift_end, next_break = horizon, None
        slot = AgentSlot(a.agent_id, a.skills, shift_end, next_break, a.minutes_today)
        snap.agents.append(AgentNow(slot, group_of[a.agent_id], activity, a.work_end, a.pausable))
    queues_of: dict[str, list[str]] = defaultdict(list)
    for q in sorted({f.queue for f in forecasts} | {q.queue for q in live}):
        queues_of[q if q in named else POOLED].append(q)
    points: dict[str, list[ForecastRow]] = defaultdict(list)
    for f in forecasts:
        points[f.queue].append(f)
    lives = {q.queue: q for q in live}
    interruptible = {group_of[a.agent_id] for a in agents if a.interruptible}
    for group in sorted({g.group for g in snap.agents}):
        everyone = [a.agent_id for a in agents if group_of[a.agent_id] == group]
        needs = _group(
            group,
            queues_of.get(group, []),
            points,
            lives,
            {a: by_agent.get(a, []) for a in everyone},
            snap.agents,
            policy,
            target,
        )
        snap.groups.append(replace(needs, interruptible=group in interruptible))
    return snap


def _group(
    group: str,
    queues: Sequence[str],
    points: Mapping[str, Sequence[ForecastRow]],
    lives: Mapping[str, QueueLiveRow],
    schedules: Mapping[str, Sequence[ScheduleRow]],
    agents: Sequence[AgentNow],
    policy: BlendPolicy,
    target: tuple[float, float],
) -> GroupNow:
    """``schedules`` has every agent of the group, those away now included."""
    members = [a for a in agents if a.group == group]
    taking_part = {a.agent_id for a in members}
    if not queues:
        return GroupNow(group, (), None, f"no inbound queue is known for {group}")
    missing = [q for q in queues if not points.get(q)]
    if missing:
        return GroupNow(
            group, (), _live(queues, lives, members), f"no forecast yet for {', '.join(missing)}"
        )
    need: dict[datetime, int | None] = {}
    high: dict[datetime, int | None] = {}
    calls: dict[datetime, float] = {}
    minutes: dict[datetime, int] = {}
    for q in queues:
        for p in points[q]:
            r = required_agents(p, policy, target)
            before = need.get(p.start, 0)
            need[p.start] = None if r is None or before is None else before + r
            h, hb = p.agents_high, high.get(p.start, 0)
            high[p.start] = None if h is None or hb is None else hb + h
            minutes[p.start] = p.minutes
            calls[p.start] = calls.get(p.start, 0.0) + p.mean
    starts = sorted(need)
    staffed = _staffed(schedules, taking_part, starts)
    ahead = [
        IntervalNeed(start, minutes[start], need[start], high[start], count, calls[start])
        for start, count in zip(starts, staffed, strict=True)
    ]
    problem = None
    if ahead and ahead[0].required is None:
        problem = "no staffing meets the service target at the forecast calls: nobody is lent"
    return GroupNow(group, ahead, _live(queues, lives, members), problem)


def _staffed(
    schedules: Mapping[str, Sequence[ScheduleRow]],
    taking_part: set[str],
    starts: Sequence[datetime],
) -> list[int]:
    """Agents of the group on shift and not on a break at each of ``starts``; an agent
    without a schedule counts while taking part now."""
    counts = [0] * len(starts)
    for agent_id, entries in schedules.items():
        if not entries:
            if agent_id in taking_part:
                counts = [c + 1 for c in counts]
            continue
        shifts = [(e.start, e.end) for e in entries if e.kind == "shift"]
        breaks = [(e.start, e.end) for e in entries if e.kind == "break"]
        for i, at in enumerate(starts):
            if any(a <= at < b for a, b in shifts) and not any(a <= at < b for a, b in breaks):
                counts[i] += 1
    return counts


def _live(
    queues: Sequence[str], lives: Mapping[str, QueueLiveRow], members: Sequence[AgentNow]
) -> LiveQueue | None:
    rows = [lives[q] for q in queues if q in lives and lives[q].live]
    if not rows:
        return None
    settled = sum(r.settled for r in rows)
    return LiveQueue(
        calls_waiting=sum(r.calls_waiting for r in rows),
        longest_wait_seconds=max(r.longest_wait_seconds for r in rows),
        service_level=sum(r.in_target for r in rows) / settled if settled >= MIN_SETTLED else None,
        idle_agents=sum(1 for a in members if a.activity == "idle"),
    )


async def read_forecasts(db: Executor, now: datetime, horizon: datetime) -> list[ForecastRow]:
    """The forecast intervals from ``now`` to ``horizon``, for every queue."""
    return [
        ForecastRow(
            r["queue"],
            r["interval_start"],
            r["minutes"],
            r["mean"],
            r["aht_seconds"],
            r["agents"],
            r["agents_high"],
        )
        for r in await db.fetch(_SQL["forecasts"], now, horizon)
    ]


async def snapshot(
    db: Executor, now: datetime, policy: BlendPolicy, *, target: tuple[float, float] = (0.8, 20)
) -> Snapshot:
    """Read what a decision needs and assemble it."""
    store = TelemetryStore(db)
    horizon = now + timedelta(minutes=policy.max_minutes)
    presence = {p.agent_id: p for p in (await store.presence(now)).items}
    agents = [_agent_row(r, presence.get(r["agent_id"])) for r in await db.fetch(_SQL["agents"])]
    schedules = [
        ScheduleRow(r["agent_id"], r["kind"], r["starts_at"], r["ends_at"])
        for r in await db.fetch(_SQL["schedules"], now, horizon)
    ]
    forecasts = await read_forecasts(db, now, horizon)
    live = await live_queues(db, now, store)
    return assemble(now, policy, agents, schedules, forecasts, live, target=target)


async def live_queues(
    db: Executor, now: datetime, store: TelemetryStore | None = None
) -> list[QueueLiveRow]:
    """Each known queue now: calls waiting, the longest wait, and the calls settled (answered
    or abandoned) in the last :data:`RECENT_SECONDS`, with those answered within target."""
    queues = await (store or TelemetryStore(db)).queues(now)
    recent = {r["queue"]: r for r in await db.fetch(_SQL["recent_service"], now, RECENT_SECONDS)}
    return [_live_row(q, recent.get(q.queue), now) for q in queues]


def _agent_row(r: Any, presence: PresenceOut | None) -> AgentRow:
    return AgentRow(
        agent_id=r["agent_id"],
        queue=r["queue"],
        skills=r["skills"],
        minutes_today=float(r["minutes_today"]),
        state=presence.state if presence is not None else "unknown",
        offered=r["offered"],
        work_end=r["work_end"],
        pausable=r["pausable"] is not False,
        interruptible=bool(r["interruptible"]),
    )


def _live_row(q: QueueOut, recent: Any, now: datetime) -> QueueLiveRow:
    last_call = recent["last_call"] if recent is not None else None
    seen = last_call is not None and now - last_call < LIVE_HORIZON
    reported = q.reported_at is not None and now - q.reported_at < LIVE_HORIZON
    return QueueLiveRow(
        q.queue,
        q.calls_waiting,
        q.longest_wait_seconds or 0.0,
        int(recent["settled"]) if recent is not None else 0,
        int(recent["in_target"]) if recent is not None else 0,
        seen or reported,
    )

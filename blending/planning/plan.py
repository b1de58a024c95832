"""The plan, worked out from the forecast work, the hours agents are expected to give and the
open tasks. Pure: ``now`` and everything else passed in.

Work and hours meet per *skill set* (the skills a task step needs): an agent's hours go to
the skill sets they have every skill of, split in proportion to how much work each set has
over the plan (open and forecast), each type's over its SLA in days (the queue ranks tasks by
the share of their SLA used, so short deadlines draw the hours first), so that no hour is
counted twice. A site's plan (``shares``: its share of each set's work,
:mod:`blending.planning.share`) works its own agents' hours against that share of the
forecast work and of every open task's remaining hours. Each day:

* the backlog carries over: ``left = left + arriving - hours`` (never below nothing), per skill
  set; per type it is projected as the queue serves the work, each agent's hours going to the
  earliest deadlines among the sets they fit (:mod:`blending.planning.projection`, which also
  gives its band, from the arrivals' spread and the lulls');
* ``extra_hours`` is what must be added, earliest deadline first, so that by the end of each
  day every piece of work due by then is done: the open tasks by their due time, the
  arriving work by the end of the day before the one its due time falls in (its arrival day
  plus the type's SLA in days, less one);
* ``spare_hours`` is the hours left once the backlog is worked off.

The open tasks are worked earliest deadline first in each skill set's hours, piece by piece
in time, which tells when each is expected done and which will miss its due time. Work that
arrives meanwhile is not put ahead of them (the queue ranks by the share of the SLA used, so
a new task seldom passes an old one).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from blending.intervals import FloatArray
from blending.planning.arrivals import DailyBands
from blending.planning.model import (
    AgentSupply,
    Band,
    Miss,
    OpenTask,
    Plan,
    SkillDay,
    SkillPlan,
    Skills,
    TypeDay,
    TypeInfo,
    TypePlan,
)
from blending.planning.projection import Projected, daily_hours, due_in_days, project_band

MIN_LEFT = 0.1
"""A step worked longer than expected still has this share of its minutes left."""
EPS = 1e-9


@dataclass
class _Set:
    skills: Skills
    parts: list[tuple[str, int]] = field(default_factory=list)
    pull: float = 0.0
    """The set's claim on an agent's hours: its work over each type's SLA in days."""
    lull: FloatArray = field(default_factory=lambda: np.zeros(0))
    lull_low: FloatArray = field(default_factory=lambda: np.zeros(0))
    dedicated: FloatArray = field(default_factory=lambda: np.zeros(0))
    pieces: list[tuple[datetime, datetime, float]] = field(default_factory=list)


def local_days(now: datetime, zone: ZoneInfo, count: int) -> list[date]:
    today = now.astimezone(zone).date()
    return [today + timedelta(days=i) for i in range(count)]


def remaining_hours(task: OpenTask, info: TypeInfo) -> dict[int, float]:
    """Hours left per step of an open task: the rest of the current step, then the others."""
    out: dict[int, float] = {}
    for k, minutes in enumerate(info.step_minutes, start=1):
        if k < task.step:
            continue
        if k == task.step:
            minutes = max(minutes * MIN_LEFT, minutes - task.worked_seconds / 60)
        out[k] = minutes / 60
    return out


def build_plan(
    now: datetime,
    zone: ZoneInfo,
    days: int,
    types: Mapping[str, TypeInfo],
    arrivals: Mapping[str, DailyBands],
    supply: Sequence[AgentSupply],
    supply_low: Sequence[AgentSupply],
    backlog: Sequence[OpenTask],
    *,
    notes: Sequence[str] = (),
    max_misses: int = 100,
    shares: Mapping[Skills, float] | None = None,
    site: str | None = None,
) -> Plan:
    """``arrivals``: per type, the forecast for the plan's days (today's already scaled to
    what is left of it); ``shares``: the site's share of each skill set's work (None: all of
    it, the center's plan)."""

    def part(skills: Skills) -> float:
        return 1.0 if shares is None else shares.get(skills, 0.0)

    def left_of(task: OpenTask, info: TypeInfo) -> dict[int, float]:
        hours = remaining_hours(task, info).items()
        return {k: h * part(info.step_skills[k - 1]) for k, h in hours}

    calendar = local_days(now, zone, days)
    index = {d: i for i, d in enumerate(calendar)}
    work: dict[tuple[str, int], dict[str, FloatArray]] = {}
    left: dict[tuple[str, int], float] = defaultdict(float)
    sets: dict[Skills, _Set] = {}
    for info in types.values():
        bands = arrivals.get(info.name)
        for k, (skills, minutes) in enumerate(
            zip(info.step_skills, info.step_minutes, strict=True), start=1
        ):
            s = sets.setdefault(skills, _Set(skills))
            s.parts.append((info.name, k))
            work[(info.name, k)] = _scaled(bands, days, minutes / 60 * part(skills))
    open_due: dict[Skills, FloatArray] = defaultdict(lambda: np.zeros(days))
    by_type_left: dict[str, float] = defaultdict(float)
    for task in backlog:
        found = types.get(task.type)
        if found is None:
            continue
        info = found
        day = max(0, min(days - 1, _day_of(task.due_at, zone, calendar[0])))
        for k, hours in left_of(task, info).items():
            left[(task.type, k)] += hours
            by_type_left[task.type] += hours
            open_due[info.step_skills[k - 1]][day] += hours
    for s in sets.values():
        s.pull = sum(
            (left[p] + float(work[p]["mean"].sum())) / max(1.0, types[p[0]].sla_minutes / 1440)
            for p in s.parts
        )
        s.lull, s.lull_low, s.dedicated = np.zeros(days), np.zeros(days), np.zeros(days)
    _allocate(supply, sets, index, zone, low=False)
    _allocate(supply_low, sets, index, zone, low=True)

    skill_plans: list[SkillPlan] = []
    for skills, s in sorted(sets.items(), key=lambda kv: sorted(kv[0])):
        supplied: FloatArray = s.lull + s.dedicated
        arriving = sum((work[p]["mean"] for p in s.parts), np.zeros(days))
        due_mean, due_80 = open_due[skills].copy(), open_due[skills].copy()
        for name, k in s.parts:
            lag = _due_lag(types[name].sla_minutes)
            for d in range(days - lag):
                due_mean[d + lag] += work[(name, k)]["mean"][d]
                due_80[d + lag] += work[(name, k)]["hi_80"][d]
        extra, extra_80 = _extra(due_mean, supplied), _extra(due_80, supplied)
        carried = sum(left[p] for p in s.parts)
        spare = np.zeros(days)
        for d in range(days):
            used = min(supplied[d], carried + arriving[d])
            carried += arriving[d] - used
            spare[d] = supplied[d] - used
        skill_plans.append(
            SkillPlan(
                skills=sorted(skills),
                types=sorted({name for name, _ in s.parts}),
                share=round(part(skills), 4),
                days=[
                    SkillDay(
                        day=calendar[d],
                        lull_hours=_r(s.lull[d]),
                        lull_hours_low=_r(s.lull_low[d]),
                        dedicated_hours=_r(s.dedicated[d]),
                        workload_hours=_r(arriving[d]),
                        due_hours=_r(due_mean[d]),
                        extra_hours=_r(extra[d]),
                        extra_hours_80=_r(extra_80[d]),
                        spare_hours=_r(spare[d]),
                    )
                    for d in range(days)
                ],
            )
        )
    first = day_start(calendar[0], zone)
    open_work: dict[tuple[float, str, int], float] = defaultdict(float)
    for task in backlog:
        if task.type in types:
            due = round(due_in_days(task.due_at, first) * 24) / 24  # to the hour: bounded
            for k, hours in left_of(task, types[task.type]).items():
                open_work[(due, task.type, k)] += hours
    projected = project_band(
        types,
        work,
        [(due, name, k, h) for (due, name, k), h in open_work.items()],
        daily_hours(supply, index, zone, days),
        daily_hours(supply_low, index, zone, days),
        days,
    )
    type_plans = [
        _type_plan(
            info,
            arrivals.get(info.name),
            work,
            by_type_left,
            projected,
            calendar,
            [
                t
                for t in backlog
                if t.type == info.name and (shares is None or sum(left_of(t, info).values()) > EPS)
            ],
            1.0 if shares is None else type_share(info, shares),
        )
        for info in sorted(types.values(), key=lambda i: i.name)
    ]
    misses = _misses(backlog, types, sets, now, left_of)
    return Plan(
        generated_at=now,
        site=site,
        timezone=zone.key,
        days=calendar,
        types=type_plans,
        skills=skill_plans,
        misses=misses[:max_misses],
        notes=list(notes),
    )


def type_share(info: TypeInfo, shares: Mapping[Skills, float]) -> float:
    """A type's share: its steps' shares weighted by their minutes."""
    parts = [shares.get(s, 0.0) for s in info.step_skills]
    minutes = sum(info.step_minutes)
    if minutes <= EPS:
        return sum(parts) / len(parts) if parts else 0.0
    return sum(p * m for p, m in zip(parts, info.step_minutes, strict=True)) / minutes


def _scaled(bands: DailyBands | None, days: int, factor: float) -> dict[str, FloatArray]:
    keys = ("mean", "lo_80", "hi_80", "lo_95", "hi_95")
    if bands is None:
        return {k: np.zeros(days) for k in keys}
    return {k: np.asarray(getattr(bands, k)[:days], dtype=float) * factor for k in keys}


def _day_of(at: datetime, zone: ZoneInfo, first: date) -> int:
    return (at.astimezone(zone).date() - first).days


def _allocate(
    supply: Sequence[AgentSupply],
    sets: Mapping[Skills, _Set],
    index: Mapping[date, int],
    zone: ZoneInfo,
    *,
    low: bool,
) -> None:
    for agent in supply:
        fits = [s for skills, s in sets.items() if skills <= agent.skills]
        total = sum(s.pull for s in fits)
        if not fits or total <= EPS:
            continue
        for start, end, share in agent.pieces:
            d = index.get(start.astimezone(zone).date())
            if d is None:
                continue
            hours = share * (end - start).total_seconds() / 3600
            for s in fits:
                part = hours * s.pull / total
                if low:
                    s.lull_low[d] += part if not agent.dedicated else 0.0
                elif agent.dedicated:
                    s.dedicated[d] += part
                    s.pieces.append((start, end, part))
                else:
                    s.lull[d] += part
                    s.pieces.append((start, end, part))


def _due_lag(sla_minutes: int) -> int:
    """Days from arrival to the last day whose end the work must be done by: its due time
    falls in the day ``sla`` later at the time of day it came, so the whole day before is the
    day-grained safe side."""
    return max(0, math.ceil(sla_minutes / 1440) - 1)


def _extra(due: FloatArray, hours: FloatArray) -> FloatArray:
    """Hours to add each day so that the work due by the end of every day is done by then."""
    extra = np.zeros(len(due))
    need = np.cumsum(due)
    have = np.cumsum(hours)
    added = 0.0
    for d in range(len(due)):
        short = need[d] - have[d] - added
        if short > EPS:
            extra[d] = short
            added += short
    return extra


def _type_plan(
    info: TypeInfo,
    bands: DailyBands | None,
    work: Mapping[tuple[str, int], Mapping[str, FloatArray]],
    left: Mapping[str, float],
    projected: Projected,
    calendar: Sequence[date],
    backlog: Sequence[OpenTask],
    share: float,
) -> TypePlan:
    days = len(calendar)
    steps = range(1, len(info.step_minutes) + 1)
    load = {
        k: sum((work[(info.name, s)][k] for s in steps), np.zeros(days))
        for k in ("mean", "lo_80", "hi_80", "lo_95", "hi_95")
    }
    counts = _scaled(bands, days, share)
    start = left.get(info.name, 0.0)
    mean, lo, hi = (b[info.name] for b in (projected.mean, projected.lo_80, projected.hi_80))
    clears: date | None = calendar[0] if start <= EPS else None
    out: list[TypeDay] = []
    for d in range(days):
        if clears is None and mean[d] <= EPS:
            clears = calendar[d]
        out.append(
            TypeDay(
                day=calendar[d],
                arrivals=_band(counts, d),
                workload_hours=_band(load, d),
                backlog_hours=Band(mean=_r(mean[d]), lo_80=_r(lo[d]), hi_80=_r(hi[d])),
            )
        )
    return TypePlan(
        type=info.name,
        skills=sorted(set().union(*info.step_skills)),
        sla_minutes=info.sla_minutes,
        handle_minutes=round(info.minutes, 1),
        share=round(share, 4),
        backlog_tasks=sum(1 for t in backlog if t.type == info.name),
        backlog_hours=_r(start),
        clears_on=clears,
        days=out,
    )


def _band(values: Mapping[str, FloatArray], d: int) -> Band:
    return Band(**{k: _r(float(v[d])) for k, v in values.items()})


def _misses(
    backlog: Sequence[OpenTask],
    types: Mapping[str, TypeInfo],
    sets: Mapping[Skills, _Set],
    now: datetime,
    left_of: Callable[[OpenTask, TypeInfo], dict[int, float]],
) -> list[Miss]:
    """The open tasks whose (share of) work is not done by their due time, worst first."""
    done: dict[int, datetime | None] = {}
    queues: dict[Skills, list[tuple[OpenTask, float]]] = defaultdict(list)
    for task in backlog:
        info = types.get(task.type)
        if info is None:
            continue
        for k, hours in left_of(task, info).items():
            if hours > EPS:
                queues[info.step_skills[k - 1]].append((task, hours))
    for skills, items in queues.items():
        pieces = sorted(sets[skills].pieces) if skills in sets else []
        walk = _Walk(pieces, now)
        for task, hours in sorted(items, key=lambda i: (i[0].due_at, i[0].id)):
            at = walk.take(hours)
            if task.id in done and (done[task.id] is None or at is None):
                done[task.id] = None
            elif task.id not in done or (at is not None and at > (done[task.id] or at)):
                done[task.id] = at
    out: list[Miss] = []
    for task in backlog:
        if task.id not in done:
            continue
        at = done[task.id]
        if at is not None and at <= task.due_at:
            continue
        late = None if at is None else round((at - task.due_at).total_seconds() / 60, 1)
        out.append(
            Miss(
                task_id=task.id,
                type=task.type,
                title=task.title,
                due_at=task.due_at,
                expected_done=at,
                late_minutes=late,
            )
        )
    out.sort(key=lambda m: (m.late_minutes is not None, -(m.late_minutes or 0), m.due_at))
    return out


class _Walk:
    """Hours handed out in time order from ``(start, end, hours)`` pieces."""

    def __init__(self, pieces: Sequence[tuple[datetime, datetime, float]], now: datetime) -> None:
        self._pieces = [p for p in pieces if p[1] > now and p[2] > EPS]
        self._i = 0
        self._used = 0.0

    def take(self, hours: float) -> datetime | None:
        while self._i < len(self._pieces):
            start, end, have = self._pieces[self._i]
            free = have - self._used
            if hours <= free + EPS:
                self._used += hours
                return start + (end - start) * min(1.0, self._used / have)
            hours -= free
            self._i += 1
            self._used = 0.0
        return None


def day_start(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), zone)


def _r(x: float) -> float:
    return round(float(x), 2)

"""The backlog of each type projected day by day, as the queue serves the work: each day's
hours of every agent go to the open and arriving work they have the skills for, earliest
deadline first across the skill sets, the agents with the fewest skills first (so that an
agent who could do more is kept for what only they can do). A fixed share of each agent's
hours per skill set, by work, lets a set with late deadlines keep hours while another's
work goes late; the queue does not.

The band: the projection is run again with the arrivals at their 80% bounds and with the
lulls at their low outlook, and the two departures from the expected backlog are taken as
independent and added in quadrature (the calls that shorten the lulls owe nothing to the
back-office mail). The low outlook is the lulls when calls run at the upper bound of their
95% interval, so its departure is scaled to the 80% band's. Pure.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import numpy as np

from blending.intervals import FloatArray
from blending.planning.arrivals import Z80, Z95
from blending.planning.model import AgentSupply, Skills, TypeInfo

EPS = 1e-9
LOW_TO_80 = Z80 / Z95
"""The low outlook staffs the calls at the upper bound of their 95% interval (z 1.96); the
80% band's departure is this share of it. (Each interval at its bound: on the wide side when
the intervals' errors are not all the day's level.)"""


@dataclass(frozen=True)
class Projected:
    """Per type, the work open at the end of each day: expected, and its 80% band."""

    mean: dict[str, FloatArray]
    lo_80: dict[str, FloatArray]
    hi_80: dict[str, FloatArray]


def daily_hours(
    supply: Sequence[AgentSupply], index: Mapping[date, int], zone: ZoneInfo, days: int
) -> dict[Skills, FloatArray]:
    """Hours per day of each skill set agents have (agents alike in skills pooled)."""
    out: dict[Skills, FloatArray] = defaultdict(lambda: np.zeros(days))
    for agent in supply:
        for start, end, share in agent.pieces:
            d = index.get(start.astimezone(zone).date())
            if d is not None:
                out[agent.skills][d] += share * (end - start).total_seconds() / 3600
    return dict(out)


def project(
    types: Mapping[str, TypeInfo],
    arriving: Mapping[tuple[str, int], FloatArray],
    open_work: Sequence[tuple[float, str, int, float]],
    hours: Mapping[Skills, FloatArray],
    days: int,
) -> dict[str, FloatArray]:
    """Work open per type at the end of each day. ``arriving``: hours per (type, step) and
    day; ``open_work``: ``(due, type, step, hours)`` with ``due`` in days from the start of
    the first; ``hours``: per skill set of agents, the hours each day."""
    groups = sorted(hours, key=lambda s: (len(s), sorted(s)))
    fitting: dict[Skills, list[Skills]] = {}
    # [due, type, step, hours left]
    pending: list[list[float | str | int]] = [[d, t, k, h] for d, t, k, h in open_work if h > 0]
    out = {name: np.zeros(days) for name in types}
    for day in range(days):
        for (name, k), load in arriving.items():
            if load[day] > EPS:
                due = day + 0.5 + types[name].sla_minutes / 1440
                pending.append([due, name, k, float(load[day])])
        pending.sort(key=lambda p: (p[0], p[1], p[2]))
        left = {g: float(hours[g][day]) for g in groups}
        for item in pending:
            name, k = str(item[1]), int(item[2])
            skills = types[name].step_skills[k - 1]
            if skills not in fitting:
                fitting[skills] = [g for g in groups if skills <= g]
            need = float(item[3])
            for g in fitting[skills]:
                if need <= EPS:
                    break
                take = min(need, left[g])
                left[g] -= take
                need -= take
            item[3] = need
        pending = [p for p in pending if float(p[3]) > EPS]
        for p in pending:
            out[str(p[1])][day] += float(p[3])
    return out


def project_band(
    types: Mapping[str, TypeInfo],
    work: Mapping[tuple[str, int], Mapping[str, FloatArray]],
    open_work: Sequence[tuple[float, str, int, float]],
    expected: Mapping[Skills, FloatArray],
    low: Mapping[Skills, FloatArray],
    days: int,
) -> Projected:
    """The expected projection and its 80% band (see the module's note)."""

    def run(key: str, hours: Mapping[Skills, FloatArray]) -> dict[str, FloatArray]:
        return project(types, {p: w[key] for p, w in work.items()}, open_work, hours, days)

    mean = run("mean", expected)
    high_arrivals, low_arrivals = run("hi_80", expected), run("lo_80", expected)
    fewer: dict[Skills, FloatArray] = {}
    more: dict[Skills, FloatArray] = {}
    for skills, h in expected.items():
        gap = np.maximum(h - low.get(skills, h), 0.0) * LOW_TO_80
        fewer[skills], more[skills] = h - gap, h + gap
    fewer_hours, more_hours = run("mean", fewer), run("mean", more)
    lo: dict[str, FloatArray] = {}
    hi: dict[str, FloatArray] = {}
    for name, m in mean.items():
        up = np.hypot(np.maximum(high_arrivals[name] - m, 0), np.maximum(fewer_hours[name] - m, 0))
        down = np.hypot(np.maximum(m - low_arrivals[name], 0), np.maximum(m - more_hours[name], 0))
        hi[name], lo[name] = m + up, np.maximum(m - down, 0.0)
    return Projected(mean, lo, hi)


def due_in_days(at: datetime, first: datetime) -> float:
    return (at - first).total_seconds() / 86400

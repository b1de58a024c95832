"""A site's share of the center's back-office work. Pure.

The work is one global list: a step is offered to any agent with its skills, wherever they
sit. A site's plan takes, of each skill set's work (the skills a step needs), the share of the
hours the center's agents give that set over the plan that its own agents give: each agent's
hours (lulls and dedicated shifts, from now over the plan's days) split over the sets they
have every skill of by each set's work, as the plan splits them, then summed per site. Work
that only one site's agents can do is all that site's. A set nobody is expected to give hours
to is shared by head count of the agents with its skills; one no agent has goes to the default
site. A set's shares add up to one over the sites, so the sites' workloads (and open backlog)
add up to the center's.

The split reads nothing of a clock: the hours are counted over ``now`` to ``now`` plus the
plan's days, and each set's work is its open backlog plus the last as many days' arrivals (the
plan's own forecast is on the clock it is asked on), each over its type's SLA in days.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime

from blending.planning.model import AgentSupply, OpenTask, Skills, TypeInfo
from blending.planning.plan import EPS, remaining_hours
from blending.sites import DEFAULT_SITE


def set_pulls(
    types: Mapping[str, TypeInfo], recent: Mapping[str, float], backlog: Sequence[OpenTask]
) -> dict[Skills, float]:
    """Each skill set's claim on its agents' hours: the open work of its steps plus the
    ``recent`` arrivals' work (tasks per type), each over its type's SLA in days."""
    out: dict[Skills, float] = defaultdict(float)
    for info in types.values():
        for skills, minutes in zip(info.step_skills, info.step_minutes, strict=True):
            out[skills] += recent.get(info.name, 0.0) * minutes / 60 / _sla_days(info)
    for task in backlog:
        found = types.get(task.type)
        if found is not None:
            for k, hours in remaining_hours(task, found).items():
                out[found.step_skills[k - 1]] += hours / _sla_days(found)
    return dict(out)


def _sla_days(info: TypeInfo) -> float:
    return max(1.0, info.sla_minutes / 1440)


def site_shares(
    pulls: Mapping[Skills, float],
    supply: Sequence[AgentSupply],
    staff: Mapping[str, tuple[Skills, str]],
    start: datetime,
    end: datetime,
) -> dict[Skills, dict[str, float]]:
    """Per skill set, each site's share of its work (``staff``: each agent's skills and site,
    :data:`~blending.sites.DEFAULT_SITE` for none)."""
    hours: dict[Skills, dict[str, float]] = {s: defaultdict(float) for s in pulls}
    for agent in supply:
        fits = [s for s, pull in pulls.items() if pull > EPS and s <= agent.skills]
        total = sum(pulls[s] for s in fits)
        given = sum(
            share * max(0.0, (min(b, end) - max(a, start)).total_seconds()) / 3600
            for a, b, share in agent.pieces
        )
        site = staff[agent.agent_id][1] if agent.agent_id in staff else DEFAULT_SITE
        for s in fits:
            hours[s][site] += given * pulls[s] / total
    out: dict[Skills, dict[str, float]] = {}
    for s, by_site in hours.items():
        weights = {k: v for k, v in by_site.items() if v > EPS}
        if not weights:
            weights = dict(Counter(site for skills, site in staff.values() if s <= skills))
        total = sum(weights.values())
        out[s] = {k: v / total for k, v in weights.items()} if total > 0 else {DEFAULT_SITE: 1.0}
    return out

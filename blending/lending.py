"""The lending outlook: how much back-office time the forecast's surplus gives, interval by
interval, to the agents who have a set of skills; and when an agent is next free for it.

Pure: the caller passes the agents each staffing group's calls need per interval (from the
stored forecasts), the roster with skills, groups and working hours, and ``now``. In each
interval a group has ``staffed - required - safety margin`` agents to spare (none while its
guard holds or recalls now); agents with the skills get a share of them in proportion to how
many of the group's agents on shift have the skills, since the windows go to whoever had
least back-office time today among those who fit some waiting work. This is what the ETA of
a queued task is worked out from (:mod:`queues.eta`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise

from queues.eta import Capacity, Slot

Span = tuple[datetime, datetime]


@dataclass(frozen=True)
class GroupNeed:
    """Agents a staffing group's calls need in one interval (None: no staffing meets the
    target, so nobody is spare)."""

    group: str
    start: datetime
    minutes: int
    required: int | None

    @property
    def end(self) -> datetime:
        return self.start + timedelta(minutes=self.minutes)


@dataclass(frozen=True)
class Staffer:
    """An agent as the outlook sees them."""

    agent_id: str
    group: str
    skills: frozenset[str]
    spans: tuple[Span, ...] | None = None
    """Times on shift and not on a break; None: no schedule, then the agent counts throughout
    while taking part now (as the blending round counts them)."""
    present: bool = False

    def works_at(self, at: datetime) -> bool:
        if self.spans is None:
            return self.present
        return any(a <= at < b for a, b in self.spans)


def working_spans(shifts: Sequence[Span], breaks: Sequence[Span]) -> tuple[Span, ...]:
    """Shifts with the breaks cut out, in time order."""
    out: list[Span] = []
    for start, end in sorted(shifts):
        pieces = [(start, end)]
        for b_start, b_end in breaks:
            cut: list[Span] = []
            for a, b in pieces:
                if b_end <= a or b_start >= b:
                    cut.append((a, b))
                    continue
                if a < b_start:
                    cut.append((a, b_start))
                if b_end < b:
                    cut.append((b_end, b))
            pieces = cut
        out.extend(pieces)
    return tuple(sorted(out))


@dataclass
class _Interval:
    start: datetime
    end: datetime
    spare: int
    working: list[Staffer] = field(default_factory=list)


class ForecastLending:
    """The outlook from ``now``; implements :class:`queues.eta.Lending`."""

    def __init__(
        self,
        now: datetime,
        needs: Sequence[GroupNeed],
        staff: Sequence[Staffer],
        *,
        safety_margin: int = 0,
        held: frozenset[str] = frozenset(),
        lends: bool = True,
    ) -> None:
        """``held``: the groups whose guard holds or recalls now; ``lends``: False when the
        policy lends nobody."""
        self._now = now
        self._staff = list(staff)
        self._by_id = {s.agent_id: s for s in staff}
        members: dict[str, list[Staffer]] = defaultdict(list)
        for s in staff:
            members[s.group].append(s)
        self._intervals: dict[str, list[_Interval]] = defaultdict(list)
        for need in sorted(needs, key=lambda n: (n.group, n.start)):
            if need.end <= now:
                continue
            working = [s for s in members.get(need.group, []) if s.works_at(max(need.start, now))]
            spare = 0
            if lends and need.required is not None:
                spare = max(0, len(working) - need.required - safety_margin)
            if need.group in held and need.start <= now:
                spare = 0
            self._intervals[need.group].append(_Interval(need.start, need.end, spare, working))
        self._forecast = any(self._intervals.values())
        ends = [i.end for group in self._intervals.values() for i in group]
        self._until = max(ends) if ends else None
        self._cache: dict[frozenset[str], Capacity] = {}

    def capacity(self, skills: frozenset[str]) -> Capacity:
        found = self._cache.get(skills)
        if found is None:
            found = self._capacity(skills)
            self._cache[skills] = found
        return found

    def _capacity(self, skills: frozenset[str]) -> Capacity:
        skilled = sum(1 for s in self._staff if skills <= s.skills)
        change: dict[datetime, float] = defaultdict(float)
        for intervals in self._intervals.values():
            for i in intervals:
                if not i.working or i.spare == 0:
                    continue
                agents = i.spare * sum(1 for s in i.working if skills <= s.skills) / len(i.working)
                change[i.start] += agents
                change[i.end] -= agents
        runs: list[tuple[datetime, datetime, float]] = []
        agents = 0.0
        for start, end in pairwise(sorted(change)):
            agents += change[start]
            if agents <= 1e-9:
                continue
            if runs and runs[-1][1] == start and abs(runs[-1][2] - agents) < 1e-9:
                runs[-1] = (runs[-1][0], end, agents)
            else:
                runs.append((start, end, agents))
        slots = [Slot(a, b, n * (b - a).total_seconds() / 60) for a, b, n in runs]
        return Capacity(
            tuple(slots),
            forecast=self._forecast,
            skilled=skilled,
            start=self._now if self._forecast else None,
            until=self._until,
        )

    def shares(self) -> list[tuple[str, datetime, datetime, float]]:
        """Each working agent's share of their group's spare agents, interval by interval
        from ``now``: ``(agent, start, end, share)``, the time the lulls give them."""
        out: list[tuple[str, datetime, datetime, float]] = []
        for intervals in self._intervals.values():
            for i in intervals:
                if i.spare and i.working:
                    share = i.spare / len(i.working)
                    start = max(i.start, self._now)
                    out.extend((s.agent_id, start, i.end, share) for s in i.working)
        return out

    def resume_at(self, agent_id: str) -> datetime | None:
        """The first time the agent's group has an agent to spare while the agent works."""
        staffer = self._by_id.get(agent_id)
        if staffer is None:
            return None
        for i in self._intervals.get(staffer.group, []):
            at = max(i.start, self._now)
            if i.spare >= 1 and staffer.works_at(at):
                return at
        return None

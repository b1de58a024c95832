"""Dedicated back-office staff in the simulated center: the hours a plan adds.

They answer no calls and are never lent or recalled: on shift and free, each asks the
service for its next task as an agent does (:class:`queues.dispatch.Dispatcher`, the
``POST /agents/{id}/next`` path) with the minutes left of the shift, claims it and works it at
their speed; when nothing fits, they ask again a little later.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import partial

from queues.dispatch import Dispatcher, NoOffer
from queues.models import AgentIn
from queues.roster import Roster
from simulation.center import Center, Shift, SimAgent
from simulation.real_engine import EngineBackoffice

BACK_OFFICE_TEAM = "back office"
RETRY_SECONDS = 120.0
"""How long a dedicated agent with nothing to do waits before asking again."""
MAX_SHIFT_HOURS = 8.0
OFFICE_OPENS = time(8)


@dataclass(frozen=True)
class ExtraShift:
    """Hours added on one day for the steps needing ``skills``, by one dedicated agent."""

    agent_id: str
    skills: frozenset[str]
    start: datetime
    hours: float


def extra_shifts(
    extra: dict[tuple[frozenset[str], datetime], float], *, opens: time = OFFICE_OPENS
) -> list[ExtraShift]:
    """Per skill set and day (its midnight), the hours as shifts of dedicated agents from the
    office's opening, none longer than :data:`MAX_SHIFT_HOURS`."""
    out: list[ExtraShift] = []
    for (skills, midnight), hours in sorted(
        extra.items(), key=lambda kv: (kv[0][1], sorted(kv[0][0]))
    ):
        if hours <= 0:
            continue
        count = math.ceil(hours / MAX_SHIFT_HOURS)
        start = midnight + timedelta(hours=opens.hour, minutes=opens.minute)
        name = "-".join(sorted(skills)) or "any"
        for i in range(count):
            agent = f"extra-{name}-{midnight:%Y%m%d}-{i + 1}"
            out.append(ExtraShift(agent, skills, start, hours / count))
    return out


class DedicatedStaff:
    """The dedicated agents of a run, wired into its controller."""

    def __init__(self, controller: EngineBackoffice, retry_seconds: float = RETRY_SECONDS) -> None:
        self.controller = controller
        self.retry = retry_seconds
        self.agents: dict[str, SimAgent] = {}
        self._asking: set[str] = set()
        self._rest_until: dict[str, float] = {}
        controller.on_wake.append(self.poke)

    async def add(self, center: Center, shifts: Sequence[ExtraShift]) -> None:
        """Put the agents on the roster (the service's and the center's) with their shifts;
        call before the center starts."""
        roster = Roster(self.controller.db)
        origin = self.controller.world.clock(0)
        for s in shifts:
            agent = self.agents.get(s.agent_id)
            if agent is None:
                agent = SimAgent(s.agent_id, dict.fromkeys(s.skills, 3), 1.0, back_office=True)
                agent.routable = False
                self.agents[s.agent_id] = agent
                center.agents[s.agent_id] = agent
                body = AgentIn(
                    name=f"Back office {len(self.agents)}",
                    skills=dict.fromkeys(s.skills, 3),
                    team=BACK_OFFICE_TEAM,
                )
                await roster.put(s.agent_id, body)
            begin = (s.start - origin).total_seconds()
            agent.shifts.append(Shift(begin, begin + s.hours * 3600))

    def poke(self) -> None:
        c = self.controller.center
        for agent in self.agents.values():
            if (
                agent.state == "idle"
                and agent.offered is None
                and agent.agent_id not in self._asking
                and self._rest_until.get(agent.agent_id, -1.0) <= c.now
            ):
                self._asking.add(agent.agent_id)
                self.controller.jobs.append(partial(self._ask, agent))

    async def _ask(self, agent: SimAgent) -> None:
        ctl, c = self.controller, self.controller.center
        try:
            if agent.state != "idle" or agent.shift is None or agent.offered is not None:
                return
            await ctl._on_time()
            minutes = (agent.shift.end - c.now) / 60
            got = await Dispatcher(ctl.db, ctl.s.dispatch).next_for(
                agent.agent_id, minutes, ctl.clock.now()
            )
            if isinstance(got, NoOffer) or got.task.status != "offered":
                self._rest_until[agent.agent_id] = c.now + self.retry
                return
            agent.offered = got.task.id
            await ctl._claim(agent, got.task.id)
        finally:
            self._asking.discard(agent.agent_id)

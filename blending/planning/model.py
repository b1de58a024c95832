"""The plan's inputs and answers as plain values, shared by the reading and the arithmetic."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from pydantic import BaseModel, Field

Skills = frozenset[str]


@dataclass(frozen=True)
class TypeInfo:
    """A task type as the plan sees it: each step's skills and minutes (learnt, else the
    configured figure), and the SLA."""

    name: str
    sla_minutes: int
    step_skills: tuple[Skills, ...]
    step_minutes: tuple[float, ...]

    @property
    def minutes(self) -> float:
        return sum(self.step_minutes)


@dataclass(frozen=True)
class OpenTask:
    id: int
    type: str
    title: str
    step: int
    created_at: datetime
    due_at: datetime
    worked_seconds: float


@dataclass(frozen=True)
class AgentSupply:
    """One agent's back-office time ahead: ``(start, end, share)`` pieces, the share of the
    piece's length they are expected to give (1 for dedicated staff on shift)."""

    agent_id: str
    skills: Skills
    dedicated: bool
    pieces: tuple[tuple[datetime, datetime, float], ...]


class Band(BaseModel):
    mean: float
    lo_80: float
    hi_80: float
    lo_95: float | None = None
    hi_95: float | None = None


class TypeDay(BaseModel):
    day: date
    arrivals: Band = Field(description="Tasks expected to arrive.")
    workload_hours: Band = Field(description="Their work: arrivals times the handle time.")
    backlog_hours: Band = Field(
        description="Work left open at the end of the day (the 80% band: the arrivals' "
        "spread and the lulls')."
    )


class TypePlan(BaseModel):
    type: str
    skills: list[str]
    sla_minutes: int
    handle_minutes: float = Field(description="Expected active minutes per task, all steps.")
    share: float = Field(
        default=1.0,
        description="The site's share of the type's work (its steps' shares weighted by their "
        "minutes); 1 in the center's plan. Arrivals, work and backlog are this share.",
    )
    backlog_tasks: int = Field(description="Open tasks, those the site has a share of.")
    backlog_hours: float
    clears_on: date | None = Field(
        description="The day the expected backlog is first worked off; null: not within the plan."
    )
    days: list[TypeDay]


class SkillDay(BaseModel):
    day: date
    lull_hours: float = Field(description="Back-office hours the lulls are expected to give.")
    lull_hours_low: float = Field(description="... when calls run at their 95% bound.")
    dedicated_hours: float = Field(description="Hours of dedicated back-office staff on shift.")
    workload_hours: float = Field(description="Work arriving (mean).")
    due_hours: float = Field(description="Work that falls due this day (open and arriving).")
    extra_hours: float = Field(description="Hours to add this day to meet every SLA (mean).")
    extra_hours_80: float = Field(description="... at the upper 80% bound of the arrivals.")
    spare_hours: float = Field(description="Hours with no work left to give them.")


class SkillPlan(BaseModel):
    skills: list[str] = Field(
        description="The skills a step needs; the hours are of agents with all."
    )
    types: list[str]
    share: float = Field(
        default=1.0,
        description="The site's share of the set's work: its agents' share of the hours the "
        "center's agents with these skills give over the plan; 1 in the center's plan.",
    )
    days: list[SkillDay]


class Miss(BaseModel):
    task_id: int
    type: str
    title: str
    due_at: datetime
    expected_done: datetime | None = Field(description="Null: not within the plan's days.")
    late_minutes: float | None


class Plan(BaseModel):
    """The back-office plan from ``generated_at`` for ``days`` days of a site's clock: the
    whole center's, or one site's staff and its share of the work."""

    generated_at: datetime
    site: str | None = Field(
        default=None, description="The site planned for; null: the whole center."
    )
    timezone: str
    days: list[date]
    types: list[TypePlan]
    skills: list[SkillPlan]
    misses: list[Miss] = Field(description="Open tasks expected to miss their SLA, worst first.")
    notes: list[str]

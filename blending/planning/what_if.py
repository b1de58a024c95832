"""What-if moves: some agents taken from the phones to the back office for a while, and what
that does to the calls' service level (Erlang A, with abandonment) and to the back-office
plan. Pure, given what the plan was worked out from."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Self
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field, model_validator

from blending.errors import BlendingError
from blending.planning.model import AgentSupply, Plan
from blending.snapshot import POOLED
from blending.staffing import evaluate
from queues.bounds import Instant
from queues.models import Name, Strict

if TYPE_CHECKING:
    from blending.planning.service import PlanInputs

PATIENCE_SECONDS = 120.0
"""Callers' mean patience, for Erlang A, where the center has not measured its own."""


class MoveIn(Strict):
    agents: int = Field(ge=1, le=500, description="Agents taken from the phones.")
    start: Instant
    end: Instant
    skills: list[Name] = Field(
        default_factory=list,
        max_length=20,
        description="The back-office work they do: a skill set.",
    )
    group: str | None = Field(
        default=None,
        max_length=200,
        description="The staffing group they leave: a queue, or none for the pooled group.",
    )
    patience_seconds: float = Field(default=PATIENCE_SECONDS, gt=0, le=3600)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        if (self.end - self.start).total_seconds() > 24 * 3600:
            raise ValueError("a move lasts at most a day")
        return self


class IntervalEffect(BaseModel):
    start: Instant
    calls: float
    agents_before: int
    agents_after: int
    service_level_before: float
    service_level_after: float
    abandon_before: float
    abandon_after: float


class SkillEffect(BaseModel):
    skills: list[str]
    extra_hours_before: float
    extra_hours_after: float
    spare_hours_before: float
    spare_hours_after: float


class TypeEffect(BaseModel):
    type: str
    backlog_hours_before: float = Field(description="Left at the end of the move's day.")
    backlog_hours_after: float


class WhatIf(BaseModel):
    move: MoveIn
    intervals: list[IntervalEffect]
    service_level_before: float | None = Field(description="Over the move, weighted by calls.")
    service_level_after: float | None
    skills: list[SkillEffect]
    types: list[TypeEffect]
    misses_before: int
    misses_after: int


class NoSuchGroup(BlendingError):
    """The move names a staffing group that answers no forecast calls."""


def what_if(inputs: PlanInputs, move: MoveIn, *, target_seconds: float) -> WhatIf:
    group = move.group or POOLED
    rows = [
        r
        for r in inputs.supply.calls
        if (r.queue == group or (group == POOLED and r.queue not in inputs.supply.groups))
        and r.start < move.end
        and r.start + timedelta(minutes=r.minutes) > move.start
    ]
    if move.group is not None and move.group not in inputs.supply.groups:
        raise NoSuchGroup(f"no agents answer calls of {move.group!r}")
    staff = inputs.supply.groups.get(group, [])
    effects: list[IntervalEffect] = []
    for r in sorted(rows, key=lambda r: r.start):
        at = max(r.start, move.start)
        working = sum(1 for spans in staff if any(a <= at < b for a, b in spans))
        if r.aht_seconds is None or r.aht_seconds <= 0:
            continue
        before = evaluate(
            max(r.mean, 0.0),
            r.minutes,
            r.aht_seconds,
            working,
            target_seconds,
            move.patience_seconds,
        )
        left = max(0, working - move.agents)
        after = evaluate(
            max(r.mean, 0.0),
            r.minutes,
            r.aht_seconds,
            left,
            target_seconds,
            move.patience_seconds,
        )
        effects.append(
            IntervalEffect(
                start=r.start,
                calls=round(r.mean, 2),
                agents_before=working,
                agents_after=left,
                service_level_before=round(before.service_level, 4),
                service_level_after=round(after.service_level, 4),
                abandon_before=round(before.abandon_rate or 0.0, 4),
                abandon_after=round(after.abandon_rate or 0.0, 4),
            )
        )
    calls = sum(e.calls for e in effects)
    sl_before = sum(e.calls * e.service_level_before for e in effects) / calls if calls else None
    sl_after = sum(e.calls * e.service_level_after for e in effects) / calls if calls else None
    skills = frozenset(move.skills)
    extra = [
        AgentSupply(f"what-if-{i}", skills, True, ((move.start, move.end, 1.0),))
        for i in range(move.agents)
    ]
    plan_before, plan_after = inputs.plan(), inputs.plan(extra)
    return WhatIf(
        move=move,
        intervals=effects,
        service_level_before=None if sl_before is None else round(sl_before, 4),
        service_level_after=None if sl_after is None else round(sl_after, 4),
        skills=_skills(plan_before, plan_after),
        types=_types(plan_before, plan_after, move),
        misses_before=len(plan_before.misses),
        misses_after=len(plan_after.misses),
    )


def _skills(before: Plan, after: Plan) -> list[SkillEffect]:
    out = []
    for b, a in zip(before.skills, after.skills, strict=True):
        out.append(
            SkillEffect(
                skills=b.skills,
                extra_hours_before=round(sum(d.extra_hours for d in b.days), 2),
                extra_hours_after=round(sum(d.extra_hours for d in a.days), 2),
                spare_hours_before=round(sum(d.spare_hours for d in b.days), 2),
                spare_hours_after=round(sum(d.spare_hours for d in a.days), 2),
            )
        )
    return out


def _types(before: Plan, after: Plan, move: MoveIn) -> list[TypeEffect]:
    day = move.start.astimezone(ZoneInfo(before.timezone)).date()
    out = []
    for b, a in zip(before.types, after.types, strict=True):
        i = next((k for k, d in enumerate(b.days) if d.day == day), None)
        if i is None:
            continue
        out.append(
            TypeEffect(
                type=b.type,
                backlog_hours_before=b.days[i].backlog_hours.mean,
                backlog_hours_after=a.days[i].backlog_hours.mean,
            )
        )
    return out

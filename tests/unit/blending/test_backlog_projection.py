"""The backlog per type is projected as the queue serves it: an agent's hours go to the
earliest deadlines among the skill sets they fit, and the band carries the lulls' spread."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from blending.planning.model import AgentSupply, OpenTask, TypeInfo
from blending.planning.plan import build_plan

NOW = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
ZONE = ZoneInfo("UTC")
TYPES = {
    "urgent": TypeInfo("urgent", 1440, (frozenset({"a"}),), (60.0,)),
    "relaxed": TypeInfo("relaxed", 7200, (frozenset({"b"}),), (60.0,)),
}


def _tasks(name: str, count: int, due: datetime, first_id: int) -> list[OpenTask]:
    return [
        OpenTask(first_id + i, name, name, 1, NOW - timedelta(hours=1), due, 0.0)
        for i in range(count)
    ]


def _agent(hours_per_day: float, days: int, skills: set[str]) -> AgentSupply:
    pieces = tuple(
        (NOW + timedelta(days=d, hours=9), NOW + timedelta(days=d, hours=9 + hours_per_day), 1.0)
        for d in range(days)
    )
    return AgentSupply("A1", frozenset(skills), False, pieces)


def test_an_agents_hours_go_to_the_earliest_deadlines_across_their_skill_sets() -> None:
    # 8 hours of each type open; one agent with both skills gives 8 hours a day. The urgent
    # work is due at the end of the first day, the relaxed work days later: the queue serves
    # the urgent first, whatever share of the work each type has.
    backlog = [
        *_tasks("urgent", 8, NOW + timedelta(hours=20), 1),
        *_tasks("relaxed", 8, NOW + timedelta(days=4), 100),
    ]
    agent = _agent(8, 3, {"a", "b"})
    plan = build_plan(NOW, ZONE, 3, TYPES, {}, [agent], [agent], backlog)
    by_type = {t.type: t for t in plan.types}

    assert [d.backlog_hours.mean for d in by_type["urgent"].days] == [0.0, 0.0, 0.0]
    assert [d.backlog_hours.mean for d in by_type["relaxed"].days] == [8.0, 0.0, 0.0]
    assert by_type["urgent"].clears_on == plan.days[0]


def test_the_backlog_band_carries_the_lulls_spread() -> None:
    # No arrivals forecast: all the doubt is in the hours the lulls give (8 expected, 4 when
    # calls run high), so the band is around the expected backlog, not a point on it.
    backlog = _tasks("relaxed", 24, NOW + timedelta(days=4), 1)
    expected, low = _agent(8, 3, {"b"}), _agent(4, 3, {"b"})
    plan = build_plan(NOW, ZONE, 3, TYPES, {}, [expected], [low], backlog)
    (relaxed,) = [t for t in plan.types if t.type == "relaxed"]
    first = relaxed.days[0].backlog_hours

    assert first.mean == 16.0
    assert first.lo_80 < first.mean < first.hi_80 < 20.0

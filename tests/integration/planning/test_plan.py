"""The back-office plan over a center with a history, a backlog, staff and calls."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import pytest

from blending.planning.service import Planner, PlanSettings, make_plan
from blending.planning.what_if import MoveIn
from queues.catalog import Catalog
from queues.models import StepIn, TaskIn, TaskTypeIn
from queues.tasks import Tasks
from tests.support.backoffice import NOW, agent, calls, history, shifts


async def test_a_backlog_beyond_the_day_asks_for_extra_hours_and_names_the_misses(
    pool: asyncpg.Pool,
) -> None:
    await history(pool)
    await agent(pool, "bo1", "Back Office", ["billing"])
    await shifts(pool, "bo1", NOW.date(), 14)
    # 30 open tasks due at noon, 30 minutes each (as learnt): 15 hours for 7.5 on shift today.
    await pool.execute("SET TIME ZONE 'UTC'")
    items = [
        TaskIn(
            source="crm",
            external_id=f"O-{i}",
            type="billing",
            title=f"Open {i}",
            due_at=NOW + timedelta(hours=4),
        )
        for i in range(30)
    ]
    await Tasks(pool).create_many(items, "test")
    plan = await make_plan(pool, NOW, PlanSettings(days=7))
    assert [d.isoformat() for d in plan.days][:2] == ["2026-03-02", "2026-03-03"]
    (billing,) = plan.types
    assert billing.handle_minutes == 30.0
    assert billing.backlog_tasks == 30
    assert billing.backlog_hours == 15.0
    monday, tuesday = billing.days[0], billing.days[1]
    # Mondays bring 10 tasks; by 08:00 a third of the day is gone.
    assert 5 < monday.arrivals.mean < 8.5
    assert 8 < tuesday.arrivals.mean < 12
    assert tuesday.arrivals.lo_80 <= tuesday.arrivals.mean <= tuesday.arrivals.hi_80
    assert tuesday.workload_hours.mean == round(tuesday.arrivals.mean * 0.5, 2)
    (skill,) = plan.skills
    assert skill.skills == ["billing"]
    assert skill.days[0].dedicated_hours == 7.5
    assert skill.days[0].lull_hours == 0.0
    # 15 hours due today and 7.5 to do them: 7.5 more today, and the arrivals' on top.
    assert skill.days[0].extra_hours >= 7.5
    assert billing.clears_on is None or billing.clears_on > plan.days[1]
    # The first 15 tasks fit in today's shift; the other 15 are late, the last worst.
    assert len(plan.misses) == 24
    late = [m.late_minutes or 0 for m in plan.misses]
    assert late == sorted(late, reverse=True)
    assert "no call forecast" in " ".join(plan.notes)


async def test_lulls_give_hours_and_slack_shows_as_spare(pool: asyncpg.Pool) -> None:
    await history(pool)
    await calls(pool)
    for name in ("c1", "c2", "c3", "c4"):
        await agent(pool, name, "Phones", ["billing"])
        await shifts(pool, name, NOW.date(), 14)
    plan = await make_plan(pool, NOW, PlanSettings(days=7))
    (skill,) = plan.skills
    tuesday = skill.days[1]
    # 4 calls of 4 minutes a quarter hour keep some of the 4 agents on the phones, not all.
    assert 5 <= tuesday.lull_hours < 4 * 7.5
    assert tuesday.lull_hours_low <= tuesday.lull_hours
    assert tuesday.dedicated_hours == 0
    assert tuesday.extra_hours == 0
    assert tuesday.spare_hours > 0
    assert plan.types[0].clears_on == plan.days[0]
    assert plan.misses == []


async def test_a_what_if_move_costs_service_level_and_gives_back_office_hours(
    pool: asyncpg.Pool,
) -> None:
    await history(pool)
    await calls(pool)
    for name in ("c1", "c2", "c3"):
        await agent(pool, name, "Phones", ["billing"])
        await shifts(pool, name, NOW.date(), 14)
    items = [
        TaskIn(
            source="crm",
            external_id=f"O-{i}",
            type="billing",
            title=f"Open {i}",
            due_at=NOW + timedelta(hours=30),
        )
        for i in range(40)
    ]
    await Tasks(pool).create_many(items, "test")
    tuesday = NOW.replace(hour=10) + timedelta(days=1)
    move = MoveIn(agents=2, start=tuesday, end=tuesday + timedelta(hours=2), skills=["billing"])
    result = await Planner(pool, PlanSettings(days=7)).what_if(NOW, move)
    assert len(result.intervals) == 8
    first = result.intervals[0]
    assert first.agents_after == first.agents_before - 2
    assert first.service_level_after < first.service_level_before
    assert first.abandon_after > first.abandon_before
    assert result.service_level_after is not None
    assert result.service_level_before is not None
    assert result.service_level_after < result.service_level_before
    (billing,) = result.types
    assert billing.backlog_hours_after == pytest.approx(billing.backlog_hours_before - 4, abs=0.01)
    (skill,) = result.skills
    assert skill.extra_hours_after <= skill.extra_hours_before
    assert result.misses_after <= result.misses_before


async def test_an_empty_center_gets_a_plan_that_says_what_is_missing(pool: asyncpg.Pool) -> None:
    plan = await make_plan(pool, NOW, PlanSettings(days=3))
    assert plan.types == []
    assert plan.skills == []
    assert plan.misses == []
    assert any("task history" in n for n in plan.notes)


async def test_steps_needing_other_skills_are_planned_apart(pool: asyncpg.Pool) -> None:
    steps = [
        StepIn(name="check", skills=["docs"], handle_minutes=20),
        StepIn(name="approve", skills=["credit"], handle_minutes=40),
    ]
    await Catalog(pool).put("loan", TaskTypeIn(sla_minutes=2880, handle_minutes=60, steps=steps))
    await agent(pool, "bo1", "backoffice", ["docs"])
    await shifts(pool, "bo1", NOW.date(), 3)
    items = [
        TaskIn(
            source="crm",
            external_id=f"L-{i}",
            type="loan",
            title=f"Loan {i}",
            due_at=NOW + timedelta(days=2),
        )
        for i in range(6)
    ]
    await Tasks(pool).create_many(items, "test")
    plan = await make_plan(pool, NOW, PlanSettings(days=3))
    by_skill = {tuple(s.skills): s for s in plan.skills}
    assert set(by_skill) == {("credit",), ("docs",)}
    assert by_skill[("docs",)].days[0].dedicated_hours == 7.5
    assert by_skill[("credit",)].days[0].dedicated_hours == 0
    # Nobody approves: the 4 hours of approvals due in two days need adding by then.
    assert sum(d.extra_hours for d in by_skill[("credit",)].days) == 4.0
    assert sum(d.extra_hours for d in by_skill[("docs",)].days) == 0
    assert plan.types[0].backlog_hours == 6.0
    assert {m.type for m in plan.misses} == {"loan"}
    assert all(m.expected_done is None for m in plan.misses)

"""The read models on a real database: what supervisors and agents are shown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from blending.forecast_store import ForecastSummary, summaries
from queues.catalog import Catalog
from queues.lifecycle import Lifecycle
from queues.models import AgentIn, TaskIn, TaskTypeIn
from queues.roster import Roster
from queues.tasks import Tasks
from queues.views import AgentAtWork, Person, StatusCount, TaskFacts, Views

NOW = datetime.now(UTC).replace(microsecond=0)
TWO_STEPS = {
    "skills": ["mortgage"],
    "sla_minutes": 2880,
    "handle_minutes": 60,
    "steps": [
        {"name": "documents", "skills": ["docs"], "handle_minutes": 10},
        {"name": "underwriting", "skills": ["credit"], "handle_minutes": 45},
    ],
}


class World:
    """Two task types (one of two steps), two agents and five open tasks."""

    def __init__(self, pool: asyncpg.Pool, ids: dict[str, int]) -> None:
        self.pool = pool
        self.ids = ids
        self.views = Views(pool)
        self.lifecycle = Lifecycle(pool)

    async def work(self, key: str, agent: str, why: list[str] | None = None) -> None:
        """Offer the task to the agent and let them claim it."""
        task_id = self.ids[key]
        expires = datetime.now(UTC) + timedelta(minutes=5)
        await self.lifecycle.offer(task_id, agent, expires, "test", why or [f"for {agent}"])
        await self.lifecycle.claim(task_id, agent)


@pytest.fixture
async def world(pool: asyncpg.Pool) -> World:
    catalog = Catalog(pool)
    await catalog.put(
        "billing",
        TaskTypeIn(skills=["billing"], sla_minutes=600, handle_minutes=12, pausable=False),
    )
    await catalog.put("mortgage", TaskTypeIn.model_validate(TWO_STEPS))
    roster = Roster(pool)
    skills = {"billing": 3, "docs": 3, "credit": 2}
    await roster.put("ana", AgentIn(name="Ana Silva", slack_user_id="U0ANA", skills=skills))
    await roster.put("ben", AgentIn(name="Ben Katz", skills={"billing": 1}))
    due = {
        "late": NOW - timedelta(hours=1),
        "soon": NOW + timedelta(minutes=30),
        "nearly": NOW + timedelta(hours=2) - timedelta(seconds=1),
        "later": NOW + timedelta(hours=2),
        "loan": NOW + timedelta(hours=3),
    }
    items = [
        TaskIn(
            source="test",
            external_id=key,
            type="mortgage" if key == "loan" else "billing",
            title=key,
            due_at=at,
        )
        for key, at in due.items()
    ]
    created = await Tasks(pool).create_many(items, "intake")
    ids = {r.task.external_id: r.task.id for r in created if r.task is not None}
    return World(pool, ids)


async def test_backlog_splits_open_work_by_sla_risk(world: World) -> None:
    (billing, mortgage) = await world.views.backlog(NOW)
    assert (billing.type, billing.open, billing.breached, billing.due_soon) == ("billing", 4, 1, 2)
    assert billing.later == 1
    assert billing.first_due == NOW - timedelta(hours=1)
    assert (mortgage.type, mortgage.open, mortgage.breached, mortgage.due_soon) == (
        "mortgage",
        1,
        0,
        0,
    )
    # An hour on, the task due in 30 minutes is late and the one due in two hours is close.
    (billing, _) = await world.views.backlog(NOW + timedelta(hours=1))
    assert (billing.breached, billing.due_soon, billing.later) == (2, 2, 0)


async def test_backlog_of_one_type_and_without_closed_work(world: World) -> None:
    (only,) = await world.views.backlog(NOW, "mortgage")
    assert only.type == "mortgage"
    await world.lifecycle.cancel(world.ids["loan"], "sam")
    assert await world.views.backlog(NOW, "mortgage") == []
    assert await world.views.backlog(NOW, "nothing") == []


async def test_task_facts_give_the_current_steps_minutes(world: World) -> None:
    loan, late = world.ids["loan"], world.ids["late"]
    assert await world.views.task_facts([loan, late, 999]) == {
        loan: TaskFacts(minutes=10, pausable=True),
        late: TaskFacts(minutes=12, pausable=False),
    }
    await world.work("loan", "ana")
    await world.lifecycle.complete(loan, "ana", "documents fine", None)
    facts = await world.views.task_facts([loan])
    assert facts == {loan: TaskFacts(minutes=45, pausable=True)}
    assert await world.views.task_facts([]) == {}


async def test_offer_reasons_are_the_latest_offers(world: World) -> None:
    loan, soon = world.ids["loan"], world.ids["soon"]
    expires = datetime.now(UTC) + timedelta(minutes=5)
    await world.lifecycle.offer(loan, "ana", expires, "test", ["first"])
    await world.lifecycle.skip(loan, "ana", "busy")
    await world.lifecycle.offer(loan, "ben", expires, "test", ["SLA in 3h", "about 10 min"])
    reasons = await world.views.offer_reasons([loan, soon])
    assert reasons == {loan: ["SLA in 3h", "about 10 min"]}


async def test_work_of_and_agents_at_work(world: World) -> None:
    world.lifecycle = Lifecycle(world.pool, max_tasks_per_agent=2)  # ana holds two tasks
    await world.work("soon", "ana")
    await world.work("loan", "ana")
    await world.lifecycle.pause(world.ids["loan"], "ana", "calls")
    work = await world.views.work_of("ana")
    assert [(t.id, t.status) for t in work] == [
        (world.ids["loan"], "paused"),
        (world.ids["soon"], "in_progress"),
    ]
    assert await world.views.work_of("ben") == []
    assert await world.views.agents_at_work() == [
        AgentAtWork("ana", "Ana Silva", world.ids["loan"], "paused", "mortgage"),
        AgentAtWork("ben", "Ben Katz", None, None, None),
    ]


async def test_status_counts(world: World) -> None:
    await world.work("soon", "ana")
    await world.lifecycle.cancel(world.ids["later"], "sam")
    assert await world.views.status_counts() == [
        StatusCount("cancelled", 1),
        StatusCount("in_progress", 1),
        StatusCount("queued", 3),
    ]


async def test_done_since_counts_steps_and_tasks(world: World) -> None:
    start = datetime.now(UTC) - timedelta(seconds=1)
    await world.work("loan", "ana")
    await world.lifecycle.complete(world.ids["loan"], "ana", "documents fine", None)
    await world.work("soon", "ana")
    await world.lifecycle.complete(world.ids["soon"], "ana", "paid", None)
    assert await world.views.done_since("ana", start) == 2
    assert await world.views.done_since("ben", start) == 0
    assert await world.views.done_since("ana", datetime.now(UTC) + timedelta(minutes=1)) == 0


async def test_activity_since(world: World) -> None:
    start = datetime.now(UTC) - timedelta(seconds=1)
    for key, agent in (("soon", "ana"), ("late", "ben"), ("later", "ben"), ("loan", "ben")):
        await world.work(key, agent)
        await world.lifecycle.complete(world.ids[key], agent, "done", None)
    await world.work("loan", "ana")
    await world.lifecycle.escalate(world.ids["loan"], "ana", "customer angry")
    await world.lifecycle.cancel(world.ids["nearly"], "sam")
    seen = await world.views.activity(start)
    assert (seen.created, seen.completed, seen.completed_on_time) == (5, 3, 2)
    assert (seen.escalated, seen.cancelled) == (1, 1)
    assert 0 <= seen.minutes < 1
    assert [(a.agent_id, a.name, a.completed) for a in seen.top] == [
        ("ben", "Ben Katz", 2),
        ("ana", "Ana Silva", 1),
    ]
    assert [a.agent_id for a in (await world.views.activity(start, top=1)).top] == ["ben"]
    later = await world.views.activity(datetime.now(UTC) + timedelta(minutes=1))
    assert (later.created, later.completed, later.minutes, later.top) == (0, 0, 0.0, [])


async def test_people_by_slack_user_and_by_id(world: World) -> None:
    ana = Person("ana", "Ana Silva", "U0ANA")
    assert await world.views.person_by_slack_user("U0ANA") == ana
    assert await world.views.person_by_slack_user("U0NOBODY") is None
    assert await world.views.people(["ana", "ben", "zoe"]) == {
        "ana": ana,
        "ben": Person("ben", "Ben Katz", None),
    }
    assert ana.first_name == "Ana"


async def test_step_functions(pool: asyncpg.Pool) -> None:
    steps = [{"skills": ["docs"], "handle_minutes": 10}, {"skills": [], "handle_minutes": 45}]
    row = await pool.fetchrow(
        """
        SELECT step_count('[]'), step_count($1::jsonb),
               step_minutes('[]', 1, 12), step_minutes($1::jsonb, 2, 12),
               step_minutes($1::jsonb, 3, 12),
               step_skills('[]', 1, '{billing}'), step_skills($1::jsonb, 1, '{billing}'),
               step_skills($1::jsonb, 2, '{billing}'), step_skills($1::jsonb, 3, '{billing}')
        """,
        steps,
    )
    assert row is not None
    assert list(row) == [1, 2, 12, 45, 12, ["billing"], ["docs"], [], ["billing"]]


async def test_step_minutes_is_inlined(pool: asyncpg.Pool) -> None:
    """The planner sees the expression itself, as if the query spelled it out."""
    plan = await pool.fetch(
        "EXPLAIN (VERBOSE) SELECT step_minutes(steps, 1, handle_minutes) FROM task_types"
    )
    text = "\n".join(r[0] for r in plan)
    assert "CASE WHEN" in text
    assert "step_minutes" not in text


async def test_forecast_summaries(pool: asyncpg.Pool) -> None:
    await pool.execute(
        "INSERT INTO forecast_runs (queue, computed_at, model, intervals_seen, error) "
        "VALUES ('sales', $1, 'mstl_theta', 100, NULL), ('billing', $1, NULL, 3, 'too short')",
        NOW,
    )
    await pool.execute(
        "INSERT INTO queue_forecasts (queue, interval_start, minutes, mean, lo_80, hi_80, "
        "lo_95, hi_95) "
        "SELECT 'sales', $1::timestamptz + make_interval(mins => 15 * i), 15, 1, 0, 2, 0, 3 "
        "FROM generate_series(-2, 3) AS i",
        NOW,
    )
    assert await summaries(pool, NOW) == [
        ForecastSummary("sales", NOW, None, 4),
        ForecastSummary("billing", NOW, "too short", 0),
    ]

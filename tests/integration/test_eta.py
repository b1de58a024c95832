"""ETAs on a real database: from the forecast's lending on day one, for paused and escalated
work, and the SLA watch that finds tasks whose ETA passes their due time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from blending.outlook import ForecastOutlook, read_lending
from blending.policy import policy_for
from queues.catalog import Catalog
from queues.eta_store import EtaStore, WatchSettings
from queues.lifecycle import Lifecycle
from queues.models import AgentIn, TaskIn, TaskTypeIn
from queues.roster import Roster
from queues.tasks import Tasks
from tests.support.center import on_shift, quarter, store_forecast

POLICY = policy_for("forecast_guard")


@pytest.fixture
async def center(pool: asyncpg.Pool) -> asyncpg.Pool:
    """A billing type of 10 minutes, three billing agents on shift, one card agent."""
    await Catalog(pool).put(
        "billing", TaskTypeIn(skills=["billing"], sla_minutes=600, handle_minutes=10)
    )
    roster = Roster(pool)
    for name in ("ana", "ben", "cy"):
        await roster.put(name, AgentIn(name=name.title(), skills={"billing": 3}))
        await on_shift(pool, name)
    await roster.put("dov", AgentIn(name="Dov", skills={"cards": 3}))
    await on_shift(pool, "dov")
    return pool


async def add_tasks(pool: asyncpg.Pool, count: int, due: timedelta | None = None) -> list[int]:
    due_at = datetime.now(UTC) + due if due is not None else None
    items = [
        TaskIn(source="crm", external_id=f"B-{n}", type="billing", title=f"t{n}", due_at=due_at)
        for n in range(count)
    ]
    return [r.task.id for r in await Tasks(pool).create_many(items, "test") if r.task]


def tasks_with_outlook(pool: asyncpg.Pool) -> Tasks:
    return Tasks(pool, outlook=ForecastOutlook(pool, POLICY))


async def test_a_task_with_no_history_gets_its_eta_from_the_forecast(center: asyncpg.Pool) -> None:
    # Four agents on shift, one needed for calls: three spare, three quarters of them billing.
    await store_forecast(center, lambda i: 1)
    ids = await add_tasks(center, 6)
    now = datetime.now(UTC)
    detail = await tasks_with_outlook(center).get(max(ids), now)
    assert detail.eta is not None
    assert detail.eta_basis.startswith("5 ahead in the queue, 10 min each; the forecast leaves")
    # 135 agent-minutes an hour while the shifts last (20 of the 24 hours ahead).
    assert "about 11" in detail.eta_basis
    assert "agent-minutes an hour of spare time to agents with billing skills" in (detail.eta_basis)
    # 50 minutes ahead at 2.25 agents, then its own 10 minutes.
    expected = now + timedelta(minutes=50 / 2.25 + 10)
    assert abs((detail.eta - expected).total_seconds()) < 60
    first = await tasks_with_outlook(center).get(min(ids), now)
    assert first.eta is not None
    assert first.eta_basis.startswith("first in the queue")


async def test_nobody_with_the_skills_is_said(center: asyncpg.Pool) -> None:
    await store_forecast(center, lambda i: 1)
    await Catalog(center).put(
        "mortgage", TaskTypeIn(skills=["mortgage"], sla_minutes=600, handle_minutes=30)
    )
    item = TaskIn(source="crm", external_id="M-1", type="mortgage", title="Check payslips")
    task, _ = await Tasks(center).create(item, "test")
    detail = await tasks_with_outlook(center).get(task.id, datetime.now(UTC))
    assert detail.eta is None
    assert detail.eta_basis == "nobody on the roster has the skills for this work"


async def test_no_spare_agents_until_a_lull_later(center: asyncpg.Pool) -> None:
    # The calls need all four for two hours, then one.
    await store_forecast(center, lambda i: 4 if i < 8 else 1)
    (task_id,) = await add_tasks(center, 1)
    now = datetime.now(UTC)
    detail = await tasks_with_outlook(center).get(task_id, now)
    assert detail.eta is not None
    lull = quarter(now) + timedelta(hours=2)
    assert lull + timedelta(minutes=9) < detail.eta < lull + timedelta(minutes=11)


async def test_paused_and_escalated_tasks_get_an_eta_with_its_basis(center: asyncpg.Pool) -> None:
    await store_forecast(center, lambda i: 4 if i < 8 else 1)
    first, second = await add_tasks(center, 2)
    life = Lifecycle(center)
    for task_id, agent in ((first, "ana"), (second, "ben")):
        await life.offer(task_id, agent, datetime.now(UTC) + timedelta(minutes=5), "t", [])
        await life.claim(task_id, agent)
    await life.pause(first, "ana")
    await life.escalate(second, "ben", "customer disputes the amount")
    tasks = tasks_with_outlook(center)
    now = datetime.now(UTC)
    paused = await tasks.get(first, now)
    assert paused.eta is not None
    assert paused.eta_basis.startswith("paused by ana: 10 of 10 min left, resumed when the calls")
    lull = quarter(now) + timedelta(hours=2)
    assert lull + timedelta(minutes=9) < paused.eta < lull + timedelta(minutes=11)
    escalated = await tasks.get(second, now)
    assert escalated.eta is not None
    assert escalated.eta_basis.startswith(
        "with the supervisors: their answer is assumed within 60 min of the escalation"
    )
    assert escalated.eta > lull  # decided within the hour, then worked in the lull


async def test_the_guard_holding_now_means_no_lending_now(center: asyncpg.Pool) -> None:
    await store_forecast(center, lambda i: 1)
    await center.execute(
        "INSERT INTO blending_guard (grp, mode, since, reason) "
        "VALUES ('all queues', 'hold', now(), '3 calls waiting')"
    )
    now = datetime.now(UTC)
    lending = await read_lending(center, now, POLICY)
    slots = lending.capacity(frozenset({"billing"})).slots
    assert slots[0].start == quarter(now) + timedelta(minutes=15)


async def test_the_watch_finds_tasks_whose_eta_passes_their_due_time_once(
    center: asyncpg.Pool,
) -> None:
    await store_forecast(center, lambda i: 4 if i < 8 else 1)  # a lull in two hours
    at_risk = await add_tasks(center, 2, due=timedelta(minutes=90))
    items = [
        TaskIn(source="crm", external_id=f"L-{n}", type="billing", title="later", due_at=due)
        for n, due in enumerate(
            (datetime.now(UTC) + timedelta(hours=5), datetime.now(UTC) - timedelta(minutes=5))
        )
    ]
    later, past_due = [r.task.id for r in await Tasks(center).create_many(items, "t") if r.task]
    store = EtaStore(center)
    now = datetime.now(UTC)
    lending = await read_lending(center, now, POLICY)
    report = await store.at_risk(now, lending, WatchSettings())
    assert sorted(r.task_id for r in report.at_risk) == sorted(at_risk)
    assert later not in {r.task_id for r in report.at_risk}
    assert past_due not in {r.task_id for r in report.at_risk}  # after the breach: not warned
    risk = report.at_risk[0]
    assert risk.eta > risk.due_at > now
    assert "the forecast leaves" in risk.basis
    assert await store.remember(report.at_risk) == set(at_risk)
    assert await store.remember(report.at_risk) == set()
    again = await store.at_risk(now, lending, WatchSettings())
    assert again.at_risk == []


async def test_the_watch_examines_a_bounded_batch_least_slack_first(
    center: asyncpg.Pool,
) -> None:
    await store_forecast(center, lambda i: 1)
    await add_tasks(center, 40, due=timedelta(minutes=100))
    now = datetime.now(UTC)
    lending = await read_lending(center, now, POLICY)
    report = await EtaStore(center).at_risk(now, lending, WatchSettings(batch=10))
    assert report.examined == 10
    # At 2.25 agents, the 40 tasks take about three hours: the last ones miss 100 minutes,
    # and those are the ones with least slack.
    assert len(report.at_risk) == 10
    ranks = await center.fetch("SELECT id FROM tasks ORDER BY id DESC LIMIT 10")
    assert {r.task_id for r in report.at_risk} == {r["id"] for r in ranks}

"""A recall takes back the recalled agents' open offers in the same transaction: back to the
queue, one 'withdrawn' event each, and a later claim refused with the reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from blending import decision_store
from blending.guard import GuardState
from blending.policy import Decision, GroupDecision
from queues.catalog import Catalog
from queues.dispatch import DispatchSettings
from queues.errors import OfferWithdrawn
from queues.lifecycle import Lifecycle
from queues.models import AgentIn, TaskIn, TaskTypeIn
from queues.roster import Roster
from queues.tasks import Tasks

REASON = "calls are rising: 5 calls waiting"


async def _seed(pool: asyncpg.Pool) -> list[int]:
    await Catalog(pool).put(
        "billing", TaskTypeIn(skills=["billing"], sla_minutes=600, handle_minutes=8)
    )
    for name in ("ana", "ben", "cy"):
        await Roster(pool).put(name, AgentIn(name=name.title(), skills={"billing": 2}))
    items = [
        TaskIn(source="s", external_id=str(i), type="billing", title=f"t{i}") for i in range(4)
    ]
    return [r.task.id for r in await Tasks(pool).create_many(items, "test") if r.task]


def _recall(*agents: str) -> Decision:
    group = GroupDecision(
        "all queues",
        recall=list(agents),
        guard=GuardState("recall", datetime.now(UTC)),
        reason=REASON,
    )
    return Decision({"all queues": group})


async def test_a_recall_withdraws_the_open_offers_of_the_recalled_agents(
    pool: asyncpg.Pool,
) -> None:
    first, second, third, fourth = await _seed(pool)
    life = Lifecycle(pool)
    soon = datetime.now(UTC) + timedelta(minutes=5)
    await life.offer(first, "ana", soon, "t", [])
    await life.offer(second, "ben", soon, "t", [])
    await life.offer(third, "ana", soon, "t", [])
    await life.claim(third, "ana")  # work in progress stays: the recall asks to pause it
    await life.offer(fourth, "cy", soon, "t", [])

    acted = await decision_store.act(
        pool, _recall("ana", "ben"), datetime.now(UTC), DispatchSettings(), {}
    )

    assert sorted(acted.recalled) == ["ana", "ben"]
    assert sorted((w.task.id, w.agent_id) for w in acted.withdrawn) == sorted(
        [(first, "ana"), (second, "ben")]
    )
    assert all(w.task.status == "queued" and w.task.holder is None for w in acted.withdrawn)
    rows = {r["id"]: r for r in await pool.fetch("SELECT id, status, holder FROM tasks")}
    assert [(rows[i]["status"], rows[i]["holder"]) for i in (first, second, third, fourth)] == [
        ("queued", None),
        ("queued", None),
        ("in_progress", "ana"),
        ("offered", "cy"),
    ]
    events = await pool.fetch(
        "SELECT task_id, from_status, to_status, reason, data->>'agent_id' AS agent "
        "FROM task_events WHERE event = 'withdrawn' ORDER BY task_id"
    )
    assert sorted(
        (e["task_id"], e["from_status"], e["to_status"], e["reason"], e["agent"]) for e in events
    ) == sorted(
        [
            (first, "offered", "queued", "withdrawn: recalled to the phones", "ana"),
            (second, "offered", "queued", "withdrawn: recalled to the phones", "ben"),
        ]
    )

    with pytest.raises(OfferWithdrawn, match="withdrawn: recalled to the phones"):
        await life.claim(first, "ana")
    assert await pool.fetchval("SELECT status FROM tasks WHERE id = $1", first) == "queued"

    again = await decision_store.act(
        pool, _recall("ana", "ben"), datetime.now(UTC), DispatchSettings(), {}
    )
    assert again.recalled == []
    assert again.withdrawn == []
    assert await pool.fetchval("SELECT count(*) FROM task_events WHERE event = 'withdrawn'") == 2


async def test_the_recall_and_the_withdrawal_commit_together(pool: asyncpg.Pool) -> None:
    first, *_ = await _seed(pool)
    await Lifecycle(pool).offer(first, "ana", datetime.now(UTC) + timedelta(minutes=5), "t", [])
    async with pool.acquire() as conn:
        tx = conn.transaction()
        await tx.start()
        await decision_store.act(conn, _recall("ana"), datetime.now(UTC), DispatchSettings(), {})
        await tx.rollback()
    assert await pool.fetchval("SELECT count(*) FROM blending_recalls") == 0
    assert await pool.fetchval("SELECT status FROM tasks WHERE id = $1", first) == "offered"

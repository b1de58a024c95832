"""The dispatcher's pick reads few tasks of a long queue and still picks the best one."""

from __future__ import annotations

import random

import asyncpg
import pytest

from queues.db import load_queries
from tests.integration.test_lifecycle import add_tasks, world

__all__ = ["world"]

_SQL = load_queries("queues", "tasks.sql")

BEST = """
SELECT t.id FROM tasks t JOIN task_types tt ON tt.name = t.type
WHERE t.status = 'queued' AND t.type = ANY ($1::text[])
ORDER BY tt.base_priority + t.rule_boost
         + sla_urgency(t.created_epoch, t.sla_seconds, date_part('epoch', now()), $2) DESC,
         t.id
LIMIT 1
"""


async def _spread(pool: asyncpg.Pool, seed: int, boosts: list[int]) -> None:
    """Give the queued tasks created and due times around now, some past the top share of
    their SLA and some not, and rule boosts drawn from ``boosts``."""
    rng = random.Random(seed)
    ids = [r["id"] for r in await pool.fetch("SELECT id FROM tasks WHERE status = 'queued'")]
    await pool.executemany(
        "UPDATE tasks SET created_epoch = date_part('epoch', now()) - $2,"
        " sla_seconds = $3, rule_boost = $4 WHERE id = $1",
        [
            (
                i,
                rng.uniform(0, 36_000),
                rng.choice([0.0, rng.uniform(60, 72_000)]),
                rng.choice(boosts),
            )
            for i in ids
        ],
    )


@pytest.mark.parametrize(
    ("share", "boosts"),
    [
        (0.8, [0]),
        (0.8, [0, 20, 40]),
        (0.5, [0, 950, -30]),
        (0.8, [0, 2000]),
        (1.5, [0, 10, 900]),
    ],
)
async def test_the_pick_over_a_few_of_each_group_is_the_best_of_the_whole_queue(
    world: asyncpg.Pool, share: float, boosts: list[int]
) -> None:
    await add_tasks(world, 300, "billing")
    await add_tasks(world, 300, "mortgage")
    for seed in range(5):
        await _spread(world, seed, boosts)
        best = await world.fetchval(BEST, ["billing", "mortgage"], share)
        for few in (1, 4, 64, None):
            async with world.acquire() as conn, conn.transaction():
                row = await conn.fetchrow(
                    _SQL["pick_for_agent"], "ben", ["billing", "mortgage"], [1, 1], share, few
                )
            assert row is not None
            assert row["id"] == best, (seed, few)


async def test_a_task_being_offered_to_one_agent_is_passed_over_for_the_next_best(
    world: asyncpg.Pool,
) -> None:
    await add_tasks(world, 50, "billing")
    await _spread(world, 1, [0, 20])
    args = ("ben", ["billing"], [1], 0.8)
    async with world.acquire() as a, a.transaction():
        first = await a.fetchrow(_SQL["pick_for_agent"], *args, 64)
        assert first is not None
        assert first["id"] == await world.fetchval(BEST, ["billing"], 0.8)
        async with world.acquire() as b, b.transaction():
            second = await b.fetchrow(_SQL["pick_for_agent"], *args, 64)
    assert second is not None
    assert second["id"] == await world.fetchval(BEST + " OFFSET 1", ["billing"], 0.8)

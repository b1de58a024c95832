"""Priority rules through the API: re-ranking at the next tick, time boxes, audit, refusals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from aiohttp.test_utils import TestClient

from queues.dispatch import Dispatcher, Offer
from queues.priority_store import Ranker
from tests.conftest import AUTH

Client = TestClient[Any, Any]


async def _setup(client: Client) -> None:
    await client.put(
        "/api/v1/task-types/billing",
        json={"skills": [], "sla_minutes": 1440, "handle_minutes": 5},
        headers=AUTH,
    )
    await client.put("/api/v1/agents/ana", json={"name": "Ana"}, headers=AUTH)
    for n, tier in enumerate(["gold", "platinum", "silver"]):
        body = {
            "source": "crm",
            "external_id": f"T{n}",
            "type": "billing",
            "title": f"Task {n}",
            "customer_tier": tier,
        }
        assert (await client.post("/api/v1/tasks", json=body, headers=AUTH)).status == 201


async def test_a_rule_reorders_the_queue_at_the_next_tick(
    client: Client, pool: asyncpg.Pool
) -> None:
    await _setup(client)
    ranker = Ranker(pool)
    await ranker.tick(datetime.now(UTC))
    put = await client.put(
        "/api/v1/priority-rules/platinum",
        json={
            "when": 'customer_tier == "platinum"',
            "boost": 20,
            "reason": "key accounts",
            "author": "sara",
        },
        headers=AUTH,
    )
    assert put.status == 201
    report = await ranker.tick(datetime.now(UTC))
    assert (report.full, report.changed) == (True, 1)
    offer = await Dispatcher(pool).next_for("ana", 60, datetime.now(UTC))
    assert isinstance(offer, Offer)
    assert offer.task.customer_tier == "platinum"
    assert "platinum +20" in offer.why
    detail = await (await client.get(f"/api/v1/tasks/{offer.task.id}", headers=AUTH)).json()
    assert detail["priority_reasons"][-1] == "platinum +20"
    assert detail["priority"] >= 20
    assert (await ranker.tick(datetime.now(UTC))).changed == 0


async def test_a_new_leader_goes_on_from_the_last_ranking(
    client: Client, pool: asyncpg.Pool
) -> None:
    # Re-ranking a million open tasks takes minutes: a leader that takes over ranks only what
    # the last complete ranking left, unless the rules changed since.
    await _setup(client)
    platinum = {"when": 'customer_tier == "platinum"', "boost": 20}
    await client.put("/api/v1/priority-rules/platinum", json=platinum, headers=AUTH)
    first = await Ranker(pool).tick(datetime.now(UTC))
    assert (first.full, first.examined) == (True, 3)
    body = {"source": "crm", "external_id": "T9", "type": "billing", "title": "New"}
    assert (await client.post("/api/v1/tasks", json=body, headers=AUTH)).status == 201
    taking_over = await Ranker(pool).tick(datetime.now(UTC))
    assert (taking_over.full, taking_over.examined) == (False, 1)
    gold = {"when": 'customer_tier == "gold"', "boost": 5}
    await client.put("/api/v1/priority-rules/gold", json=gold, headers=AUTH)
    after_a_change = await Ranker(pool).tick(datetime.now(UTC))
    assert (after_a_change.full, after_a_change.examined) == (True, 4)
    assert await pool.fetchval("SELECT sum(rule_boost) FROM tasks") == 25


async def test_a_time_boxed_rule_ends_by_itself(client: Client, pool: asyncpg.Pool) -> None:
    await _setup(client)
    until = datetime.now(UTC) + timedelta(hours=4)
    body = {
        "when": 'type == "billing"',
        "boost": 30,
        "until": until.isoformat(),
        "reason": "month-end",
    }
    assert (
        await client.put("/api/v1/priority-rules/month-end", json=body, headers=AUTH)
    ).status == 201
    ranker = Ranker(pool)
    assert (await ranker.tick(datetime.now(UTC))).changed == 3
    assert await pool.fetchval("SELECT sum(rule_boost) FROM tasks") == 90
    later = until + timedelta(seconds=1)
    assert (await ranker.tick(later)).changed == 3
    assert await pool.fetchval("SELECT sum(rule_boost) FROM tasks") == 0
    listed = await (await client.get("/api/v1/priority-rules", headers=AUTH)).json()
    assert listed["items"][0]["active"] is True
    assert "customer_tier" in listed["fields"]


async def test_rule_changes_are_audited_and_deletion_unranks(
    client: Client, pool: asyncpg.Pool
) -> None:
    await _setup(client)
    url = "/api/v1/priority-rules/gold"
    await client.put(
        url, json={"when": 'customer_tier == "gold"', "boost": 5, "author": "sara"}, headers=AUTH
    )
    await client.put(
        url, json={"when": 'customer_tier == "gold"', "boost": 8, "author": "omar"}, headers=AUTH
    )
    ranker = Ranker(pool)
    await ranker.tick(datetime.now(UTC))
    assert await pool.fetchval("SELECT sum(rule_boost) FROM tasks") == 8
    deleted = await client.delete(f"{url}?author=sara&reason=campaign%20over", headers=AUTH)
    assert deleted.status == 200
    await ranker.tick(datetime.now(UTC))
    assert await pool.fetchval("SELECT sum(rule_boost) FROM tasks") == 0
    log = await (await client.get("/api/v1/priority-rule-changes?name=gold", headers=AUTH)).json()
    assert [(c["action"], c["author"]) for c in log["items"]] == [
        ("deleted", "sara"),
        ("replaced", "omar"),
        ("created", "sara"),
    ]
    assert log["items"][0]["reason"] == "campaign over"
    assert (await client.get(url, headers=AUTH)).status == 404


async def test_invalid_rules_are_refused_with_the_position(
    client: Client, pool: asyncpg.Pool
) -> None:
    response = await client.put(
        "/api/v1/priority-rules/bad", json={"when": "value > > 3", "boost": 1}, headers=AUTH
    )
    assert response.status == 422
    error = (await response.json())["error"]
    assert error["code"] == "invalid_rule"
    assert (error["fields"][0]["line"], error["fields"][0]["column"]) == (1, 9)
    past = await client.put(
        "/api/v1/priority-rules/old",
        json={"when": "true", "boost": 1, "until": "2020-01-01T00:00:00Z"},
        headers=AUTH,
    )
    assert past.status == 422
    assert await pool.fetchval("SELECT count(*) FROM priority_rules") == 0
    assert await pool.fetchval("SELECT count(*) FROM priority_rule_changes") == 0

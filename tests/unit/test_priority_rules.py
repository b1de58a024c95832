"""Priority rules: CEL expressions, time boxes, audit, re-ranking and explained priorities."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from queues.dispatch import Dispatcher, Offer
from queues.priority import InvalidRule, Rule, compile_rule, evaluate, explain, sla_urgency
from queues.priority_store import Ranker
from tests.conftest import AUTH

Client = TestClient[Any, Any]
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def fields(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "type": "billing",
        "step": 1,
        "source": "crm",
        "title": "Refund",
        "customer_ref": "C",
        "customer_tier": "gold",
        "value": 250.0,
        "status": "queued",
        "age_minutes": 30.0,
        "minutes_to_sla": 90.0,
        "payload": {"branch": "Haifa"},
    }
    base.update(overrides)
    return base


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ('customer_tier == "platinum"', False),
        ('customer_tier in ["gold", "platinum"] && value > 100', True),
        ('has(payload.branch) && payload.branch == "Haifa"', True),
        ('payload.region == "north"', False),  # a missing key does not match
        ("minutes_to_sla < 120.0 && age_minutes >= 30.0", True),
        ('type.startsWith("bill") && source != "web"', True),
    ],
)
def test_rules_match_task_fields(expression: str, expected: bool) -> None:
    compiled = compile_rule(Rule("r", expression, 10))
    assert compiled.matches(fields()) is expected


@pytest.mark.parametrize(
    ("expression", "line", "column", "words"),
    [
        ("value > > 3", 1, 9, "Syntax error"),
        ("customer_tier == 'gold' &&\n  tier == 1", 2, 3, "unknown field 'tier'"),
        ("value + 1", None, None, "float + int"),
        ("customer_tier", None, None, "true or false"),
    ],
)
def test_invalid_rules_say_where_and_why(
    expression: str, line: int | None, column: int | None, words: str
) -> None:
    with pytest.raises(InvalidRule) as error:
        compile_rule(Rule("r", expression, 10))
    assert (error.value.line, error.value.column) == (line, column)
    assert words in str(error.value)


def test_reasons_name_each_matching_rule() -> None:
    rules = [
        compile_rule(Rule("platinum", 'customer_tier == "platinum"', 20)),
        compile_rule(Rule("month-end boost", 'type == "billing"', 15)),
    ]
    assert evaluate(rules, fields(customer_tier="platinum")) == (
        35,
        ["platinum +20", "month-end boost +15"],
    )


def test_urgency_climbs_continuously_then_goes_to_the_top() -> None:
    created, due = NOW, NOW + timedelta(hours=10)
    values = [sla_urgency(created, due, NOW + timedelta(hours=h), 0.8) for h in range(9)]
    assert values[:8] == sorted(values[:8])
    assert values[7] < 50 < values[8]
    assert values[8] == 1000
    ranked = explain(5, 20, ["platinum +20"], created, due, NOW + timedelta(hours=5), 0.8)
    assert ranked.priority == 5 + 20 + 25
    assert ranked.reasons == ["SLA in 5h00 +25", "type base +5", "platinum +20"]


async def test_sql_urgency_matches_the_explanation(pool: asyncpg.Pool) -> None:
    created, due = NOW, NOW + timedelta(hours=10)
    for hours in (0, 1, 4.5, 7.9, 8, 12):
        at = NOW + timedelta(hours=hours)
        in_sql = await pool.fetchval(
            "SELECT sla_urgency($1, $2, $3, 0.8)",
            created.timestamp(),
            (due - created).total_seconds(),
            at.timestamp(),
        )
        assert in_sql == pytest.approx(sla_urgency(created, due, at, 0.8))


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
    offer = await Dispatcher(pool).next_for("ana", None)
    assert isinstance(offer, Offer)
    assert offer.task.customer_tier == "platinum"
    assert "platinum +20" in offer.why
    detail = await (await client.get(f"/api/v1/tasks/{offer.task.id}", headers=AUTH)).json()
    assert detail["priority_reasons"][-1] == "platinum +20"
    assert detail["priority"] >= 20
    assert (await ranker.tick(datetime.now(UTC))).changed == 0


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

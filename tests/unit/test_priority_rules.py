"""Priority rules: CEL expressions, where they fail, the SLA urgency and explained priorities."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from queues.priority import InvalidRule, Rule, compile_rule, evaluate, explain, sla_urgency

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

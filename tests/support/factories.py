"""Request bodies for tests, with sensible defaults that a test overrides."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from tests.conftest import AUTH


def task_type(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "skills": ["mortgage"],
        "sla_minutes": 1440,
        "handle_minutes": 12,
        "pausable": True,
    }
    body.update(overrides)
    return body


def task(external_id: str = "APP-1042", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "source": "mortgage-system",
        "external_id": external_id,
        "type": "mortgage_document_check",
        "title": "Check payslips",
        "customer_ref": "CUST-88",
        "customer_tier": "gold",
        "value": 1200.0,
        "due_at": "2026-11-24T17:00:00Z",
        "payload": {"branch": "Haifa"},
    }
    body.update(overrides)
    return body


def agent(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Dana Levi",
        "slack_user_id": "U01DANA0001",
        "skills": {"mortgage": 3},
        "telephony_ids": {"amazon_connect": "arn:aws:connect:agent/1", "twilio": "WK0001"},
        "team": "Retail",
        "cost_per_hour": 32.5,
    }
    body.update(overrides)
    return body


async def put_type(
    client: TestClient[Any, Any], name: str = "mortgage_document_check", **overrides: Any
) -> None:
    response = await client.put(
        f"/api/v1/task-types/{name}", json=task_type(**overrides), headers=AUTH
    )
    assert response.status in (200, 201), await response.text()

"""A center to look at: two queues, three agents in different states, back-office work at
risk, and the engine's decisions of the morning, all through the service's own API, feeds
and decision store."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import asyncpg
from aiohttp.test_utils import TestClient

from blending import decision_store
from blending.figures import Figures
from blending.guard import GuardState
from blending.policy import Decision, GroupDecision
from blending.windows import UsableWindow
from queues.dispatch import DispatchSettings
from tests.conftest import AUTH

AGENTS = (
    ("dana", "Dana Levi", "U01DANA0001", "sales"),
    ("omar", "Omar Haddad", "U01OMAR0001", "care"),
    ("lena", "Lena Park", None, "sales"),
)


def state(n: int, agent: str, value: str, at: datetime) -> dict[str, Any]:
    return {
        "type": "agent_state",
        "event_id": f"s{n}",
        "at": at.isoformat(),
        "agent_id": agent,
        "state": value,
    }


async def feed(api: TestClient[Any, Any], events: list[dict[str, Any]]) -> None:
    response = await api.post("/feeds/generic/events", json=events, headers=AUTH)
    assert response.status == 200, await response.text()


async def seed(api: TestClient[Any, Any], pool: asyncpg.Pool, now: datetime) -> None:
    for name, minutes in (("billing", 90), ("address_change", 1440)):
        kind = {"skills": ["billing"], "sla_minutes": minutes, "handle_minutes": 10}
        response = await api.put(f"/api/v1/task-types/{name}", json=kind, headers=AUTH)
        assert response.status in (200, 201), await response.text()
    for agent_id, name, slack_id, queue in AGENTS:
        body: dict[str, Any] = {
            "name": name,
            "skills": {"billing": 2},
            "queue": queue,
            "telephony_ids": {"generic": agent_id},
        }
        if slack_id:
            body["slack_user_id"] = slack_id
        response = await api.put(f"/api/v1/agents/{agent_id}", json=body, headers=AUTH)
        assert response.status == 201, await response.text()
    for n, (type_, due) in enumerate(
        (
            ("billing", now - timedelta(minutes=5)),
            ("billing", now + timedelta(minutes=50)),
            ("address_change", now + timedelta(hours=20)),
        ),
        start=1,
    ):
        task = {
            "source": "crm",
            "external_id": f"CRM-{n}",
            "type": type_,
            "title": f"Refund request {n}",
            "customer_ref": f"CUST-{n}",
            "due_at": due.isoformat(),
        }
        response = await api.post("/api/v1/tasks", json=task, headers=AUTH)
        assert response.status == 201, await response.text()
    earlier = now - timedelta(minutes=8)
    await feed(
        api,
        [
            state(1, "dana", "available", earlier),
            state(2, "omar", "on_call", earlier + timedelta(minutes=1)),
            state(3, "lena", "break", earlier + timedelta(minutes=2)),
            {
                "type": "call_arrived",
                "event_id": "c1",
                "at": (now - timedelta(seconds=45)).isoformat(),
                "queue": "sales",
                "call_id": "call-1",
            },
            {
                "type": "call_arrived",
                "event_id": "c2",
                "at": (now - timedelta(minutes=3)).isoformat(),
                "queue": "care",
                "call_id": "call-2",
            },
        ],
    )
    await decide(pool, now)


async def decide(pool: asyncpg.Pool, now: datetime) -> None:
    """The engine lends Dana in a lull of sales, then care's guard recalls Omar."""
    start = now - timedelta(minutes=12)
    window = UsableWindow("dana", now - timedelta(minutes=30), now - timedelta(minutes=5), 0.9)
    sales = Figures(
        "forecast_guard",
        "hi_80",
        start,
        forecast_calls=31.5,
        need=7,
        staffed=9,
        surplus=2,
        idle=3,
        calls_waiting=0,
        service_level=0.92,
        guard="open",
    )
    lend = Decision({"sales": GroupDecision("sales", windows=[window], figures=sales)})
    await decision_store.act(pool, lend, now - timedelta(minutes=30), DispatchSettings(), {})
    care = Figures(
        "forecast_guard",
        "hi_80",
        start,
        need=4,
        staffed=4,
        lent=1,
        calls_waiting=5,
        longest_wait_seconds=31.0,
        service_level=0.55,
        guard="recall",
        tripped=("hold_waiting", "recall_waiting"),
    )
    rising = GroupDecision(
        "care",
        recall=["omar"],
        guard=GuardState("recall", now),
        reason="calls are rising: 5 calls waiting",
        figures=care,
    )
    await decision_store.act(pool, Decision({"care": rising}), now, DispatchSettings(), {})

"""A day to report on (2026-11-23, UTC): Dana's and Omar's calls and back-office work, with
the figures the reports must show worked out by hand.

Agents, types and state reports go through the service's API and feed; the day's task history
(segments and completions at fixed times) is written as the lifecycle writes it, since the
lifecycle stamps its rows with the database's clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from aiohttp.test_utils import TestClient

from tests.conftest import AUTH

DAY = datetime(2026, 11, 23, tzinfo=UTC)


def at(hour: int, minute: int = 0) -> datetime:
    return DAY + timedelta(hours=hour, minutes=minute)


AGENTS = (
    # id, name, team, cost per hour, skills
    ("dana", "Dana Levi", "north", 30.0, {"billing": 3}),
    ("omar", "Omar Haddad", "north", 40.0, {"billing": 4}),
    ("kim", "Kim Sato", "north", None, {"billing": 1}),
    ("lena", "Lena Park", "south", 25.0, {"billing": 2}),
)
DANA_STATES = (
    (9, 0, "available"),
    (9, 30, "on_call"),
    (10, 0, "after_call_work"),
    (10, 10, "break"),
    (10, 30, "available"),
    (12, 0, "offline"),
)
# task, holder, segments (start, end, ended_by), worked seconds, outcome, lent in a lull
WORK = (
    (1, "dana", [((10, 30), (10, 50), "completed")], 1200, "refunded", True),
    (2, "omar", [((11, 0), (11, 10), "completed")], 600, "refunded", False),
    (
        3,
        "dana",
        [((11, 0), (11, 5), "paused"), ((11, 15), (11, 35), "completed")],
        1500,
        "declined",
        False,
    ),
    (4, "dana", [((11, 40), (12, 0), "completed")], 1200, "refunded", False),
)


async def seed_day(
    api: TestClient[Any, Any], pool: asyncpg.Pool, shift_at: datetime | None = None
) -> None:
    """The day; Omar's shift runs from an hour before ``shift_at`` (default: the database's
    now) to two hours after."""
    kinds = {
        "billing": {"skills": ["billing"], "sla_minutes": 600, "handle_minutes": 10},
        "kyc_review": {"skills": ["kyc"], "sla_minutes": 1440, "handle_minutes": 20},
    }
    for name, kind in kinds.items():
        response = await api.put(f"/api/v1/task-types/{name}", json=kind, headers=AUTH)
        assert response.status in (200, 201), await response.text()
    for agent_id, name, team, cost, skills in AGENTS:
        body: dict[str, Any] = {
            "name": name,
            "team": team,
            "skills": skills,
            "queue": "sales",
            "telephony_ids": {"generic": agent_id},
        }
        if cost is not None:
            body["cost_per_hour"] = cost
        response = await api.put(f"/api/v1/agents/{agent_id}", json=body, headers=AUTH)
        assert response.status == 201, await response.text()
    events = [
        {
            "type": "agent_state",
            "event_id": f"dana-{n}",
            "at": at(h, m).isoformat(),
            "agent_id": "dana",
            "state": state,
        }
        for n, (h, m, state) in enumerate(DANA_STATES)
    ]
    response = await api.post("/feeds/generic/events", json=events, headers=AUTH)
    assert response.status == 200, await response.text()
    for n, type_ in enumerate(("billing",) * 4 + ("kyc_review", "billing"), start=1):
        task = {"source": "crm", "external_id": f"R-{n}", "type": type_, "title": f"Case {n}"}
        response = await api.post("/api/v1/tasks", json=task, headers=AUTH)
        assert response.status == 201, await response.text()
    async with pool.acquire() as conn, conn.transaction():
        for task_id, holder, segments, worked, outcome, lent in WORK:
            if lent:
                await conn.execute(
                    "INSERT INTO blending_events (at, event, grp, agent_id, task_id, reason,"
                    " actor) VALUES ($1, 'lend_offered', 'sales', $2, $3, 'a lull', 'blendbot')",
                    at(10, 29),
                    holder,
                    task_id,
                )
            for n, ((h0, m0), (h1, m1), ended_by) in enumerate(segments):
                if n:
                    await conn.execute(
                        "INSERT INTO task_events (task_id, at, event, from_status, to_status,"
                        " actor) VALUES ($1, $2, 'resumed', 'paused', 'in_progress', $3)",
                        task_id,
                        at(h0, m0),
                        holder,
                    )
                await conn.execute(
                    "INSERT INTO task_segments (task_id, agent_id, step, started_at, started_by,"
                    " ended_at, ended_by) VALUES ($1, $2, 1, $3, 'claimed', $4, $5)",
                    task_id,
                    holder,
                    at(h0, m0),
                    at(h1, m1),
                    ended_by,
                )
                event = "completed" if ended_by == "completed" else "paused"
                data = (
                    {"outcome": outcome, "step": 1, "steps": 1, "worked_seconds": worked}
                    if event == "completed"
                    else {}
                )
                await conn.execute(
                    "INSERT INTO task_events (task_id, at, event, from_status, to_status, actor,"
                    " data) VALUES ($1, $2, $3, 'in_progress', $4, $5, $6)",
                    task_id,
                    at(h1, m1),
                    event,
                    "done" if event == "completed" else "paused",
                    holder,
                    data,
                )
            await conn.execute(
                "UPDATE tasks SET status = 'done', due_at = $2 WHERE id = $1",
                task_id,
                at(11, 30),
            )
        await conn.execute(
            "INSERT INTO interval_stats (queue, interval_start, minutes, offered, answered,"
            " abandoned, answered_in_sl) VALUES ('sales', $1, 15, 100, 90, 10, 72)",
            at(10),
        )
        await conn.execute(
            "INSERT INTO blending_state_changes (at, blending_on, changed_by) "
            "VALUES ($1, true, 'U0SAM00001')",
            at(8),
        )
        await conn.execute(
            "INSERT INTO agent_schedules (agent_id, kind, starts_at, ends_at) VALUES ('omar',"
            " 'shift', coalesce($1, now()) - interval '1 hour',"
            " coalesce($1, now()) + interval '2 hours')",
            shift_at,
        )

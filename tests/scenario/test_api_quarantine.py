"""The quarantine through the API: rows set aside, with their reason, for a person to see."""

from __future__ import annotations

from typing import Any

import asyncpg
from aiohttp.test_utils import TestClient

from tests.conftest import AUTH

Client = TestClient[Any, Any]


async def _set_aside(pool: asyncpg.Pool, table: str, reason: str, row: dict[str, Any]) -> None:
    await pool.execute(
        "INSERT INTO quarantine (table_name, reason, row) VALUES ($1, $2, $3)",
        table,
        reason,
        row,
    )


async def test_quarantined_rows_are_listed_newest_first_with_their_reason(
    client: Client, pool: asyncpg.Pool
) -> None:
    await _set_aside(pool, "telephony_calls", "a call time outside 1970-2100", {"call_id": "c1"})
    await _set_aside(pool, "telephony_events", "event time outside 1970-2100", {"event_id": "e"})
    response = await client.get("/api/v1/quarantine", headers=AUTH)
    assert response.status == 200
    items = (await response.json())["items"]
    assert [i["table"] for i in items] == ["telephony_events", "telephony_calls"]
    assert items[1]["row"] == {"call_id": "c1"}
    assert items[1]["reason"] == "a call time outside 1970-2100"
    only = await client.get("/api/v1/quarantine", params={"table": "telephony_calls"}, headers=AUTH)
    assert [i["row"] for i in (await only.json())["items"]] == [{"call_id": "c1"}]
    older = await client.get(
        "/api/v1/quarantine", params={"before": str(items[0]["id"])}, headers=AUTH
    )
    assert [i["id"] for i in (await older.json())["items"]] == [items[1]["id"]]


async def test_bad_quarantine_queries_are_422_and_it_needs_a_token(client: Client) -> None:
    for params in ({"table": "tasks"}, {"limit": "0"}, {"before": "x"}):
        response = await client.get("/api/v1/quarantine", params=params, headers=AUTH)
        assert response.status == 422, params
    assert (await client.get("/api/v1/quarantine")).status == 401

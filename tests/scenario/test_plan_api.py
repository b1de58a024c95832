"""``GET /api/v1/plan``: the back-office plan over HTTP, as the OpenAPI document describes it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from aiohttp.test_utils import TestClient
from openapi_core import OpenAPI

from tests.conftest import AUTH
from tests.scenario.test_openapi import _call
from tests.support.backoffice import agent, history, shifts

Client = TestClient[Any, Any]


async def test_the_plan_over_http(client: Client, pool: asyncpg.Pool) -> None:
    now = datetime.now(UTC)
    await history(pool, weeks=5, now=now)
    await agent(pool, "bo1", "Back Office", ["billing"])
    await shifts(pool, "bo1", now.date(), 3)
    spec = OpenAPI.from_dict(await (await client.get("/api/v1/openapi.json")).json())
    assert (await _call(client, spec, "GET", "/api/v1/plan?days=3")).status_code == 200
    plan = await (await client.get("/api/v1/plan?days=3", headers=AUTH)).json()
    assert len(plan["days"]) == 3
    assert plan["types"][0]["type"] == "billing"
    assert plan["skills"][0]["days"][1]["dedicated_hours"] == 7.5
    for query in ("?days=0", "?days=61", "?days=x", "?weeks=2"):
        bad = await _call(client, spec, "GET", "/api/v1/plan" + query)
        assert bad.status_code == 422, query
    assert (await _call(client, spec, "GET", "/api/v1/plan", auth=False)).status_code == 401
    # A site's plan: its own agents' hours and its share of the work; the center's is unchanged.
    await client.put("/api/v1/sites/pune", json=PUNE, headers=AUTH)
    await client.put("/api/v1/agents/bo1/site", json={"site_id": "pune"}, headers=AUTH)
    pune = await _call(client, spec, "GET", "/api/v1/plan?days=3&site=pune")
    assert pune.status_code == 200
    body = await (await client.get("/api/v1/plan?days=3&site=pune", headers=AUTH)).json()
    assert (body["site"], body["timezone"]) == ("pune", "Asia/Kolkata")
    assert (body["skills"][0]["share"], body["types"][0]["share"]) == (1.0, 1.0)
    default = await (await client.get("/api/v1/plan?days=3&site=default", headers=AUTH)).json()
    assert default["skills"][0]["share"] == 0.0
    assert default["skills"][0]["days"][1]["dedicated_hours"] == 0.0
    for query, status in (("&site=mars", 404), ("&site=Not%20A%20Site", 422), ("&site=", 422)):
        bad = await _call(client, spec, "GET", "/api/v1/plan?days=3" + query)
        assert bad.status_code == status, query
    assert (await client.get("/api/v1/sites/pune", headers=AUTH)).status == 200
    assert (await client.get("/api/v1/sites/mars", headers=AUTH)).status == 404  # none made


PUNE = {"name": "Pune", "time_zone": "Asia/Kolkata"}


async def test_a_what_if_over_http(client: Client, pool: asyncpg.Pool) -> None:
    now = datetime.now(UTC)
    await history(pool, weeks=5, now=now)
    spec = OpenAPI.from_dict(await (await client.get("/api/v1/openapi.json")).json())
    start = (now + timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)
    body = {
        "agents": 2,
        "start": start.isoformat(),
        "end": (start + timedelta(hours=2)).isoformat(),
        "skills": ["billing"],
    }
    ok = await _call(client, spec, "POST", "/api/v1/plan/what-if", body)
    assert ok.status_code == 200
    for bad in (
        {**body, "end": body["start"]},
        {**body, "agents": 0},
        {**body, "group": "nowhere"},
        {**body, "minutes": 3},
    ):
        assert (await _call(client, spec, "POST", "/api/v1/plan/what-if", bad)).status_code == 422
    # On a site's clock: the same move, the days of that site; an unknown site is not found.
    site = {"name": "Pune", "time_zone": "Asia/Kolkata"}
    await client.put("/api/v1/sites/pune", json=site, headers=AUTH)
    there = await _call(client, spec, "POST", "/api/v1/plan/what-if?site=pune", body)
    assert there.status_code == 200
    for query, status in (("?site=mars", 404), ("?site=Not%20A%20Site", 422), ("?days=2", 422)):
        answer = await _call(client, spec, "POST", "/api/v1/plan/what-if" + query, body)
        assert answer.status_code == status, query


async def test_arrivals_per_interval_over_http(client: Client, pool: asyncpg.Pool) -> None:
    # Ten billing tasks a weekday from 09:00 UTC, one every 20 minutes.
    now = datetime.now(UTC)
    await history(pool, weeks=8, now=now)
    spec = OpenAPI.from_dict(await (await client.get("/api/v1/openapi.json")).json())
    answer = await _call(client, spec, "GET", "/api/v1/plan/intervals?days=2&minutes=60")
    assert answer.status_code == 200
    body = await (await client.get("/api/v1/plan/intervals?days=2", headers=AUTH)).json()
    assert (body["days"], body["minutes"]) == (2, 60)
    (billing,) = body["types"]
    assert billing["type"] == "billing"
    starts = [datetime.fromisoformat(i["start"]) for i in billing["intervals"]]
    assert {s.astimezone(UTC).hour for s in starts} <= {9, 10, 11, 12}
    assert all(i["lo_80"] <= i["mean"] <= i["hi_80"] for i in billing["intervals"])
    # On a site's clock the same arrivals fall in its own half hours; the site has the only
    # agent with the skill, so all of them are its own, and none the default site's.
    await client.put("/api/v1/sites/pune", json=PUNE, headers=AUTH)
    pune = await client.get("/api/v1/plan/intervals?minutes=30&site=pune", headers=AUTH)
    assert (await pune.json())["types"] == []
    await agent(pool, "bo1", "Back Office", ["billing"])
    await client.put("/api/v1/agents/bo1/site", json={"site_id": "pune"}, headers=AUTH)
    pune = await client.get("/api/v1/plan/intervals?minutes=30&site=pune", headers=AUTH)
    (local,) = (await pune.json())["types"]
    assert {i["start"][-6:] for i in local["intervals"]} == {"+05:30"}
    default = await client.get("/api/v1/plan/intervals?site=default", headers=AUTH)
    assert (await default.json())["types"] == []
    only = await client.get("/api/v1/plan/intervals?type=letters", headers=AUTH)
    assert (await only.json())["types"] == []
    for query in ("?minutes=20", "?days=0", "?days=32", "?type=Bad%20Type", "?hours=2"):
        bad = await _call(client, spec, "GET", "/api/v1/plan/intervals" + query)
        assert bad.status_code == 422, query
    assert (await client.get("/api/v1/plan/intervals?site=mars", headers=AUTH)).status == 404
    unsigned = await _call(client, spec, "GET", "/api/v1/plan/intervals", auth=False)
    assert unsigned.status_code == 401

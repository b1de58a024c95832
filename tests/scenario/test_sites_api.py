"""Sites through the API: a clock per site, its agents and queues, refusals and the audit."""

from __future__ import annotations

from datetime import UTC
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from blending import reports
from tests.conftest import AUTH
from tests.support.reports import seed_day

Client = TestClient[Any, Any]


async def test_a_site_is_created_replaced_listed_and_audited(client: Client) -> None:
    body = {"name": "London", "time_zone": "Europe/London", "author": "sara"}
    created = await client.put("/api/v1/sites/london", json=body, headers=AUTH)
    assert created.status == 201
    assert (await created.json())["time_zone"] == "Europe/London"
    body = {"name": "London", "time_zone": "Europe/Dublin", "reason": "moved"}
    replaced = await client.put("/api/v1/sites/london", json=body, headers=AUTH)
    assert replaced.status == 200
    listed = await (await client.get("/api/v1/sites", headers=AUTH)).json()
    assert [(s["site_id"], s["time_zone"]) for s in listed["items"]] == [
        ("london", "Europe/Dublin")
    ]
    assert listed["default_time_zone"] == "UTC"
    log = await (await client.get("/api/v1/site-changes", headers=AUTH)).json()
    assert [(c["action"], c["author"], c["change"]["time_zone"]) for c in log["items"]] == [
        ("replaced", "api", "Europe/Dublin"),
        ("created", "sara", "Europe/London"),
    ]


async def test_an_unknown_zone_is_refused_and_changes_nothing(
    client: Client, pool: asyncpg.Pool
) -> None:
    body = {"name": "London", "time_zone": "Europe/London"}
    assert (await client.put("/api/v1/sites/london", json=body, headers=AUTH)).status == 201
    for zone in ("Europe/Londinium", "EST", "+01:00", "", "../../etc/passwd"):
        bad = {"name": "London", "time_zone": zone}
        answer = await client.put("/api/v1/sites/london", json=bad, headers=AUTH)
        assert answer.status == 422, zone
        assert (await answer.json())["error"]["fields"][0]["field"] == "time_zone"
    assert await pool.fetchval("SELECT time_zone FROM sites") == "Europe/London"
    assert await pool.fetchval("SELECT count(*) FROM site_changes") == 1
    default = {"name": "Default", "time_zone": "Europe/Paris"}
    assert (await client.put("/api/v1/sites/default", json=default, headers=AUTH)).status == 422
    assert (await client.get("/api/v1/sites/nowhere", headers=AUTH)).status == 404


async def test_agents_and_queues_join_a_site_and_leave_it(
    client: Client, pool: asyncpg.Pool
) -> None:
    await client.put("/api/v1/agents/ana", json={"name": "Ana"}, headers=AUTH)
    site = {"name": "New York", "time_zone": "America/New_York"}
    await client.put("/api/v1/sites/nyc", json=site, headers=AUTH)
    joined = await client.put(
        "/api/v1/agents/ana/site", json={"site_id": "nyc", "author": "sara"}, headers=AUTH
    )
    assert (await joined.json()) == {"site_id": "nyc", "time_zone": "America/New_York"}
    queue = await client.put("/api/v1/queues/sales/site", json={"site_id": "nyc"}, headers=AUTH)
    assert queue.status == 200
    got = await (await client.get("/api/v1/sites/nyc", headers=AUTH)).json()
    assert (got["agents"], got["queues"]) == (["ana"], ["sales"])
    left = await client.put("/api/v1/agents/ana/site", json={"site_id": None}, headers=AUTH)
    assert (await left.json()) == {"site_id": None, "time_zone": "UTC"}
    assert await pool.fetchval("SELECT site_id FROM agents WHERE agent_id = 'ana'") is None
    log = await (await client.get("/api/v1/site-changes", headers=AUTH)).json()
    assert [(c["action"], c["subject"]) for c in log["items"][:3]] == [
        ("agent", "ana"),
        ("queue", "sales"),
        ("agent", "ana"),
    ]


async def test_joining_an_unknown_site_or_agent_is_a_404_that_changes_nothing(
    client: Client, pool: asyncpg.Pool
) -> None:
    await client.put("/api/v1/agents/ana", json={"name": "Ana"}, headers=AUTH)
    site = {"name": "New York", "time_zone": "America/New_York"}
    await client.put("/api/v1/sites/nyc", json=site, headers=AUTH)
    missing_site = await client.put(
        "/api/v1/agents/ana/site", json={"site_id": "mars"}, headers=AUTH
    )
    assert missing_site.status == 404
    missing_agent = await client.put(
        "/api/v1/agents/bob/site", json={"site_id": "nyc"}, headers=AUTH
    )
    assert missing_agent.status == 404
    queue = await client.put("/api/v1/queues/sales/site", json={"site_id": "mars"}, headers=AUTH)
    assert queue.status == 404
    assert await pool.fetchval("SELECT count(*) FROM queue_sites") == 0
    assert await pool.fetchval("SELECT count(*) FROM site_changes WHERE action <> 'created'") == 0


async def test_a_schedule_without_offsets_is_read_on_the_agents_site_clock(
    client: Client, pool: asyncpg.Pool
) -> None:
    for agent in ("ana", "ben", "cy"):
        await client.put(f"/api/v1/agents/{agent}", json={"name": agent}, headers=AUTH)
    await client.put(
        "/api/v1/sites/nyc", json={"name": "NY", "time_zone": "America/New_York"}, headers=AUTH
    )
    await client.put(
        "/api/v1/sites/pune", json={"name": "Pune", "time_zone": "Asia/Kolkata"}, headers=AUTH
    )
    await client.put("/api/v1/agents/ana/site", json={"site_id": "nyc"}, headers=AUTH)
    await client.put("/api/v1/agents/ben/site", json={"site_id": "pune"}, headers=AUTH)
    shift = {
        "items": [
            {"kind": "shift", "start": "2026-03-09T09:00:00", "end": "2026-03-09T17:00:00"},
            {"kind": "break", "start": "2026-03-09T12:00:00", "end": "2026-03-09T12:30:00"},
        ]
    }
    starts = {}
    for agent in ("ana", "ben", "cy"):
        answer = await client.put(f"/api/v1/agents/{agent}/schedule", json=shift, headers=AUTH)
        assert answer.status == 200
        starts[agent] = (await answer.json())["items"][0]["start"]
    assert starts == {
        "ana": "2026-03-09T13:00:00Z",  # EDT began the day before
        "ben": "2026-03-09T03:30:00Z",
        "cy": "2026-03-09T09:00:00Z",  # no site: the default clock (UTC here)
    }
    stored = await pool.fetch(
        "SELECT agent_id, ends_at FROM agent_schedules WHERE kind = 'shift' ORDER BY agent_id"
    )
    hours = [(r["ends_at"].astimezone(UTC).hour, r["ends_at"].minute) for r in stored]
    assert hours == [(21, 0), (11, 30), (17, 0)]
    mixed = {
        "items": [{"kind": "shift", "start": "2026-03-10T09:00:00", "end": "2026-03-10T17:00:00Z"}]
    }
    refused = await client.put("/api/v1/agents/ana/schedule", json=mixed, headers=AUTH)
    assert refused.status == 422
    assert await pool.fetchval("SELECT count(*) FROM agent_schedules") == 6


async def test_the_plan_follows_the_site_asked_for(client: Client) -> None:
    site = {"name": "Pune", "time_zone": "Asia/Kolkata"}
    await client.put("/api/v1/sites/pune", json=site, headers=AUTH)
    pune = await (await client.get("/api/v1/plan?days=2&site=pune", headers=AUTH)).json()
    default = await (await client.get("/api/v1/plan?days=2", headers=AUTH)).json()
    assert (pune["timezone"], default["timezone"]) == ("Asia/Kolkata", "UTC")
    assert (await client.get("/api/v1/plan?site=mars", headers=AUTH)).status == 404
    assert (await client.get("/api/v1/plan?site=Not%20A%20Site", headers=AUTH)).status == 422


async def test_an_agents_report_days_are_their_sites_days(
    client: Client, pool: asyncpg.Pool
) -> None:
    """Dana's call, 09:30-10:00 UTC on 23 November, is 22:30-23:00 that day in Auckland
    (UTC+13); her back-office work runs past Auckland's midnight."""
    await seed_day(client, pool)
    site = {"name": "Auckland", "time_zone": "Pacific/Auckland"}
    await client.put("/api/v1/sites/akl", json=site, headers=AUTH)
    await client.put("/api/v1/agents/dana/site", json={"site_id": "akl"}, headers=AUTH)

    async def dana(query: str) -> dict[str, Any]:
        answer = await client.get(f"/api/v1/reports/agents?{query}", headers=AUTH)
        assert answer.status == 200, await answer.text()
        people = {a["agent_id"]: a for a in (await answer.json())["agents"]}
        return people

    day = await dana("site=akl&from=2026-11-23")
    assert set(day) == {"dana"}
    assert day["dana"]["on_call_seconds"] == 1800.0
    everyone = await dana("from=2026-11-23")
    assert day["dana"]["back_office_seconds"] < everyone["dana"]["back_office_seconds"]
    after_midnight = await dana("site=akl&from=2026-11-24")
    assert after_midnight["dana"]["on_call_seconds"] == 0
    assert after_midnight["dana"]["back_office_seconds"] > 0
    both = day["dana"]["back_office_seconds"] + after_midnight["dana"]["back_office_seconds"]
    assert both == everyone["dana"]["back_office_seconds"]
    rest = await dana("site=default&from=2026-11-23")
    assert "dana" not in rest
    assert "omar" in rest
    assert (await client.get("/api/v1/reports/agents?site=mars", headers=AUTH)).status == 404


async def test_teams_costs_trends_and_decisions_count_on_each_sites_days(
    client: Client, pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two sites: Dana in Auckland (UTC+13 in November), Omar in New York (UTC-5), the
    `sales` queue in New York. Dana's lull began at 23:29 on 23 November in Auckland (10:29
    UTC) and her first task was done at 23:50 there; her other two after Auckland's midnight.
    Omar's one task was done at 06:10 in New York."""
    await seed_day(client, pool)
    for site_id, name, zone in (
        ("akl", "Auckland", "Pacific/Auckland"),
        ("nyc", "New York", "America/New_York"),
    ):
        body = {"name": name, "time_zone": zone}
        assert (await client.put(f"/api/v1/sites/{site_id}", json=body, headers=AUTH)).ok
    await client.put("/api/v1/agents/dana/site", json={"site_id": "akl"}, headers=AUTH)
    await client.put("/api/v1/agents/omar/site", json={"site_id": "nyc"}, headers=AUTH)
    await client.put("/api/v1/queues/sales/site", json={"site_id": "nyc"}, headers=AUTH)

    async def get(report: str, query: str) -> dict[str, Any]:
        answer = await client.get(f"/api/v1/reports/{report}?{query}", headers=AUTH)
        assert answer.status == 200, await answer.text()
        found: dict[str, Any] = await answer.json()
        return found

    def done(costs: dict[str, Any]) -> dict[str, int]:
        return {t["type"]: t["tasks_done"] for t in costs["types"]}

    assert done(await get("costs", "site=akl&from=2026-11-23")) == {"billing": 1}
    assert done(await get("costs", "site=akl&from=2026-11-24")) == {"billing": 2}
    assert done(await get("costs", "site=nyc&from=2026-11-23")) == {"billing": 1}
    assert done(await get("costs", "site=default&from=2026-11-23")) == {}
    assert done(await get("costs", "from=2026-11-23")) == {"billing": 4}

    teams = await get("teams", "site=akl&from=2026-11-23")
    assert [(t["team"], t["agents"], t["tasks_done"]) for t in teams["teams"]] == [("north", 1, 1)]
    assert [(w["team"], w["done"]) for w in teams["work"]] == [("north", 1)]
    late = await get("teams", "site=akl&from=2026-11-24")
    assert [(w["team"], w["done"]) for w in late["work"]] == [("north", 2)]
    everyone = await get("teams", "from=2026-11-23")
    assert sum(t["agents"] for t in everyone["teams"]) == 4

    akl = await get("trends", "site=akl&from=2026-11-23&to=2026-11-24")
    nyc = await get("trends", "site=nyc&from=2026-11-22&to=2026-11-24")
    assert [d["throughput"] for d in akl["days"]] == [1, 2]
    assert [d["throughput"] for d in nyc["days"]] == [0, 1, 0]
    # The calls are the New York queue's; Dana's time on them, Auckland's.
    assert [d["service_level"] for d in akl["days"]] == [None, None]
    assert [d["service_level"] for d in nyc["days"]] == [None, 0.72, None]
    assert akl["days"][0]["utilization"] is not None
    assert nyc["days"][1]["utilization"] is None  # Omar sent no states
    # Those days are over: read from each zone's roll-up, the figures read live.
    rolled = "SELECT count(*) FROM agent_state_days_done WHERE zone = $1"
    assert await pool.fetchval(rolled, "Pacific/Auckland") > 0
    with monkeypatch.context() as live:
        live.setattr(reports, "LIVE_DAYS", 10_000)
        assert await get("trends", "site=akl&from=2026-11-23&to=2026-11-24") == akl
        assert await get("trends", "site=nyc&from=2026-11-22&to=2026-11-24") == nyc

    def lends(found: dict[str, Any]) -> list[str]:
        return [d["agent_id"] for d in found["items"]]

    assert lends(await get("decisions", "site=akl&from=2026-11-23")) == ["dana"]
    assert lends(await get("decisions", "site=akl&from=2026-11-24")) == []
    assert lends(await get("decisions", "site=nyc&from=2026-11-23")) == []
    csv = await client.get(
        "/api/v1/reports/decisions?site=akl&from=2026-11-23&format=csv", headers=AUTH
    )
    assert (await csv.text()).count("dana") == 1
    for report in ("teams", "costs", "trends", "decisions"):
        missing = await client.get(f"/api/v1/reports/{report}?site=mars", headers=AUTH)
        assert missing.status == 404, report

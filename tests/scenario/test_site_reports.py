"""The now, skills-gaps and recognition reports of one site: its agents (and queues), its
"today" and "this week" on its own clock. Dana works in Auckland, Omar in New York.

The clock stands at 12:30 UTC on Monday 23 November 2026: 07:30 that Monday in New York
(UTC-5), 01:30 on Tuesday 24 November in Auckland (UTC+13)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer
from openapi_core import OpenAPI

from bot import root
from bot.http.reports import week_end
from clock import FixedClock
from tests.conftest import AUTH, TOKEN
from tests.scenario.test_openapi import _call
from tests.scenario.test_reports_api import _csv, _get
from tests.support.reports import seed_day

Client = TestClient[Any, Any]
NOW = datetime(2026, 11, 23, 12, 30, tzinfo=UTC)
SITES = (("akl", "Auckland", "Pacific/Auckland"), ("nyc", "New York", "America/New_York"))


async def put_sites(client: Client) -> None:
    """Auckland and New York; Dana in Auckland, Omar and the `sales` queue in New York."""
    for site_id, name, zone in SITES:
        body = {"name": name, "time_zone": zone}
        assert (await client.put(f"/api/v1/sites/{site_id}", json=body, headers=AUTH)).ok
    for agent, site_id in (("dana", "akl"), ("omar", "nyc")):
        body = {"site_id": site_id}
        assert (await client.put(f"/api/v1/agents/{agent}/site", json=body, headers=AUTH)).ok
    await client.put("/api/v1/queues/sales/site", json={"site_id": "nyc"}, headers=AUTH)


@pytest.fixture
async def sites(pool: asyncpg.Pool) -> AsyncIterator[Client]:
    app = root.http_app(pool, root.Parts(clock=FixedClock(NOW)), tokens=[TOKEN])
    async with TestClient(TestServer(app.web)) as client:
        await seed_day(client, pool, shift_at=NOW)
        state = {"type": "agent_state", "event_id": "omar-1", "at": NOW.isoformat()}
        state |= {"agent_id": "omar", "state": "available"}
        assert (await client.post("/feeds/generic/events", json=[state], headers=AUTH)).ok
        await put_sites(client)
        yield client


async def test_now_shows_the_sites_agents_and_queues_on_its_clock(sites: Client) -> None:
    akl = await _get(sites, "now?site=akl")
    nyc = await _get(sites, "now?site=nyc")
    everyone = await _get(sites, "now")
    assert [a["agent_id"] for a in akl["agents"]] == ["dana"]
    assert [a["agent_id"] for a in nyc["agents"]] == ["omar"]
    assert {"dana", "omar"} <= {a["agent_id"] for a in everyone["agents"]}
    assert (akl["time_zone"], nyc["time_zone"], everyone["time_zone"]) == (
        "Pacific/Auckland",
        "America/New_York",
        "UTC",
    )
    assert "sales" not in {q["queue"] for q in akl["queues"]}
    assert {q["queue"] for q in nyc["queues"]} <= {"sales"}
    assert akl["backlog"] == everyone["backlog"]  # a task belongs to no site
    _, rows = await _csv(sites, "now?site=nyc&format=csv&table=agents")
    assert [r["agent_id"] for r in rows] == ["omar"]


async def test_skills_gaps_count_the_sites_agents_to_the_end_of_its_week(sites: Client) -> None:
    akl = await _get(sites, "skills-gaps?site=akl")
    nyc = await _get(sites, "skills-gaps?site=nyc")
    # New York's week ends at its Monday midnight (EST); Auckland's at its own (NZDT).
    assert nyc["week_end"] == "2026-11-30T00:00:00-05:00"
    assert akl["week_end"] == "2026-11-30T00:00:00+13:00"
    billing = {r["skill"]: r for r in nyc["gaps"]}["billing"]
    assert (billing["skilled_on_shift"], billing["waiting_tasks"]) == (1, 1)
    assert billing["skilled_hours"] > 0
    billing = {r["skill"]: r for r in akl["gaps"]}["billing"]
    assert (billing["skilled_on_shift"], billing["skilled_hours"]) == (0, 0)
    assert billing["waiting_tasks"] == 1  # the waiting work is everyone's
    assert {(c["agent_id"], c["kind"]) for c in akl["coaching"]} == {("dana", "slower")}
    assert nyc["coaching"] == []
    rest = await _get(sites, "skills-gaps?site=default")
    assert {(c["agent_id"], c["kind"]) for c in rest["coaching"]} == {("kim", "never_exposed")}
    _, rows = await _csv(sites, "skills-gaps?site=akl&format=csv&table=coaching")
    assert [r["agent_id"] for r in rows] == ["dana"]


async def test_recognition_ranks_the_sites_agents_to_its_today(sites: Client) -> None:
    akl = await _get(sites, "recognition?site=akl")
    nyc = await _get(sites, "recognition?site=nyc")
    assert (akl["first"], akl["last"]) == ("2026-10-26", "2026-11-24")
    assert (nyc["first"], nyc["last"]) == ("2026-10-25", "2026-11-23")
    assert [s["agent_id"] for s in akl["agents"]] == ["dana"]
    assert [s["agent_id"] for s in nyc["agents"]] == ["omar"]
    # Dana's last two steps were done after Auckland's midnight.
    late = await _get(sites, "recognition?site=akl&from=2026-11-24")
    assert [(s["agent_id"], s["done"]) for s in late["agents"]] == [("dana", 2)]
    _, rows = await _csv(sites, "recognition?site=nyc&format=csv&table=agents")
    assert [r["agent_id"] for r in rows] == ["omar"]


async def test_an_unknown_site_is_a_404_and_a_bad_one_a_422(sites: Client) -> None:
    spec = OpenAPI.from_dict(await (await sites.get("/api/v1/openapi.json")).json())
    for report in ("now", "skills-gaps", "recognition"):
        url = f"/api/v1/reports/{report}"
        assert (await _call(sites, spec, "GET", f"{url}?site=akl")).status_code == 200
        assert (await _call(sites, spec, "GET", f"{url}?site=mars")).status_code == 404
        assert (await sites.get(f"{url}?site=Not%20A%20Site", headers=AUTH)).status == 422
        assert (await sites.get(f"{url}?site=mars&format=csv", headers=AUTH)).status == 404


def test_a_weeks_end_is_the_next_monday_midnight_on_the_local_clock() -> None:
    """New York leaves daylight time on Sunday 1 November 2026: a Wednesday's week ends at
    05:00 UTC, not at the 04:00 of the offset it started on."""
    york = ZoneInfo("America/New_York")
    assert week_end(date(2026, 10, 28), york) == datetime(2026, 11, 2, 5, tzinfo=UTC)
    assert week_end(date(2026, 11, 2), york) == datetime(2026, 11, 9, 5, tzinfo=UTC)
    auckland = ZoneInfo("Pacific/Auckland")  # daylight time from Sunday 27 September 2026
    assert week_end(date(2026, 9, 23), auckland) == datetime(2026, 9, 27, 11, tzinfo=UTC)


async def test_an_agent_asking_for_work_hears_times_on_their_sites_clock(client: Client) -> None:
    """Ana, in New York, is on a break by her schedule: it ends at a time on her clock."""
    kind = {"skills": ["billing"], "sla_minutes": 600, "handle_minutes": 10}
    await client.put("/api/v1/task-types/billing", json=kind, headers=AUTH)
    task = {"source": "crm", "external_id": "R-1", "type": "billing", "title": "Refund"}
    assert (await client.post("/api/v1/tasks", json=task, headers=AUTH)).status == 201
    ana = {"name": "Ana", "skills": {"billing": 3}}
    await client.put("/api/v1/agents/ana", json=ana, headers=AUTH)
    site = {"name": "New York", "time_zone": "America/New_York"}
    await client.put("/api/v1/sites/nyc", json=site, headers=AUTH)
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    back = now + timedelta(minutes=20)
    items = [
        {
            "kind": "shift",
            "start": iso(now - timedelta(hours=1)),
            "end": iso(now + timedelta(hours=3)),
        },
        {"kind": "break", "start": iso(now - timedelta(minutes=10)), "end": iso(back)},
    ]
    put = await client.put("/api/v1/agents/ana/schedule", json={"items": items}, headers=AUTH)
    assert put.status == 200, await put.text()

    async def reason() -> str:
        answer = await client.post("/api/v1/agents/ana/next", headers=AUTH)
        assert answer.status == 200, await answer.text()
        said: str = (await answer.json())["reason"]
        return said

    assert f"on a break until {back:%H:%M}" in await reason()  # no site: UTC here
    await client.put("/api/v1/agents/ana/site", json={"site_id": "nyc"}, headers=AUTH)
    local = back.astimezone(ZoneInfo("America/New_York"))
    assert f"on a break until {local:%H:%M}" in await reason()


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")

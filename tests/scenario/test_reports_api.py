"""``GET /api/v1/reports/...``: the figures of a day worked out by hand (tests/support/reports.py),
as JSON and as CSV; bad ranges refused with a message, never a server error."""

from __future__ import annotations

import csv
import io
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient
from openapi_core import OpenAPI

from tests.conftest import AUTH
from tests.scenario.test_openapi import _call
from tests.support.reports import seed_day

Client = TestClient[Any, Any]
DAY = "?from=2026-11-23&to=2026-11-23"


async def _get(client: Client, path: str) -> Any:
    response = await client.get(f"/api/v1/reports/{path}", headers=AUTH)
    assert response.status == 200, await response.text()
    return await response.json()


async def _csv(client: Client, path: str) -> tuple[str, list[dict[str, str]]]:
    response = await client.get(f"/api/v1/reports/{path}", headers=AUTH)
    assert response.status == 200, await response.text()
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    text = await response.text()
    return response.headers["Content-Disposition"], list(csv.DictReader(io.StringIO(text)))


@pytest.fixture
async def day(client: Client, pool: asyncpg.Pool) -> Client:
    await seed_day(client, pool)
    return client


async def test_each_agents_time_and_work_on_the_day(day: Client) -> None:
    report = await _get(day, f"agents{DAY}")
    people = {a["agent_id"]: a for a in report["agents"]}
    assert people["dana"] == {
        "agent_id": "dana",
        "name": "Dana Levi",
        "team": "north",
        "on_call_seconds": 1800.0,
        "wrap_seconds": 600.0,
        "back_office_seconds": 3900.0,
        "paused_seconds": 600.0,
        "idle_seconds": 7200.0,
        "break_seconds": 1200.0,
        "tasks_done": 3,
        "lull_seconds": 1200.0,
    }
    assert people["omar"]["back_office_seconds"] == 600.0
    assert people["omar"]["tasks_done"] == 1
    assert people["kim"]["tasks_done"] == 0
    dana = next(w for w in report["work"] if w["agent_id"] == "dana")
    assert dana["type"] == "billing"
    assert dana["done"] == 3
    assert dana["handle_seconds"] == 1300.0
    assert dana["standard_seconds"] == 600.0
    assert dana["pace"] == pytest.approx(3900 / 1800)
    assert dana["outcomes"] == {"refunded": 2, "declined": 1}


async def test_a_day_before_has_no_work(day: Client) -> None:
    report = await _get(day, "agents?from=2026-11-22&to=2026-11-22")
    assert all(a["tasks_done"] == 0 and a["on_call_seconds"] == 0 for a in report["agents"])
    assert report["work"] == []


async def test_teams_sum_their_agents(day: Client) -> None:
    report = await _get(day, f"teams{DAY}")
    teams = {t["team"]: t for t in report["teams"]}
    assert teams["north"]["agents"] == 3
    assert teams["north"]["back_office_seconds"] == 4500.0
    assert teams["north"]["tasks_done"] == 4
    assert teams["south"]["tasks_done"] == 0
    assert report["work"] == [
        {
            "team": "north",
            "type": "billing",
            "done": 4,
            "handle_seconds": 1125.0,
            "standard_seconds": 600.0,
            "pace": 1.875,
        }
    ]


async def test_unit_cost_is_cost_per_hour_times_active_time_over_tasks_done(day: Client) -> None:
    report = await _get(day, f"costs{DAY}")
    (billing,) = report["types"]
    cost = 3900 / 3600 * 30 + 600 / 3600 * 40
    assert billing["type"] == "billing"
    assert billing["tasks_done"] == 4
    assert billing["active_seconds"] == 4500.0
    assert billing["cost"] == pytest.approx(cost)
    assert billing["unit_cost"] == pytest.approx(cost / 4)
    assert billing["steps_without_cost"] == 0


async def test_skills_gaps_and_coaching(day: Client) -> None:
    report = await _get(day, f"skills-gaps{DAY}")
    gaps = {g["skill"]: g for g in report["gaps"]}
    assert gaps["kyc"]["waiting_tasks"] == 1
    assert gaps["kyc"]["uncovered_tasks"] == 1
    assert gaps["kyc"]["skilled_on_shift"] == 0
    assert gaps["kyc"]["waiting_hours"] == pytest.approx(20 / 60)
    assert gaps["kyc"]["gap"] is True
    assert gaps["billing"]["waiting_tasks"] == 1
    assert gaps["billing"]["uncovered_tasks"] == 0
    assert gaps["billing"]["skilled_on_shift"] == 1  # Omar's shift; Dana logged off
    assert 0 < gaps["billing"]["skilled_hours"] <= 2
    assert report["gaps"][0]["skill"] == "kyc"  # uncovered work first
    coaching = {(c["agent_id"], c["type"], c["kind"]) for c in report["coaching"]}
    assert coaching == {("dana", "billing", "slower"), ("kim", "billing", "never_exposed")}


async def test_trends_per_day_with_the_day_blending_was_switched_on(day: Client) -> None:
    report = await _get(day, "trends?from=2026-11-22&to=2026-11-23")
    before, on = report["days"]
    assert before == {
        "day": "2026-11-22",
        "utilization": None,
        "service_level": None,
        "abandonment": None,
        "throughput": 0,
        "sla_attainment": None,
        "blending_switched_on": False,
    }
    assert on["day"] == "2026-11-23"
    assert on["utilization"] == pytest.approx((2400 + 4500) / 10800)
    assert on["service_level"] == pytest.approx(0.72)
    assert on["abandonment"] == pytest.approx(0.1)
    assert on["throughput"] == 4
    assert on["sla_attainment"] == 0.5
    assert on["blending_switched_on"] is True
    assert report["switched_on"] == ["2026-11-23T08:00:00Z"]


async def test_trends_default_to_the_last_30_60_or_90_days(day: Client) -> None:
    for days in (30, 60, 90):
        report = await _get(day, f"trends?days={days}")
        assert len(report["days"]) == days


async def test_decisions_of_a_range_as_json_and_streamed_csv(day: Client) -> None:
    report = await _get(day, f"decisions{DAY}")
    assert [(d["event"], d["agent_id"], d["task_id"]) for d in report["items"]] == [
        ("lend_offered", "dana", 1)
    ]
    disposition, rows = await _csv(day, f"decisions{DAY}&format=csv")
    assert disposition == 'attachment; filename="blendbot-decisions-2026-11-23-2026-11-23.csv"'
    assert [(r["event"], r["agent_name"], r["reason"]) for r in rows] == [
        ("lend_offered", "Dana Levi", "a lull")
    ]


async def test_each_table_as_csv(day: Client) -> None:
    _, rows = await _csv(day, f"agents{DAY}&format=csv")
    assert [r["agent_id"] for r in rows] == ["dana", "kim", "lena", "omar"]
    assert rows[0]["back_office_seconds"] == "3900.0"
    _, work = await _csv(day, f"agents{DAY}&format=csv&table=work")
    assert work[0]["outcomes"] == '{"declined":1,"refunded":2}'
    disposition, types = await _csv(day, f"costs{DAY}&format=csv")
    assert disposition == 'attachment; filename="blendbot-costs-types-2026-11-23-2026-11-23.csv"'
    assert [t["type"] for t in types] == ["billing"]
    _, coaching = await _csv(day, f"skills-gaps{DAY}&format=csv&table=coaching")
    assert {r["kind"] for r in coaching} == {"slower", "never_exposed"}
    _, now = await _csv(day, "now?format=csv&table=backlog")
    assert {r["type"] for r in now} == {"billing", "kyc_review"}


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("agents?from=2026-11-24&to=2026-11-23", "`to` comes before `from`"),
        ("agents?from=2026-01-01&to=2026-11-23", "at most 92 days"),
        ("agents?from=yesterday", "query.from"),
        ("agents?from=2026-02-30", "query.from"),
        ("agents?from=0001-01-01", "between 1970-01-02 and 2099-12-30"),
        ("agents?from=2026-11-23&from=2026-11-24", "more than once"),
        ("agents?format=xml", "query.format"),
        ("agents?format=csv&table=nope", "table is one of agents, work"),
        ("agents?table=work", "`table` goes with `format=csv`"),
        ("agents?first=2026-11-23", "query.first"),
        ("trends?days=45", "`days` is 30, 60 or 90"),
        ("trends?to=2026-11-23&days=90&from=2026-01-01", "at most 92 days"),
        ("decisions?agent=%00", "query.agent"),
    ],
)
async def test_bad_parameters_are_refused_with_a_clear_message(
    client: Client, query: str, words: str
) -> None:
    response = await client.get(f"/api/v1/reports/{query}", headers=AUTH)
    assert response.status == 422, await response.text()
    assert words in (await response.json())["error"]["message"]


async def test_reports_need_the_token(client: Client) -> None:
    response = await client.get("/api/v1/reports/agents")
    assert response.status == 401


async def test_the_answers_match_the_openapi_document(day: Client) -> None:
    spec = OpenAPI.from_dict(await (await day.get("/api/v1/openapi.json")).json())
    for name in ("now", "decisions", "agents", "teams", "costs", "skills-gaps", "trends"):
        url = f"/api/v1/reports/{name}"
        assert (await _call(day, spec, "GET", url)).status_code == 200
        assert (await _call(day, spec, "GET", url + "?format=csv")).status_code == 200
        assert (await _call(day, spec, "GET", url + "?from=2026-13-01")).status_code == 422


async def test_a_long_decisions_csv_is_streamed_whole(client: Client, pool: asyncpg.Pool) -> None:
    await pool.execute(
        "INSERT INTO blending_events (at, event, grp, reason, actor) "
        "SELECT timestamptz '2026-11-01 00:00Z' + n * interval '1 minute', 'guard', 'sales',"
        " 'hold: #' || n, 'blendbot' FROM generate_series(1, 1234) n"
    )
    _, rows = await _csv(client, "decisions?from=2026-11-01&to=2026-11-30&format=csv")
    assert len(rows) == 1234
    assert rows[0]["reason"] == "hold: #1"
    assert rows[-1]["reason"] == "hold: #1234"

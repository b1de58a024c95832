"""``GET /api/v1/reports/recognition``: top performers, most improved, streaks and badges of
the agents taking part, as JSON and CSV; an agent who turned recognition off is in none of it."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient
from openapi_core import OpenAPI

from queues.roster import Roster
from tests.scenario.test_openapi import _call
from tests.scenario.test_reports_api import _csv, _get
from tests.support.recognition import seed_recognition
from tests.support.reports import seed_day

Client = TestClient[Any, Any]
DAY = "?from=2026-11-23&to=2026-11-23"


@pytest.fixture
async def days(client: Client, pool: asyncpg.Pool) -> Client:
    await seed_day(client, pool)
    await seed_recognition(pool)
    return client


async def test_top_performers_most_improved_streaks_and_badges(days: Client) -> None:
    report = await _get(days, f"recognition{DAY}")
    assert (report["previous_first"], report["previous_last"]) == ("2026-11-22", "2026-11-22")
    assert [(p["agent_id"], p["done"], p["on_standard"]) for p in report["top"]] == [
        ("omar", 4, 4),
        ("lena", 3, 3),
    ]  # Dana did three, none within the standard
    assert [(i["agent_id"], i["previous_pace"], i["pace"]) for i in report["improved"]] == [
        ("lena", 1.5, 1.0)
    ]
    standing = {s["agent_id"]: s for s in report["agents"]}
    assert standing["omar"]["streak_days"] == 5
    assert standing["omar"]["badges"] == ["top_performer", "streak_5"]
    assert standing["lena"]["badges"] == ["top_performer", "most_improved"]
    assert (standing["dana"]["streak_days"], standing["dana"]["badges"]) == (0, [])


async def test_an_agent_who_turned_it_off_is_in_no_ranking(
    days: Client, pool: asyncpg.Pool
) -> None:
    assert await Roster(pool).set_recognition("omar", False, "omar")
    assert not await Roster(pool).set_recognition("omar", False, "omar")  # already off
    report = await _get(days, f"recognition{DAY}")
    assert [p["agent_id"] for p in report["top"]] == ["lena"]
    assert "omar" not in {s["agent_id"] for s in report["agents"]}
    _, rows = await _csv(days, f"recognition{DAY}&format=csv&table=agents")
    assert [r["agent_id"] for r in rows] == ["dana", "lena"]
    assert rows[1]["badges"] == '["top_performer","most_improved"]'
    events = await pool.fetch("SELECT event, actor FROM agent_events WHERE agent_id = 'omar'")
    assert [(e["event"], e["actor"]) for e in events] == [("recognition_off", "omar")]


async def test_the_top_table_as_csv(days: Client) -> None:
    disposition, rows = await _csv(days, f"recognition{DAY}&format=csv")
    assert disposition == (
        'attachment; filename="blendbot-recognition-top-2026-11-23-2026-11-23.csv"'
    )
    ranks = [(r["rank"], r["agent_id"]) for r in rows]
    assert ranks == [("1", "omar"), ("2", "lena")]


async def test_the_answer_matches_the_openapi_document(days: Client) -> None:
    spec = OpenAPI.from_dict(await (await days.get("/api/v1/openapi.json")).json())
    url = "/api/v1/reports/recognition"
    assert (await _call(days, spec, "GET", url)).status_code == 200
    assert (await _call(days, spec, "GET", url + "?format=csv&table=improved")).status_code == 200
    assert (await _call(days, spec, "GET", url + "?from=2026-13-01")).status_code == 422

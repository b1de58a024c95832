"""The report pages in Chromium: People, Cost and skills and Trends show the day worked out by
hand in tests/support/reports.py, draw their charts from the package's own Chart.js, and
export a table as CSV with the right rows."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer
from playwright.async_api import Page, expect

from bot.console import reports as console_reports
from clock import FixedClock
from standins.slack import StandIn
from tests.browser.conftest import SUPERVISOR, Console, _service
from tests.browser.test_console import shot, sign_in_with_token
from tests.support.reports import at, seed_day


@pytest.fixture
async def reporting(pool: asyncpg.Pool) -> AsyncIterator[Console]:
    """The console at 13:00 on the reported day."""
    slack = StandIn(users={SUPERVISOR: "Sam Cho"})
    standin = TestServer(slack.app())
    await standin.start_server()
    clock = FixedClock(at(13))
    service = TestServer(_service(pool, standin, clock).web)
    await service.start_server()
    try:
        async with TestClient(service) as api:
            await seed_day(api, pool, shift_at=at(13))
            yield Console(str(service.make_url("")).rstrip("/"), slack, api, pool, clock)
    finally:
        await standin.close()


async def test_people_shows_each_agents_day_and_a_chart(page: Page, reporting: Console) -> None:
    await sign_in_with_token(page, reporting)
    await page.click("nav >> text=People")
    await page.wait_for_url("**/console/people")
    dana = page.locator("#agents tr[data-agent=dana] td")
    await expect(dana.nth(2)).to_have_text("30m 00s")  # on calls
    await expect(dana.nth(4)).to_have_text("1h 05m")  # back office
    await expect(dana.nth(5)).to_have_text("10m 00s")  # paused
    await expect(dana.nth(6)).to_have_text("2h 00m")  # idle
    await expect(dana.nth(8)).to_have_text("3")
    await expect(dana.nth(9)).to_have_text("20m 00s")  # gained from lulls
    await expect(page.locator("#work")).to_contain_text("2.17")
    await expect(page.locator("#people-chart")).to_have_attribute("data-drawn", "true")


async def test_a_range_that_ends_before_it_starts_is_explained(
    page: Page, reporting: Console
) -> None:
    await sign_in_with_token(page, reporting)
    await page.goto(reporting.url + "/console/people?from=2026-11-24&to=2026-11-23")
    await expect(page.locator(".error")).to_contain_text("`to` comes before `from`")


async def test_the_agents_csv_export_has_the_right_rows(page: Page, reporting: Console) -> None:
    await sign_in_with_token(page, reporting)
    await page.goto(reporting.url + "/console/people")
    async with page.expect_download() as info:
        await page.click("#agents-export")
    download = await info.value
    assert download.suggested_filename == "blendbot-agents-2026-11-23-2026-11-23.csv"
    path = await download.path()
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert [(r["agent_id"], r["tasks_done"], r["back_office_seconds"]) for r in rows] == [
        ("dana", "3", "3900.0"),
        ("kim", "0", "0.0"),
        ("lena", "0", "0.0"),
        ("omar", "1", "600.0"),
    ]
    streamed = await page.request.get(reporting.url + "/console/export/agents?format=csv")
    assert streamed.headers["cache-control"] == "no-store"  # a shared machine keeps no copy
    assert "frame-ancestors 'none'" in streamed.headers["content-security-policy"]


async def test_cost_and_skills(page: Page, reporting: Console) -> None:
    await sign_in_with_token(page, reporting)
    await page.click("nav >> text=Cost and skills")
    await page.wait_for_url("**/console/costs")
    await expect(page.locator("#costs tbody tr").first).to_contain_text("9.79")
    await expect(page.locator("#gaps tbody tr").first).to_contain_text("kyc")
    await expect(page.locator("#gaps tbody tr").first).to_contain_text("gap")
    billing = page.locator("#gaps tbody tr", has_text="billing")
    await expect(billing.locator("td").nth(3)).to_have_text("0")  # Omar is on shift
    coaching = page.locator("#coaching")
    await expect(coaching).to_contain_text("much slower than the standard")
    await expect(coaching).to_contain_text("Kim Sato")
    await expect(page.locator("#cost-chart")).to_have_attribute("data-drawn", "true")
    await shot(page, "cost-and-skills")


async def test_trends_mark_the_day_blending_was_switched_on(page: Page, reporting: Console) -> None:
    await sign_in_with_token(page, reporting)
    await page.click("nav >> text=Trends")
    await page.wait_for_url("**/console/trends")
    await expect(page.locator("#days tbody tr")).to_have_count(30)
    day = page.locator("#days tbody tr").first
    await expect(day).to_contain_text("2026-11-23")
    await expect(day).to_contain_text("72%")
    await expect(day).to_contain_text("blending switched on")
    await expect(page.locator("#trends-chart")).to_have_attribute("data-drawn", "true")
    await shot(page, "trends")
    await page.click("text=90 days")
    await expect(page.locator("#days tbody tr")).to_have_count(90)


async def test_coaching_comes_a_page_at_a_time_and_the_csv_has_all(
    page: Page, reporting: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Three more agents of Kim's team who never worked billing: four candidates, two a page.
    monkeypatch.setattr(console_reports, "COACHING_PAGE", 2)
    await reporting.pool.executemany(
        "INSERT INTO agents (agent_id, name, team) VALUES ($1, $2, 'north')",
        [("zoe", "Zoe Ames"), ("abe", "Abe Lind"), ("mia", "Mia Roth")],
    )
    await sign_in_with_token(page, reporting)
    await page.goto(reporting.url + "/console/costs")
    coaching = page.locator("#coaching tbody tr", has_text="training candidate")
    await expect(coaching).to_have_count(2)
    await expect(page.locator("#candidates")).to_contain_text(
        "Training candidates 1\N{EN DASH}2 of 4"
    )
    seen = await coaching.locator("td:first-child").all_inner_texts()
    await expect(page.locator("#coaching")).to_contain_text("much slower than the standard")
    await expect(page.locator("#slower")).to_contain_text(
        "Much slower than the standard 1\N{EN DASH}1 of 1"
    )

    await page.click("#candidates >> text=Next")
    await page.wait_for_url("**/console/costs?*candidates=2")
    await expect(page.locator("#candidates")).to_contain_text(
        "Training candidates 3\N{EN DASH}4 of 4"
    )
    await expect(page.locator("#candidates a[rel=next]")).to_have_count(0)
    seen += await coaching.locator("td:first-child").all_inner_texts()
    assert seen == ["Abe Lind", "Kim Sato", "Mia Roth", "Zoe Ames"]
    # The slower agents keep their own page, and the range is kept.
    assert "from=2026-10-25&to=2026-11-23&slower=1&candidates=2" in page.url
    await expect(page.locator("#coaching")).to_contain_text("much slower than the standard")
    await page.goto(reporting.url + "/console/costs?slower=2")
    await expect(page.locator("#slower")).to_contain_text("none on page 2 of 1")
    await expect(page.locator("#coaching")).not_to_contain_text("much slower")
    await page.go_back()
    await page.click("#candidates >> text=Previous")
    await page.wait_for_url("**/console/costs?*candidates=1")
    await expect(page.locator("#candidates")).to_contain_text("1\N{EN DASH}2 of 4")

    # Past the last page: none shown, the count still given, the way back offered.
    await page.goto(reporting.url + "/console/costs?candidates=9")
    await expect(page.locator("#candidates")).to_contain_text("none on page 9 of 4")
    await expect(page.locator("#candidates a[rel=prev]")).to_have_attribute(
        "href", re.compile(r"candidates=2$")
    )

    csv_rows = await page.request.get(
        reporting.url + "/console/export/skills-gaps?table=coaching&format=csv"
    )
    rows = list(csv.DictReader(io.StringIO(await csv_rows.text())))
    assert sorted(r["agent_id"] for r in rows if r["kind"] == "never_exposed") == [
        "abe",
        "kim",
        "mia",
        "zoe",
    ]


async def test_people_come_a_page_at_a_time_with_their_work(
    page: Page, reporting: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(console_reports, "PEOPLE_PAGE", 2)
    await sign_in_with_token(page, reporting)
    await page.goto(reporting.url + "/console/people")
    rows = page.locator("#agents tbody tr")
    await expect(rows).to_have_count(2)
    await expect(page.locator("#agents-pages")).to_contain_text("Agents 1\N{EN DASH}2 of 4")
    first = await rows.evaluate_all("rows => rows.map(r => r.dataset.agent)")
    await expect(page.locator("#work")).to_contain_text("2.17")  # Dana's work is on her page
    await expect(page.locator("#teams")).to_contain_text("north")  # every team, every page

    await page.click("#agents-pages >> text=Next")
    await page.wait_for_url("**/console/people?*page=2")
    await expect(page.locator("#agents-pages")).to_contain_text("Agents 3\N{EN DASH}4 of 4")
    second = await rows.evaluate_all("rows => rows.map(r => r.dataset.agent)")
    assert first + second == ["dana", "kim", "lena", "omar"]
    await expect(page.locator("#work")).not_to_contain_text("Dana")
    await expect(page.locator("#work")).to_contain_text("Omar")
    await expect(page.locator("#agents-pages a[rel=next]")).to_have_count(0)
    await expect(page.locator("#people-chart")).to_have_attribute("data-drawn", "true")

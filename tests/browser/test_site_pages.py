"""The report pages of one site in Chromium: a supervisor picks a site (the picker is there
once sites exist), the pages show its agents over its local days, and their exports and pages
keep to it; an agent's own day starts at their site's midnight.

The clock stands at 13:00 UTC on 23 November 2026: 02:00 on the 24th in Auckland (Dana's
site), 08:00 on the 23rd in New York (Omar's)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
from playwright.async_api import Page, expect

from clock import FixedClock
from tests.browser.conftest import DANA, SUPERVISOR, Console, served_console
from tests.browser.test_console import sign_in_with_slack, sign_in_with_token
from tests.scenario.test_site_reports import put_sites
from tests.support.reports import at, seed_day


@pytest.fixture
async def sited(pool: asyncpg.Pool) -> AsyncIterator[Console]:
    clock = FixedClock(at(13))
    users = {SUPERVISOR: "Sam Cho", DANA: "Dana Levi"}
    async with served_console(pool, users, clock) as (base, slack, api):
        await seed_day(api, pool, shift_at=at(13))
        await pool.execute("UPDATE agents SET slack_user_id = $1 WHERE agent_id = 'dana'", DANA)
        yield Console(base, slack, api, pool, clock)


async def test_a_supervisor_picks_a_site_and_sees_its_agents_on_its_days(
    page: Page, sited: Console
) -> None:
    await sign_in_with_token(page, sited)
    await page.goto(sited.url + "/console/people")
    await expect(page.locator("#site-picker")).to_have_count(0)  # no site yet
    await put_sites(sited.api)
    await page.goto(sited.url + "/console/people")
    await page.select_option("#site-picker", "akl")
    await page.click("form.range button[type=submit]")
    await page.wait_for_url("**/console/people?*site=akl*")
    # The 23rd in Auckland: Dana's first step, done before its midnight.
    await expect(page.locator("#agents tbody tr")).to_have_count(1)
    await expect(page.locator("#agents tr[data-agent=dana] td").nth(8)).to_have_text("1")
    await expect(page.locator("#site-picker")).to_have_value("akl")
    # Auckland's today is the 24th: her two steps done after its midnight.
    await page.goto(sited.url + "/console/people?site=akl")
    await expect(page.locator("h1")).to_contain_text("2026-11-24")
    await expect(page.locator("#agents tr[data-agent=dana] td").nth(8)).to_have_text("2")
    export = await page.locator("#agents-export").get_attribute("href")
    assert export is not None
    assert "site=akl" in export
    rows = (await (await page.request.get(sited.url + export)).text()).splitlines()
    assert [r.split(",")[0] for r in rows[1:]] == ["dana"]
    await page.goto(sited.url + "/console/costs?site=nyc")
    await expect(page.locator("h1")).to_contain_text("to 2026-11-23")
    await expect(page.get_by_text("Nobody to suggest.")).to_be_visible()  # Dana, Kim elsewhere
    await page.goto(sited.url + "/console/trends?site=akl")
    await expect(page.locator("#days tbody tr").first).to_contain_text("2026-11-24")
    await page.click("text=60 days")
    await page.wait_for_url("**/console/trends?days=60&site=akl")
    await page.goto(sited.url + "/console/people?site=mars")
    await expect(page.locator("body")).to_contain_text("There is no site mars")


async def test_an_agents_day_starts_at_their_sites_midnight(page: Page, sited: Console) -> None:
    await sign_in_with_slack(page, sited, DANA)
    await page.wait_for_url("**/console/me")
    await expect(page.locator("#my-done")).to_have_text("3")  # the UTC day
    await put_sites(sited.api)
    await page.goto(sited.url + "/console/me")
    await expect(page.locator("#my-done")).to_have_text("2")  # since 11:00 UTC


async def test_the_decisions_of_a_sites_day_at_its_times(page: Page, sited: Console) -> None:
    """Dana's lend at 10:29 UTC was the day before in Auckland; a recall at 12:00 UTC is
    01:00 on Auckland's today."""
    await put_sites(sited.api)
    await sited.pool.execute(
        "INSERT INTO blending_events (at, event, grp, agent_id, reason, actor) VALUES"
        " ($1, 'recalled', 'sales', 'dana', 'calls are rising', 'blendbot')",
        at(12),
    )
    await sign_in_with_token(page, sited)
    await page.goto(sited.url + "/console/decisions")
    rows = page.locator("table.decisions tbody tr")
    await expect(rows).to_have_count(2)
    await expect(rows.nth(1).locator("td").first).to_have_text("10:29")
    await page.select_option("#site-picker", "akl")
    await page.click("#decision-filters button[type=submit]")
    await page.wait_for_url("**/console/decisions?*site=akl*")
    await expect(rows).to_have_count(1)
    await expect(rows.first.locator("td").first).to_have_text("01:00")
    await page.goto(sited.url + "/console/decisions?site=nyc")
    await expect(page.get_by_text("No decisions today")).to_be_visible()
    await page.goto(sited.url + "/console/decisions?site=Not%20A%20Site")
    await expect(page.locator("body")).to_contain_text("There is no such site")


async def test_the_now_page_of_a_site(page: Page, sited: Console) -> None:
    """The live board is everyone's on the default clock; a site's is its agents on its clock,
    fetched again when something changes."""
    await sign_in_with_token(page, sited)
    await expect(page.locator("#site-picker")).to_have_count(0)
    await expect(page.locator("#board #as-of")).to_have_text("13:00")
    await put_sites(sited.api)
    await page.goto(sited.url + "/console/now")
    await expect(page.locator("#board tr[data-agent=dana]")).to_have_count(1)
    await page.select_option("#site-picker", "akl")
    await page.click("form.filters button[type=submit]")
    await page.wait_for_url("**/console/now?site=akl")
    await expect(page.locator("#site-board #as-of")).to_have_text("02:00")
    await expect(page.locator("#site-board tr[data-agent]")).to_have_count(1)
    await expect(page.locator("#site-board tr[data-agent=dana]")).to_have_count(1)
    await expect(page.locator("main")).to_have_attribute("data-on", "work decisions any")
    await page.goto(sited.url + "/console/now?site=nyc")
    await expect(page.locator("#site-board tr[data-agent=dana]")).to_have_count(0)

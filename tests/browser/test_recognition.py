"""Recognition in Chromium: the People page ranks the top performers and the most improved
and shows streaks and badges; an agent sees their own on their day and turns it off for
themselves (a form with its CSRF token), after which they are in no ranking."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
from playwright.async_api import Browser, Page, expect

from clock import FixedClock
from tests.browser.conftest import SUPERVISOR, Console, served_console
from tests.browser.test_console import shot, sign_in_with_slack, sign_in_with_token
from tests.conftest import AUTH
from tests.support.recognition import seed_recognition
from tests.support.reports import at, seed_day

OMAR = "U01OMAR0001"


@pytest.fixture
async def recognizing(pool: asyncpg.Pool) -> AsyncIterator[Console]:
    """The reported day at 13:00, with Omar on standard five working days running and Lena
    quicker than the day before; Omar signs in with Slack."""
    clock = FixedClock(at(13))
    users = {SUPERVISOR: "Sam Cho", OMAR: "Omar Haddad"}
    async with served_console(pool, users, clock) as (base, slack, api):
        await seed_day(api, pool, shift_at=at(13))
        await seed_recognition(pool)
        await pool.execute("UPDATE agents SET slack_user_id = $1 WHERE agent_id = 'omar'", OMAR)
        yield Console(base, slack, api, pool, clock)


async def test_people_ranks_top_performers_and_most_improved(
    page: Page, recognizing: Console
) -> None:
    await sign_in_with_token(page, recognizing)
    await page.click("nav >> text=People")
    top = page.locator("#top tbody tr")
    await expect(top).to_have_count(2)
    await expect(top.nth(0)).to_contain_text("Omar Haddad")
    await expect(top.nth(0).locator("td").nth(3)).to_have_text("4")  # on standard
    await expect(page.locator("#improved tbody tr")).to_have_count(1)
    await expect(page.locator("#improved tbody tr")).to_contain_text("Lena Park")
    await expect(page.locator("#improved tbody tr")).to_contain_text("33%")
    omar = page.locator("#standings tr[data-agent=omar]")
    await expect(omar.locator("td").nth(1)).to_have_text("5")
    await expect(omar).to_contain_text("Top performer")
    await expect(omar).to_contain_text("5 days on standard")
    await shot(page, "people")


async def test_an_agent_turns_recognition_off_for_themselves(
    page: Page, recognizing: Console, browser: Browser
) -> None:
    await sign_in_with_slack(page, recognizing, OMAR)
    await page.wait_for_url("**/console/me")
    await expect(page.locator("#my-streak")).to_have_text("5")
    await expect(page.locator("#my-recognition")).to_contain_text("Top performer")
    await shot(page, "my-day-recognition")
    # without its CSRF token the form is refused and nothing changes
    await page.evaluate("document.querySelector('#recognition-form input[name=csrf]').remove()")
    await page.click("#recognition-form button[type=submit]")
    await expect(page.locator(".error")).to_contain_text("no valid security token")
    assert await recognizing.pool.fetchval("SELECT recognition FROM agents WHERE agent_id='omar'")
    await page.goto(recognizing.url + "/console/me")
    await page.click("#recognition-form button[type=submit]")
    await expect(page.locator("#recognition-off")).to_be_visible()
    events = await recognizing.pool.fetch(
        "SELECT event, actor FROM agent_events WHERE agent_id = 'omar'"
    )
    assert [(e["event"], e["actor"]) for e in events] == [("recognition_off", f"slack:{OMAR}")]
    report = await recognizing.api.get("/api/v1/reports/recognition?from=2026-11-23", headers=AUTH)
    assert "omar" not in {a["agent_id"] for a in (await report.json())["agents"]}
    context = await browser.new_context()
    supervisor = await context.new_page()
    try:
        await sign_in_with_token(supervisor, recognizing)
        await supervisor.goto(recognizing.url + "/console/people")
        await expect(supervisor.locator("#top tbody tr").nth(0)).to_contain_text("Lena Park")
        await expect(supervisor.locator("#recognition")).not_to_contain_text("Omar Haddad")
    finally:
        await context.close()
    # and on again
    await page.click("#recognition-form button[type=submit]")
    await expect(page.locator("#my-streak")).to_have_text("5")

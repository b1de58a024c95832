"""The pages beside Now follow the same live channel: a decision made through the API is on
an open Decisions page, and a task completed through the API on an open People page, within
2 s, without a reload (heard from PostgreSQL, so whichever instance made it)."""

from __future__ import annotations

import time

from playwright.async_api import Page, expect

from tests.browser.conftest import Console
from tests.browser.test_console import sign_in_with_token
from tests.conftest import AUTH


async def test_a_decision_appears_on_the_decisions_page_within_two_seconds(
    page: Page, console: Console
) -> None:
    await sign_in_with_token(page, console)
    await page.click("nav >> text=Decisions")
    await expect(page.locator("main")).to_have_attribute("data-live", "open")
    await page.evaluate("window.notReloaded = true")
    recalled = page.locator("tr[data-event=recalled]")
    await expect(recalled).to_have_count(1)
    sent = time.monotonic()
    response = await console.api.post(
        "/api/v1/agents/lena/recall",
        json={"by": "sam", "reason": "sales is filling up"},
        headers=AUTH,
    )
    assert response.status == 200, await response.text()
    await expect(recalled).to_have_count(2, timeout=2000)
    await expect(recalled.filter(has_text="Lena Park")).to_contain_text("sales is filling up")
    assert time.monotonic() - sent < 2.0
    assert await page.evaluate("window.notReloaded") is True


async def test_report_pages_follow_the_channel_only_when_they_show_today(
    page: Page, console: Console
) -> None:
    await sign_in_with_token(page, console)
    await page.goto(console.url + "/console/people")
    await expect(page.locator("main")).to_have_attribute("data-live", "open")
    await page.goto(console.url + "/console/people?from=2026-11-01&to=2026-11-02")
    await expect(page.locator("main")).not_to_have_attribute(
        "data-changes", "/console/now/live?board=0"
    )


async def test_a_completed_task_reaches_the_people_page_within_two_seconds(
    page: Page, console: Console
) -> None:
    given = await console.api.post(
        "/api/v1/tasks/1/reassign",
        json={"to_agent_id": "dana", "by": "sam", "override": True},
        headers=AUTH,
    )
    assert given.status == 200, await given.text()
    # The task log is stamped by the database's clock: the range runs to its day.
    last = await console.pool.fetchval("SELECT (now() AT TIME ZONE 'UTC')::date")
    await sign_in_with_token(page, console)
    await page.goto(f"{console.url}/console/people?from={console.clock.now().date()}&to={last}")
    await expect(page.locator("main")).to_have_attribute("data-live", "open")
    await page.evaluate("window.notReloaded = true")
    steps_done = page.locator("#agents tr[data-agent=dana] td").nth(8)
    await expect(steps_done).to_have_text("0")
    sent = time.monotonic()
    done = await console.api.post(
        "/api/v1/tasks/1/complete", json={"agent_id": "dana", "outcome": "refunded"}, headers=AUTH
    )
    assert done.status == 200, await done.text()
    await expect(steps_done).to_have_text("1", timeout=2000)
    assert time.monotonic() - sent < 2.0
    await expect(page.locator("#work")).to_contain_text("refunded 1")
    assert await page.evaluate("window.notReloaded") is True

"""The console as a person uses it, in Chromium: signing in (a token, Sign in with Slack),
the Now page with the seeded center and its live updates, today's decisions, a task's story,
what an agent may not see, and a form without its CSRF token."""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path

from playwright.async_api import Page, expect

from tests.browser.center import feed, state
from tests.browser.conftest import DANA, NOW, STRANGER, SUPERVISOR, Console
from tests.conftest import TOKEN

DOCS = Path(__file__).resolve().parents[2] / "docs" / "console"


async def shot(page: Page, name: str, *, full_page: bool = True) -> None:
    """A screenshot of the page; into docs/console when BLENDBOT_SCREENSHOTS=1 (how the
    README's pictures are made), else only taken, so that a test run leaves no changes."""
    data = await page.screenshot(full_page=full_page)
    assert data.startswith(b"\x89PNG")
    if os.environ.get("BLENDBOT_SCREENSHOTS") == "1":
        (DOCS / f"{name}.png").write_bytes(data)


async def sign_in_with_token(page: Page, console: Console) -> None:
    await page.goto(console.url + "/console/")
    await page.fill("#token", TOKEN)
    await page.click("#token-form button[type=submit]")
    await page.wait_for_url("**/console/now")


async def sign_in_with_slack(page: Page, console: Console, user: str) -> None:
    console.slack.openid.signed_in = user
    await page.goto(console.url + "/console/sign-in")
    await page.click("#slack-sign-in")


async def test_a_wrong_token_is_refused_and_the_right_one_signs_in(
    page: Page, console: Console
) -> None:
    await page.goto(console.url + "/console/now")
    await expect(page).to_have_url(console.url + "/console/sign-in")
    await page.fill("#token", "not-the-token-at-all")
    await page.click("#token-form button[type=submit]")
    await expect(page.locator(".error")).to_contain_text("not one of this service's API tokens")
    await sign_in_with_token(page, console)
    await expect(page.locator(".who")).to_contain_text("supervisor")


async def test_the_now_page_shows_the_seeded_center(page: Page, console: Console) -> None:
    await sign_in_with_token(page, console)
    sales = page.locator("#queues tr[data-queue=sales]")
    await expect(sales.locator(".waiting")).to_have_text("1")
    await expect(sales).to_contain_text("45s")
    await expect(page.locator("#queues tr[data-queue=care]")).to_contain_text("recall")
    await expect(page.locator("#agents tr[data-agent=omar] .state")).to_have_text("on a call")
    await expect(page.locator("#agents tr[data-agent=omar]")).to_contain_text("7m 00s")
    await expect(page.locator("#agents tr[data-agent=lena] .state")).to_have_text("break")
    billing = page.locator("#backlog tr[data-type=billing]")
    await expect(billing.locator("td").nth(1)).to_have_text("2")  # open
    await expect(billing.locator("td").nth(2)).to_have_text("1")  # past SLA
    await page.click("#large-toggle")
    await expect(page.locator("body")).to_have_class("large")
    await page.set_viewport_size({"width": 1920, "height": 1080})
    await shot(page, "now-wallboard", full_page=False)


async def test_a_feed_event_appears_within_two_seconds_without_a_reload(
    page: Page, console: Console
) -> None:
    await sign_in_with_token(page, console)
    await expect(page.locator("#live-state")).to_have_text("live")
    await page.evaluate("window.notReloaded = true")
    dana = page.locator("#agents tr[data-agent=dana] .state")
    await expect(dana).to_have_text("available")
    sent = time.monotonic()
    await feed(console.api, [state(9, "dana", "on_call", NOW - timedelta(seconds=20))])
    await expect(dana).to_have_text("on a call", timeout=2000)
    assert time.monotonic() - sent < 2.0
    assert await page.evaluate("window.notReloaded") is True


async def test_todays_decisions_with_their_figures_filtered_by_queue(
    page: Page, console: Console
) -> None:
    await sign_in_with_token(page, console)
    await page.click("nav >> text=Decisions")
    rows = page.locator("table.decisions tbody tr")
    await expect(page.locator("tr[data-event=lend_offered]")).to_contain_text("Dana Levi")
    await expect(page.locator("tr[data-event=lend_offered]")).to_contain_text("need7")
    await expect(page.locator("tr[data-event=recalled]")).to_contain_text("Omar Haddad")
    await expect(page.locator("tr[data-event=guard]")).to_contain_text("calls are rising")
    await shot(page, "decisions")
    await page.select_option("select[name=queue]", "sales")
    await page.click("#decision-filters button")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_have_attribute("data-event", "lend_offered")


async def test_a_task_is_found_by_its_customer_ref_and_its_story_told(
    page: Page, console: Console
) -> None:
    await sign_in_with_token(page, console)
    await page.goto(console.url + "/console/tasks")
    await page.fill("input[name=q]", "CUST-2")
    await page.click("#task-search button")
    found = page.locator("tr[data-task]")
    await expect(found).to_have_count(1)
    await shot(page, "tasks")
    await found.locator("a").click()
    await expect(page.locator("h1")).to_contain_text("Refund request 2")
    await expect(page.locator("#timeline")).to_contain_text("created")
    await shot(page, "task")


async def test_a_supervisor_signs_in_with_slack(page: Page, console: Console) -> None:
    await sign_in_with_slack(page, console, SUPERVISOR)
    await page.wait_for_url("**/console/now")
    await expect(page.locator(".who")).to_contain_text("Sam Cho · supervisor")
    assert console.slack.calls_to("openid.connect.token", ok=True)
    assert console.slack.calls_to("openid.connect.userInfo", ok=True)


async def test_an_agent_sees_their_own_day_and_no_supervisor_page(
    page: Page, console: Console
) -> None:
    await sign_in_with_slack(page, console, DANA)
    await page.wait_for_url("**/console/me")
    await expect(page.locator("h1")).to_contain_text("Dana Levi")
    await expect(page.locator("tr[data-event=lend_offered]")).to_have_count(1)
    await expect(page.locator("nav a")).to_have_count(1)  # My day only
    await shot(page, "my-day")
    for path in (
        "/console/now",
        "/console/decisions",
        "/console/tasks",
        "/console/tasks/1",
        "/console/people",
        "/console/costs",
        "/console/trends",
        "/console/export/agents",
        "/console/actions",
    ):
        response = await page.goto(console.url + path)
        assert response is not None, path
        assert response.status == 403, path
        await expect(page.locator(".error")).to_contain_text("for supervisors")
    live = await page.request.get(console.url + "/console/now/live")
    assert live.status == 403


async def test_someone_blendbot_does_not_know_is_refused(page: Page, console: Console) -> None:
    await sign_in_with_slack(page, console, STRANGER)
    await expect(page.locator(".error")).to_contain_text("neither a supervisor nor an agent")
    response = await page.goto(console.url + "/console/now")
    assert response is not None
    assert response.url.endswith("/console/sign-in")


async def test_a_form_without_its_csrf_token_is_refused(page: Page, console: Console) -> None:
    await page.goto(console.url + "/console/sign-in")
    await page.evaluate("document.querySelector('#token-form input[name=csrf]').remove()")
    await page.fill("#token", TOKEN)
    await page.click("#token-form button[type=submit]")
    await expect(page.locator(".error")).to_contain_text("no valid security token")
    await page.goto(console.url + "/console/now")
    await expect(page).to_have_url(console.url + "/console/sign-in")
    await sign_in_with_token(page, console)
    forged = await page.request.post(console.url + "/console/sign-out", form={"csrf": "forged"})
    assert forged.status == 403
    await page.goto(console.url + "/console/now")
    await expect(page.locator(".who")).to_contain_text("supervisor")  # still signed in

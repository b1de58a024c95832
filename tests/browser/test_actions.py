"""Supervisors' actions from the console in Chromium: pause and resume blending, boost a type,
give a task to an agent; each through the same code as Slack, audited, and refused without
the form's CSRF token."""

from __future__ import annotations

from playwright.async_api import Page, expect

from tests.browser.conftest import Console
from tests.browser.test_console import shot, sign_in_with_token
from tests.conftest import AUTH


async def _audit(console: Console) -> list[str]:
    rows = await console.pool.fetch("SELECT action FROM slack_audit ORDER BY id")
    return [r["action"] for r in rows]


async def test_a_supervisor_pauses_and_resumes_blending(page: Page, console: Console) -> None:
    await sign_in_with_token(page, console)
    await page.click("nav >> text=Actions")
    await page.wait_for_url("**/console/actions")
    await expect(page.locator("#blending-state")).to_contain_text("on")
    await page.fill("#blending-form input[name=reason]", "system outage")
    await page.click("#blending-form button[type=submit]")
    await expect(page.locator("#flash")).to_contain_text("Blending is paused")
    await expect(page.locator("#blending-state")).to_contain_text("paused")
    row = await console.pool.fetchrow("SELECT blending_on, reason FROM blending_state")
    assert row is not None
    assert (row["blending_on"], row["reason"]) == (False, "system outage")
    await shot(page, "actions")
    await page.click("#blending-form button[type=submit]")
    await expect(page.locator("#flash")).to_contain_text("Blending is on")
    assert (await _audit(console))[-2:] == ["console_blending_off", "console_blending_on"]


async def test_a_boost_and_an_assignment(page: Page, console: Console) -> None:
    await sign_in_with_token(page, console)
    await page.goto(console.url + "/console/actions")
    await page.select_option("#boost-form select[name=type]", "address_change")
    await page.fill("#boost-form input[name=boost]", "40")
    await page.fill("#boost-form input[name=reason]", "month-end")
    await page.click("#boost-form button[type=submit]")
    await expect(page.locator("#flash")).to_contain_text("address_change +40 for 8 h")
    await expect(page.locator("#boosts")).to_contain_text('type == "address_change" +40')
    await page.fill("#assign-form input[name=task]", "#3")
    await page.select_option("#assign-form select[name=agent]", "lena")
    await page.click("#assign-form button[type=submit]")
    await expect(page.locator("#flash")).to_contain_text("Task #3 is now with Lena Park")
    holder = await console.pool.fetchval("SELECT holder FROM tasks WHERE id = 3")
    assert holder == "lena"
    assert (await _audit(console))[-2:] == ["console_boost", "console_assign"]


async def test_an_action_without_its_csrf_token_is_refused(page: Page, console: Console) -> None:
    await sign_in_with_token(page, console)
    await page.goto(console.url + "/console/actions")
    await page.evaluate("document.querySelector('#blending-form input[name=csrf]').remove()")
    await page.click("#blending-form button[type=submit]")
    await expect(page.locator(".error")).to_contain_text("no valid security token")
    assert await console.pool.fetchval("SELECT blending_on FROM blending_state") is True


async def _lends(console: Console, event: str) -> list[dict[str, object]]:
    rows = await console.pool.fetch(
        "SELECT event, grp, agent_id, reason, actor FROM blending_events WHERE event = $1"
        " AND actor <> 'blendbot' ORDER BY id",
        event,
    )
    return [dict(r) for r in rows]


async def test_a_lend_and_a_recall_are_the_apis_own(page: Page, console: Console) -> None:
    await sign_in_with_token(page, console)
    await page.goto(console.url + "/console/actions")
    await page.select_option("#lend-form select[name=agent]", "dana")
    await page.fill("#lend-form input[name=minutes]", "30")
    await page.click("#lend-form button[type=submit]")
    await expect(page.locator("#flash")).to_contain_text(
        "Dana Levi is lent to back-office work until 11:12"
    )
    [lent] = await _lends(console, "lent")
    by = str(lent["actor"])
    response = await console.api.post(
        "/api/v1/agents/lena/lend", json={"minutes": 30, "by": by}, headers=AUTH
    )
    assert response.status == 200, await response.text()
    [_, by_api] = await _lends(console, "lent")
    assert {**by_api, "agent_id": "dana"} == lent  # the same row, but for whom
    assert lent == {
        "event": "lent",
        "grp": "sales",
        "agent_id": "dana",
        "reason": "lent for 30 min until 11:12",
        "actor": by,
    }
    window = await console.pool.fetchrow(
        "SELECT lent_by, ends_at - starts_at AS length FROM blending_windows WHERE agent_id='dana'"
    )
    assert window is not None
    assert (window["lent_by"], window["length"].total_seconds()) == (by, 1800)
    await page.select_option("#recall-form select[name=agent]", "dana")
    await page.fill("#recall-form input[name=reason]", "sales is filling up")
    await page.click("#recall-form button[type=submit]")
    await expect(page.locator("#flash")).to_contain_text("Dana Levi is recalled to the phones")
    recalled = await _lends(console, "recalled")
    assert [(r["agent_id"], r["reason"], r["actor"]) for r in recalled] == [
        ("dana", "sales is filling up", by)
    ]
    assert (await _audit(console))[-2:] == ["console_lend", "console_recall"]
    detail = await console.pool.fetchval(
        "SELECT detail FROM slack_audit WHERE action = 'console_lend'"
    )
    assert detail == {"agent": "dana", "minutes": 30, "override": False}


async def test_a_lend_without_its_csrf_token_is_refused(page: Page, console: Console) -> None:
    await sign_in_with_token(page, console)
    await page.goto(console.url + "/console/actions")
    await page.evaluate("document.querySelector('#lend-form input[name=csrf]').remove()")
    await page.click("#lend-form button[type=submit]")
    await expect(page.locator(".error")).to_contain_text("no valid security token")
    assert await _lends(console, "lent") == []
    assert "console_lend" not in await _audit(console)

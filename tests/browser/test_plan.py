"""The Plan page in Chromium: eight weeks of billing history, a back-office agent on shift and
30 open tasks due by noon (tests/support/backoffice.py) give a plan that asks for extra hours
today, draws its charts, and lists the tasks that will miss their SLA, worst first, each
linking to its story; an agent signed in is refused the page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer
from playwright.async_api import Page, expect

from clock import FixedClock
from queues.models import AgentIn, TaskIn
from queues.roster import Roster
from queues.tasks import Tasks
from standins.slack import StandIn
from standins.slack_openid import Client as OpenIdClient
from tests.browser.conftest import CLIENT_ID, CLIENT_SECRET, DANA, SUPERVISOR, Console, _service
from tests.browser.test_console import shot, sign_in_with_slack, sign_in_with_token
from tests.support.backoffice import NOW, agent, history, shifts


@pytest.fixture
async def planning(pool: asyncpg.Pool) -> AsyncIterator[Console]:
    """The console on a Monday at 08:00 with the back office behind."""
    slack = StandIn(users={SUPERVISOR: "Sam Cho", DANA: "Dana Levi"})
    standin = TestServer(slack.app())
    await standin.start_server()
    clock = FixedClock(NOW)
    service = TestServer(_service(pool, standin, clock).web)
    await service.start_server()
    base = str(service.make_url("")).rstrip("/")
    slack.openid.clients[CLIENT_ID] = OpenIdClient(CLIENT_SECRET, (base + "/console/",))
    slack.openid.names.update(slack.users)
    try:
        async with TestClient(service) as api:
            await history(pool)
            await agent(pool, "bo1", "Back Office", ["billing"])
            await shifts(pool, "bo1", NOW.date(), 14)
            await Roster(pool).put("dana", AgentIn(name="Dana Levi", slack_user_id=DANA))
            due = NOW + timedelta(hours=4)
            await Tasks(pool).create_many(
                [
                    TaskIn(
                        source="crm",
                        external_id=f"O-{i}",
                        type="billing",
                        title=f"Open {i}",
                        due_at=due,
                    )
                    for i in range(30)
                ],
                "test",
            )
            yield Console(base, slack, api, pool, clock)
    finally:
        await standin.close()


async def test_the_plan_asks_for_hours_and_names_the_tasks_that_will_be_late(
    page: Page, planning: Console
) -> None:
    await sign_in_with_token(page, planning)
    await page.click("nav >> text=Plan")
    await page.wait_for_url("**/console/plan")
    await expect(page.locator("h1")).to_contain_text("2026-03-02 to 2026-03-15")
    monday = page.locator("table.skill-days[data-skills=billing] tr[data-day='2026-03-02']")
    await expect(monday.locator("td").nth(3)).to_have_text("7.5")  # dedicated: bo1's shift
    extra = float(await monday.locator("td.extra").inner_text())
    assert extra >= 7.5  # 15 hours due today, 7.5 to do them
    billing = page.locator("#types tr[data-type=billing] td")
    await expect(billing.nth(4)).to_have_text("30")
    await expect(billing.nth(5)).to_have_text("15.0")
    await expect(page.locator("#backlog tbody tr")).to_have_count(14)
    misses = page.locator("#misses tbody tr")
    await expect(misses).to_have_count(24)
    late = [text for text in await page.locator("#misses tbody tr td:last-child").all_inner_texts()]
    assert late[0] != late[-1]  # worst first: the last one worked is the latest
    await expect(page.locator("#hours-chart")).to_have_attribute("data-drawn", "true")
    await expect(page.locator("#backlog-chart")).to_have_attribute("data-drawn", "true")
    await shot(page, "plan")
    first = await misses.first.get_attribute("data-task")
    await misses.first.locator("a").click()
    await page.wait_for_url(f"**/console/tasks/{first}")
    await page.click("nav >> text=Plan")
    await page.click("text=7 days")
    await expect(page.locator("#backlog tbody tr")).to_have_count(7)


async def test_an_agent_is_refused_the_plan(page: Page, planning: Console) -> None:
    await sign_in_with_slack(page, planning, DANA)
    await page.wait_for_url("**/console/me")
    await expect(page.locator("nav >> text=Plan")).to_have_count(0)
    response = await page.goto(planning.url + "/console/plan")
    assert response is not None
    assert response.status == 403
    await expect(page.locator(".error")).to_contain_text("for supervisors")


async def test_the_last_plan_is_kept_for_a_minute(page: Page, planning: Console) -> None:
    await sign_in_with_token(page, planning)
    await page.goto(planning.url + "/console/plan")
    opened = page.locator("#types tr[data-type=billing] td").nth(4)
    await expect(opened).to_have_text("30")
    await Tasks(planning.pool).create_many(
        [TaskIn(source="crm", external_id="O-new", type="billing", title="New")], "test"
    )
    await page.reload()
    await expect(opened).to_have_text("30")  # the same plan, not worked out again
    planning.clock.set(NOW + timedelta(minutes=1))
    await page.reload()
    await expect(opened).to_have_text("31")


async def test_the_arrivals_per_hour_and_a_sites_plan(page: Page, planning: Console) -> None:
    await sign_in_with_token(page, planning)
    await page.goto(planning.url + "/console/plan")
    # The history's billing tasks come 09:00-12:20 UTC on weekdays: four hours a day.
    hours = page.locator("#intervals tbody tr")
    await expect(hours).to_have_count(8)
    await expect(hours.first.locator("td").first).to_have_text("Mon 02 Mar 09:00")
    await expect(page.locator("#arrivals-chart")).to_have_attribute("data-drawn", "true")
    await expect(page.locator("#sites")).to_have_count(0)  # one site: nothing to choose

    await planning.pool.execute(
        "INSERT INTO sites VALUES ('auckland', 'Auckland', 'Pacific/Auckland'),"
        " ('new-york', 'New York', 'America/New_York')"
    )
    await agent(planning.pool, "ny1", "Back Office", ["billing"])
    await shifts(planning.pool, "ny1", NOW.date(), 14)
    await planning.pool.execute("UPDATE agents SET site_id = 'auckland' WHERE agent_id = 'bo1'")
    await planning.pool.execute("UPDATE agents SET site_id = 'new-york' WHERE agent_id = 'ny1'")
    await page.goto(planning.url + "/console/plan?days=7")
    await page.click("#sites >> text=auckland")
    await page.wait_for_url("**/console/plan?days=7&site=auckland")
    await expect(page.locator("h1")).to_contain_text("for site auckland: 2026-03-02 to 2026-03-08")
    # Two agents with billing on the same shifts: half the work is Auckland's.
    await expect(page.locator("h3 .share")).to_have_text("50%")
    await expect(page.locator("#types tr[data-type=billing] td").nth(5)).to_have_text("7.5")
    # 09:00-12:20 UTC is 22:00-01:20 in Auckland: its hours.
    await expect(page.locator("#intervals tbody tr").first).to_be_visible()
    starts = await page.locator("#intervals tbody tr td:first-child").all_inner_texts()
    assert {s[-5:] for s in starts} <= {"22:00", "23:00", "00:00", "01:00"}, starts
    assert "Mon 02 Mar 22:00" in starts
    await expect(page.locator("#arrivals-chart")).to_have_attribute("data-drawn", "true")
    await shot(page, "plan-site")
    await page.click("text=14 days")
    await page.wait_for_url("**/console/plan?days=14&site=auckland")
    await page.click("#sites >> text=Whole center")
    await expect(page.locator("#types tr[data-type=billing] td").nth(5)).to_have_text("15.0")

    missing = await page.goto(planning.url + "/console/plan?site=mars")
    assert missing is not None
    assert missing.status == 404
    bad = await page.goto(planning.url + "/console/plan?site=Not%20A%20Site")
    assert bad is not None
    assert bad.status == 422
    await expect(page.locator(".error")).to_contain_text("site")

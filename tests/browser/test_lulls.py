"""The Now page's lull windows ahead in Chromium: the forecast's need against the agents
scheduled, drawn by Chart.js, and the windows with agents to spare listed."""

from __future__ import annotations

from datetime import timedelta

from playwright.async_api import Page, expect

from tests.browser.conftest import NOW, Console
from tests.browser.test_console import shot, sign_in_with_token


async def test_the_lull_windows_ahead_against_the_forecast(page: Page, console: Console) -> None:
    start = NOW.replace(minute=30)
    async with console.pool.acquire() as conn, conn.transaction():
        for n in range(32):
            await conn.execute(
                "INSERT INTO queue_forecasts (queue, interval_start, minutes, mean, lo_80, hi_80,"
                " lo_95, hi_95, aht_seconds, agents, agents_high)"
                " VALUES ('sales', $1, 15, 4, 2, 6, 1, 7, 240, $2, $2)",
                start + timedelta(minutes=15 * n),
                1 if n < 8 else 3,
            )
        for agent in ("dana", "lena"):
            await conn.execute(
                "INSERT INTO agent_schedules (agent_id, kind, starts_at, ends_at)"
                " VALUES ($1, 'shift', $2, $3)",
                agent,
                NOW - timedelta(hours=1),
                NOW + timedelta(hours=8),
            )
    await sign_in_with_token(page, console)
    sales = page.locator("#lulls .lull-group[data-group=sales]")
    await expect(sales.locator(".windows li")).to_have_count(1)
    await expect(sales.locator(".windows li")).to_have_text("10:30\N{EN DASH}12:30: 1 spare")
    await expect(sales.locator("canvas")).to_have_attribute("data-drawn", "true")
    drawn = await sales.locator("canvas").evaluate(
        "c => [c.chart.data.datasets[0].data.slice(0, 9), c.chart.data.datasets[1].data[8]]"
    )
    assert drawn == [[2] * 9, 3]  # two scheduled throughout; three needed from 12:30
    care = page.locator("#lulls .lull-group[data-group=care]")
    await expect(care).to_contain_text("no forecast yet for care")
    await shot(page, "now")  # the README's picture of the Now page, its lulls included

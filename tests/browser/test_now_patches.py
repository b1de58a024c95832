"""The Now page takes what changed, not the board: the feed's events reach an open page as
patches (no whole board, no reload) within 2 s, and the patched board is the board a fresh
page shows."""

from __future__ import annotations

import time
from datetime import timedelta

from playwright.async_api import Page, expect

from tests.browser.center import feed, state
from tests.browser.conftest import NOW, Console
from tests.browser.test_console import sign_in_with_token

HEARD = """
(() => {
  const Source = window.EventSource;
  window.heard = [];
  window.EventSource = function (url) {
    const source = new Source(url);
    for (const name of ["now", "patch"]) {
      source.addEventListener(name, () => window.heard.push(name));
    }
    return source;
  };
})();
"""
BOARD = """
() => {
  const board = document.getElementById("board").cloneNode(true);
  board.querySelectorAll("[data-since]").forEach((cell) => { cell.textContent = ""; });
  return board.innerHTML;
}
"""
"""The board without the durations the page counts (each page counts from its own load)."""


async def test_feed_events_are_patched_in_place_and_the_board_is_a_fresh_one(
    page: Page, console: Console
) -> None:
    await page.add_init_script(HEARD)
    await sign_in_with_token(page, console)
    await expect(page.locator("#live-state")).to_have_text("live")
    await page.evaluate("window.notReloaded = true")
    omar = page.locator("#agents tr[data-agent=omar] td[data-since]")
    await expect(omar).to_have_text("7m 00s")
    dana = page.locator("#agents tr[data-agent=dana] .state")
    sent = time.monotonic()
    await feed(console.api, [state(9, "dana", "on_call", NOW - timedelta(seconds=20))])
    await expect(dana).to_have_text("on a call", timeout=2000)
    assert time.monotonic() - sent < 2.0
    await expect(page.locator("#agents tr[data-agent=dana] td[data-since]")).to_have_text("20s")
    await feed(
        console.api,
        [
            state(10, "lena", "available", NOW - timedelta(seconds=5)),
            {
                "type": "call_arrived",
                "event_id": "c9",
                "at": (NOW - timedelta(seconds=10)).isoformat(),
                "queue": "sales",
                "call_id": "call-9",
            },
        ],
    )
    await expect(page.locator("#agents tr[data-agent=lena] .state")).to_have_text("available")
    await expect(page.locator("#queues tr[data-queue=sales] .waiting")).to_have_text("2")
    order = page.locator("#agents tbody tr")
    await expect(order).to_have_count(3)
    assert [await r.get_attribute("data-agent") for r in await order.all()] == [
        "omar",
        "dana",
        "lena",
    ]
    assert await page.evaluate("window.notReloaded") is True
    heard = await page.evaluate("window.heard")
    assert heard
    assert set(heard) == {"patch"}
    fresh = await page.context.new_page()
    await fresh.goto(console.url + "/console/now")
    assert await page.evaluate(BOARD) == await fresh.evaluate(BOARD)

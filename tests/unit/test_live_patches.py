"""The Now page's stream sends each console what changed since the rendering it shows (a
``patch``), worked out once however many consoles show it, and the whole board (``now``) to
a console that shows none of the renderings kept: a new one, one that missed several, or
one that reconnects to another instance."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.console import fragments, live
from bot.console.fragments import Rendered, rendered
from bot.console.live import Live

SHAPE = "<div>\x00stamp\x00</div><table>" + "\x00agents\x00</table>" + "<p>the board</p>" * 40


class Center:
    """A board whose agents' states the test sets; each rendering counted."""

    def __init__(self) -> None:
        self.states = {f"a{i}": "available" for i in range(5)}
        self.renderings = 0

    async def render(self) -> Rendered:
        self.renderings += 1
        return rendered(
            SHAPE,
            {
                "stamp": [("stamp", f"<p>{self.renderings}</p>")],
                "agents": [(k, f"<tr>{k} {v}</tr>") for k, v in self.states.items()],
            },
        )


@pytest.fixture
def center() -> Center:
    return Center()


@pytest.fixture
async def served(
    center: Center,
) -> AsyncIterator[tuple[Live, TestClient[web.Request, web.Application]]]:
    channel = Live(center.render)

    async def handler(request: web.Request) -> web.StreamResponse:
        return await channel.stream(request, int(request.query.get("since", "-1")))

    app = web.Application()
    app.router.add_get("/live", handler)
    async with TestClient(TestServer(app)) as test_client:
        yield channel, test_client
        channel.closed = True
        channel.kick()


async def events(response: object, n: int) -> list[dict[str, str]]:
    """The next ``n`` events of a stream, each as its fields."""
    found: list[dict[str, str]] = []
    fields: dict[str, str] = {}
    content = response.content  # type: ignore[attr-defined]
    while len(found) < n:
        line = (await asyncio.wait_for(content.readline(), 5)).decode().rstrip("\r\n")
        if not line:
            if fields:
                found.append(fields)
            fields = {}
            continue
        name, _, value = line.partition(": ")
        fields[name] = value
    return found


async def test_a_page_gets_patches_and_a_new_console_the_board(
    center: Center, served: tuple[Live, TestClient[web.Request, web.Application]]
) -> None:
    channel, test = served
    since, html = await channel.page()
    assert "a3 available" in html
    page = await test.get(f"/live?since={since}")
    fresh = await test.get("/live")
    (first,) = await events(fresh, 1)
    assert first["event"] == "now"  # a console showing nothing gets the board at once
    center.states["a3"] = "on_call"
    channel.kick()
    (patch,) = await events(page, 1)
    assert patch["event"] == "patch"
    assert json.loads(patch["data"])["lists"]["agents"] == {
        "remove": [],
        "put": [["a3", "a2", "<tr>a3 on_call</tr>"]],
    }
    (also,) = await events(fresh, 1)  # a second after its board
    assert also["event"] == "patch"
    assert "a3 on_call" in also["data"]


async def test_the_patch_is_worked_out_once_for_every_console(
    center: Center,
    served: tuple[Live, TestClient[web.Request, web.Application]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    channel, test = served
    since, _ = await channel.page()
    diffs: list[int] = []
    diff = fragments.diff

    def counted(old: Rendered, new: Rendered) -> str | None:
        diffs.append(1)
        return diff(old, new)

    monkeypatch.setattr(live, "diff", counted)
    pages = [await test.get(f"/live?since={since}") for _ in range(10)]
    await asyncio.sleep(0.1)
    center.states["a1"] = "break"
    channel.kick()
    got = [await events(p, 1) for p in pages]
    assert {e[0]["event"] for e in got} == {"patch"}
    assert len(diffs) == 1


async def test_a_console_that_missed_the_renderings_kept_gets_the_board(
    center: Center, served: tuple[Live, TestClient[web.Request, web.Application]]
) -> None:
    channel, test = served
    since, _ = await channel.page()
    for i in range(live.KEPT):
        center.states["a0"] = f"state{i}"
        await asyncio.sleep(live.FRESH_SECONDS)
        await channel.rendering(channel.version + 1)
    (event,) = await events(await test.get(f"/live?since={since}"), 1)
    assert event["event"] == "now"
    assert f"a0 state{live.KEPT - 1}" in event["data"]


async def test_a_reconnecting_console_is_patched_from_its_last_event(
    center: Center, served: tuple[Live, TestClient[web.Request, web.Application]]
) -> None:
    # The page's stream dropped after an event: it reconnects with the page's own since,
    # and the last event's id it received says what it shows.
    channel, test = served
    since, _ = await channel.page()
    await asyncio.sleep(live.FRESH_SECONDS)
    center.states["a2"] = "on_call"
    channel.kick()
    last = await channel.rendering(channel.version)
    center.states["a4"] = "break"
    channel.kick()
    again = await test.get(f"/live?since={since}", headers={"Last-Event-ID": str(last.number)})
    (event,) = await events(again, 1)
    assert event["event"] == "patch"
    assert [p[0] for p in json.loads(event["data"])["lists"]["agents"]["put"]] == ["a4"]
    other = await test.get(f"/live?since={since}", headers={"Last-Event-ID": "elsewhere"})
    (event,) = await events(other, 1)
    assert event["event"] == "now"


async def test_a_rendering_that_fails_is_tried_again_on_the_next_change(
    served: tuple[Live, TestClient[web.Request, web.Application]], center: Center
) -> None:
    channel, test = served
    calls: list[int] = []

    async def flaky() -> Rendered:
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionError("the database is away")
        return await center.render()

    channel._render = flaky
    stream = await test.get("/live")
    await asyncio.sleep(0.1)
    channel.kick()
    (event,) = await events(stream, 1)
    assert event["event"] == "now"

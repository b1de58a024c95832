"""The console in a real browser: Debian's Chromium driven by Playwright, against the service
as the root builds it, listening on an ephemeral port, on a cloned database of the embedded
PostgreSQL, with the Slack stand-in serving Sign in with Slack."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer
from playwright.async_api import Browser, Page, async_playwright

from bot import root
from bot.console.config import ConsoleConfig, SlackSignIn
from clock import FixedClock
from standins.slack import StandIn
from standins.slack_openid import Client as OpenIdClient
from tests.browser.center import seed
from tests.conftest import TOKEN

NOW = datetime(2026, 11, 23, 10, 42, tzinfo=UTC)
CLIENT_ID = "1111.2222"
CLIENT_SECRET = "standin-client-secret"
SUPERVISOR = "U0SAM00001"
DANA = "U01DANA0001"
STRANGER = "U0NOBODY01"


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail("Chromium is not installed: apt-get install -y chromium (.ci/run does)")
    return found


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=chromium())
        try:
            yield launched
        finally:
            await launched.close()


@dataclass
class Console:
    url: str
    slack: StandIn
    api: TestClient[Any, Any]
    pool: asyncpg.Pool
    clock: FixedClock


@asynccontextmanager
async def served_console(
    pool: asyncpg.Pool, users: dict[str, str], clock: FixedClock
) -> AsyncIterator[tuple[str, StandIn, TestClient[Any, Any]]]:
    """The service with its console, Slack's stand-in knowing ``users`` and signing them in
    by OpenID Connect: the console's base URL, the stand-in and an API client."""
    slack = StandIn(users=users)
    standin = TestServer(slack.app())
    await standin.start_server()
    service = TestServer(_service(pool, standin, clock).web)
    await service.start_server()
    base = str(service.make_url("")).rstrip("/")
    slack.openid.clients[CLIENT_ID] = OpenIdClient(CLIENT_SECRET, (base + "/console/",))
    slack.openid.names.update(slack.users)
    try:
        async with TestClient(service) as api:
            yield base, slack, api
    finally:
        await standin.close()


@pytest.fixture
async def console(pool: asyncpg.Pool) -> AsyncIterator[Console]:
    clock = FixedClock(NOW)
    users = {SUPERVISOR: "Sam Cho", DANA: "Dana Levi"}
    async with served_console(pool, users, clock) as (base, slack, api):
        await seed(api, pool, NOW)
        yield Console(base, slack, api, pool, clock)


def _service(pool: asyncpg.Pool, standin: TestServer, clock: FixedClock) -> root.App:
    config = ConsoleConfig(
        supervisors=frozenset({SUPERVISOR}),
        slack=SlackSignIn(
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            authorize_url=str(standin.make_url("/openid/connect/authorize")),
            api_url=str(standin.make_url("/api/")),
            team_id="T0STANDIN",
        ),
    )
    return root.http_app(
        pool, root.Parts(clock=clock), tokens=[TOKEN], max_body_bytes=256 * 1024, console=config
    )


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport={"width": 1400, "height": 900})
    opened = await context.new_page()
    try:
        yield opened
    finally:
        await context.close()

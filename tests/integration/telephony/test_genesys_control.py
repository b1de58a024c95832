"""The Genesys Cloud control client against the login and presence stand-in, and the presence
notification reading the new presence back."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from blending.events import AgentStateChanged
from standins.genesys import DEFINITION_VIEW, PRESENCE_EDIT, GenesysStandIn
from telephony_adapters import genesys
from telephony_adapters.control import Command, Refused, Throttled, Unreachable
from telephony_adapters.genesys_client import client_credentials
from telephony_adapters.genesys_control import GenesysControl, learn
from telephony_adapters.marks import StateMarks
from telephony_adapters.ratelimit import Window

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CLIENT, SECRET = "blendbot-client", "blendbot-secret"
USER = "9ed7d9f6-0c59-4360-ac54-40dd35eb9c2f"


@dataclass
class Genesys:
    standin: GenesysStandIn
    url: str

    def client(self, marks: StateMarks | None = None, **overrides: object) -> GenesysControl:
        options: dict[str, object] = {
            "api_url": self.url,
            "login_url": self.url,
            "client_id": CLIENT,
            "client_secret": SECRET,
            "marks": marks,
            **overrides,
        }
        return GenesysControl(**options)  # type: ignore[arg-type]

    def state_in_feed(self, marks: StateMarks, user: str = USER) -> str:
        (event,) = genesys.parse(self.standin.notification(user), NOW, marks).events
        assert isinstance(event, AgentStateChanged)
        return event.state


def command(state: str, n: int = 1, user: str = USER) -> Command:
    return Command(f"cmd-{n}", "dana", user, state, "test")  # type: ignore[arg-type]


@pytest.fixture
async def org() -> AsyncIterator[Genesys]:
    standin = GenesysStandIn(clients={CLIENT: SECRET, "read-only": "s"})
    standin.permissions["read-only"] = {DEFINITION_VIEW}
    standin.define("Back office", "Busy")
    standin.define("Meeting room", "Busy")
    standin.users = {USER: standin.named("On Queue").id, "u2": standin.named("On Queue").id}
    server = TestServer(standin.app())
    await server.start_server()
    yield Genesys(standin, str(server.make_url("")).rstrip("/"))
    await server.close()


async def test_lend_and_recall_patch_the_presence_and_the_feed_reads_it(org: Genesys) -> None:
    marks = StateMarks(["Back office"], ["On Queue"])
    client = org.client(marks)
    try:
        await client.send(command("backoffice"))
        assert org.standin.presence_of(USER).label == "Back office"
        assert org.state_in_feed(marks) == "back_office"
        await client.send(command("available", 2))
        assert org.standin.presence_of(USER).label == "On Queue"
        assert org.state_in_feed(marks) == "available"
        await client.send(command("backoffice", 3, user="u2"))
    finally:
        await client.close()
    lookups = [c for c in org.standin.calls if c.method == "GET"]
    patches = [c for c in org.standin.calls if c.method == "PATCH"]
    assert len(lookups) == 1, "the presence ids are looked up once"
    assert lookups[0].body == {"deactivated": "false", "localeCode": "ALL"}
    assert patches[0].path == f"/api/v2/users/{USER}/presences/purecloud"
    assert patches[0].body == {"presenceDefinition": {"id": org.standin.named("Back office").id}}
    assert patches[1].body == {"presenceDefinition": {"id": org.standin.named("On Queue").id}}
    assert client.logins == 1, "the token is kept"


async def test_presences_are_found_by_label_in_any_language(org: Genesys) -> None:
    org.standin.define("Travail de fond", "Busy")
    client = org.client(backoffice_presence="travail de fond")
    try:
        found = await client.presences()
    finally:
        await client.close()
    assert found.back_office == org.standin.named("Travail de fond").id


@pytest.mark.parametrize(
    ("back_office", "available", "problem"),
    [
        ("Nowhere", "On Queue", "no active presence named 'Nowhere'"),
        ("Available", "On Queue", "would leave the agent routable"),
        ("Back office", "Meeting room", "not On Queue"),
    ],
)
async def test_presences_that_would_do_harm_are_refused_before_sending(
    org: Genesys, back_office: str, available: str, problem: str
) -> None:
    client = org.client(backoffice_presence=back_office, available_presence=available)
    try:
        with pytest.raises(Refused, match=problem):
            await client.send(command("backoffice"))
    finally:
        await client.close()
    assert not [c for c in org.standin.calls if c.method == "PATCH"]


async def test_a_deactivated_presence_is_not_used(org: Genesys) -> None:
    org.standin.definitions = [d for d in org.standin.definitions if d.label != "Back office"]
    org.standin.define("Back office", "Busy", deactivated=True)
    client = org.client()
    try:
        with pytest.raises(Refused, match="no active presence"):
            await client.send(command("backoffice"))
    finally:
        await client.close()


async def test_a_forgotten_presence_is_looked_up_again(org: Genesys) -> None:
    client = org.client()
    try:
        await client.send(command("backoffice"))
        old = org.standin.named("Back office")
        org.standin.definitions.remove(old)
        fresh = org.standin.define("Back office", "Busy")
        with pytest.raises(Refused, match=r"not\.found"):
            await client.send(command("backoffice", 2))
        await client.send(command("backoffice", 3))
    finally:
        await client.close()
    assert org.standin.users[USER] == fresh.id
    assert client.lookups == 2


async def test_an_expired_token_is_renewed_once(org: Genesys) -> None:
    client = org.client()
    try:
        await client.send(command("backoffice"))
        org.standin.expire_tokens()
        await client.send(command("available", 2))
    finally:
        await client.close()
    assert client.logins == 2


async def test_wrong_client_credentials_and_missing_permissions_are_refused(
    org: Genesys,
) -> None:
    wrong = org.client(client_secret="nope")
    read_only = org.client(client_id="read-only", client_secret="s")
    try:
        with pytest.raises(Refused, match="login"):
            await wrong.send(command("backoffice"))
        with pytest.raises(Refused, match=f"missing.permissions.*{PRESENCE_EDIT}"):
            await read_only.send(command("backoffice"))
    finally:
        await wrong.close()
        await read_only.close()


async def test_throttling_holds_the_client_for_retry_after(org: Genesys) -> None:
    client = org.client()
    try:
        await client.presences()
        org.standin.fail_next(429, "too.many.requests", retry_after=0.2)
        with pytest.raises(Throttled) as caught:
            await client.send(command("backoffice"))
        started = time.monotonic()
        await client.send(command("backoffice", 2))
        held = time.monotonic() - started
    finally:
        await client.close()
    assert caught.value.retry_after == 0.2
    assert held >= 0.15


async def test_server_errors_are_unreachable_and_bad_requests_refused(org: Genesys) -> None:
    client = org.client()
    try:
        await client.presences()
        org.standin.fail_next(503, "service.unavailable")
        with pytest.raises(Unreachable, match="503"):
            await client.send(command("backoffice"))
        with pytest.raises(Refused, match=r"not\.found"):
            await client.send(command("backoffice", user="nobody"))
    finally:
        await client.close()


async def test_the_limiter_keeps_a_burst_within_the_token_quota(org: Genesys) -> None:
    org.standin.limit, org.standin.period = 10, 0.5
    client = org.client(limiter=Window(10, 0.55))
    started = time.monotonic()
    try:
        await asyncio.gather(*(client.send(command("backoffice", n)) for n in range(24)))
    finally:
        await client.close()
    # 25 requests (the lookup and 24 presences) at 10 per half second: three windows.
    assert time.monotonic() - started >= 1.0
    assert all(call.status == 200 for call in org.standin.calls)


async def test_without_the_limiter_the_quota_throttles(org: Genesys) -> None:
    org.standin.limit, org.standin.period = 10, 1.0
    client = org.client(limiter=Window(1000, 60.0))
    try:
        outcomes = await asyncio.gather(
            *(client.send(command("backoffice", n)) for n in range(24)), return_exceptions=True
        )
    finally:
        await client.close()
    throttled = [o for o in outcomes if isinstance(o, Throttled)]
    assert throttled
    assert all(o.retry_after is not None and o.retry_after > 0 for o in throttled)


async def test_success_without_a_change_is_not_read_back_as_one(org: Genesys) -> None:
    marks = StateMarks()
    client = org.client(marks)
    org.standin.no_change = True
    try:
        await client.send(command("backoffice"))
    finally:
        await client.close()
    assert org.state_in_feed(marks) == "available"


async def test_the_feed_learns_the_presence_ids_itself(org: Genesys) -> None:
    marks = StateMarks(["Back office"], ["On Queue"])
    org.standin.fail_next(503, "service.unavailable")
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    async with aiohttp.ClientSession() as session:

        async def token() -> str:
            return await client_credentials(session, org.url, CLIENT, SECRET)

        found = await learn(session, org.url, token, "Back office", "On Queue", marks, sleep=sleep)
    assert found is not None
    assert slept == [1.0]
    assert marks.state(org.standin.named("Back office").id) == "back_office"
    assert org.state_in_feed(marks) == "available"

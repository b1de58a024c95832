"""The Twilio TaskRouter control client against the Worker stand-in, and the
``worker.activity.update`` callback reading the new activity back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from aiohttp.test_utils import TestServer

from blending.events import AgentStateChanged
from standins.twilio import TwilioStandIn, sid
from telephony_adapters import twilio
from telephony_adapters.control import Command, Refused, Throttled, Unreachable
from telephony_adapters.marks import StateMarks
from telephony_adapters.twilio_control import TwilioControl

WORKER = sid("WK")


@dataclass
class Workspace:
    standin: TwilioStandIn
    url: str
    back_office: str
    available: str

    def client(self, **overrides: object) -> TwilioControl:
        options: dict[str, object] = {
            "account_sid": self.standin.account_sid,
            "auth_token": self.standin.auth_token,
            "workspace_sid": self.standin.workspace_sid,
            "backoffice_activity_sid": self.back_office,
            "available_activity_sid": self.available,
            "api_url": self.url,
            **overrides,
        }
        return TwilioControl(**options)  # type: ignore[arg-type]

    def state_in_feed(self, worker: str = WORKER) -> str:
        marks = StateMarks([self.back_office], [self.available])
        (event,) = twilio.parse(self.standin.activity_event(worker), marks).events
        assert isinstance(event, AgentStateChanged)
        return event.state


def command(state: str, n: int = 1, worker: str = WORKER) -> Command:
    return Command(f"cmd-{n}", "dana", worker, state, "test")  # type: ignore[arg-type]


@pytest.fixture
async def workspace() -> AsyncIterator[Workspace]:
    standin = TwilioStandIn()
    back_office = standin.activity("Back office", available=False)
    available = standin.activity("Available", available=True)
    standin.activity("Offline", available=False)
    standin.workers[WORKER] = available.sid
    server = TestServer(standin.app())
    await server.start_server()
    yield Workspace(standin, str(server.make_url("")).rstrip("/"), back_office.sid, available.sid)
    await server.close()


async def test_lend_and_recall_post_the_activity_and_the_callback_reads_it(
    workspace: Workspace,
) -> None:
    client = workspace.client()
    try:
        await client.send(command("backoffice"))
        assert workspace.state_in_feed() == "back_office"
        await client.send(command("available", 2))
        assert workspace.state_in_feed() == "available"
    finally:
        await client.close()
    lend, recall = workspace.standin.calls
    assert lend.path == f"/v1/Workspaces/{workspace.standin.workspace_sid}/Workers/{WORKER}"
    assert lend.form == {
        "ActivitySid": workspace.back_office,
        "RejectPendingReservations": "true",
    }
    assert recall.form == {"ActivitySid": workspace.available}
    assert (lend.status, recall.status) == (200, 200)


async def test_the_stand_in_refuses_rejecting_reservations_into_an_available_activity(
    workspace: Workspace,
) -> None:
    # What the client must not do: Twilio takes RejectPendingReservations only with an
    # unavailable activity. A client that lends into an available activity is refused.
    client = workspace.client(backoffice_activity_sid=workspace.available)
    try:
        with pytest.raises(Refused, match="20001 RejectPendingReservations"):
            await client.send(command("backoffice"))
    finally:
        await client.close()


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"auth_token": "0" * 32}, "HTTP 401: 20003"),
        ({"workspace_sid": sid("WS")}, "HTTP 404: 20404"),
        ({"backoffice_activity_sid": sid("WA")}, "HTTP 400: 20001 Invalid ActivitySid"),
    ],
)
async def test_what_twilio_refuses_is_refused(
    workspace: Workspace, overrides: dict[str, object], problem: str
) -> None:
    client = workspace.client(**overrides)
    try:
        with pytest.raises(Refused, match=problem):
            await client.send(command("backoffice"))
    finally:
        await client.close()
    assert workspace.state_in_feed() == "available"


async def test_an_unknown_worker_is_refused(workspace: Workspace) -> None:
    client = workspace.client()
    try:
        with pytest.raises(Refused, match="20404"):
            await client.send(command("backoffice", worker=sid("WK")))
    finally:
        await client.close()


async def test_throttling_carries_retry_after(workspace: Workspace) -> None:
    client = workspace.client()
    workspace.standin.fail_next(429, 20429, retry_after=3)
    workspace.standin.fail_next(429, 20429)
    try:
        with pytest.raises(Throttled, match="20429") as told:
            await client.send(command("backoffice"))
        with pytest.raises(Throttled) as untold:
            await client.send(command("backoffice", 2))
    finally:
        await client.close()
    assert told.value.retry_after == 3.0
    assert untold.value.retry_after is None


async def test_server_errors_are_unreachable(workspace: Workspace) -> None:
    client = workspace.client()
    workspace.standin.fail_next(503, 20500)
    try:
        with pytest.raises(Unreachable, match="503"):
            await client.send(command("backoffice"))
    finally:
        await client.close()


async def test_no_answer_is_unreachable() -> None:
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    client = TwilioControl(
        account_sid="AC" + "0" * 32,
        auth_token="t",
        workspace_sid=sid("WS"),
        backoffice_activity_sid=sid("WA"),
        available_activity_sid=sid("WA"),
        api_url=f"http://127.0.0.1:{port}",
    )
    try:
        with pytest.raises(Unreachable):
            await client.send(command("backoffice"))
    finally:
        await client.close()


async def test_success_without_a_change_is_not_read_back_as_one(workspace: Workspace) -> None:
    workspace.standin.no_change = True
    client = workspace.client()
    try:
        await client.send(command("backoffice"))
    finally:
        await client.close()
    assert workspace.state_in_feed() == "available"

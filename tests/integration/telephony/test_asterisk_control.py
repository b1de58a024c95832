"""The Asterisk control client against the AMI stand-in (a TCP server on an ephemeral port),
with the feed's AMI client on the same server reading the ``QueueMemberPause`` back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from blending.events import AgentStateChanged, Parsed
from clock import FixedClock
from standins.asterisk import AmiStandIn, Member, User
from telephony_adapters.ami_client import AmiClient
from telephony_adapters.asterisk_control import AsteriskControl
from telephony_adapters.control import Command, Refused, Unreachable
from telephony_adapters.marks import StateMarks

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DANA = "PJSIP/dana"


def command(state: str, n: int = 1, interface: str = DANA) -> Command:
    return Command(f"cmd-{n}", "dana", interface, state, "test")  # type: ignore[arg-type]


@pytest.fixture
async def pbx() -> AsyncIterator[tuple[AmiStandIn, int]]:
    standin = AmiStandIn(
        users={
            "blendbot": User("s3cret"),
            "reader": User("r3ad", write=frozenset()),
        },
        members=[Member("sales", DANA), Member("support", DANA), Member("sales", "PJSIP/ben")],
    )
    port = await standin.start()
    yield standin, port
    await standin.close()


def control(port: int, **overrides: object) -> AsteriskControl:
    options: dict[str, object] = {
        "host": "127.0.0.1",
        "port": port,
        "username": "blendbot",
        "secret": "s3cret",
        "timeout": 2.0,
        **overrides,
    }
    return AsteriskControl(**options)  # type: ignore[arg-type]


async def _states(received: asyncio.Queue[Parsed], count: int) -> list[AgentStateChanged]:
    found: list[AgentStateChanged] = []
    async with asyncio.timeout(5):
        while len(found) < count:
            parsed = await received.get()
            found += [e for e in parsed.events if isinstance(e, AgentStateChanged)]
    return found


async def test_lend_and_recall_pause_the_member_and_the_feed_reads_it(
    pbx: tuple[AmiStandIn, int],
) -> None:
    standin, port = pbx
    received: asyncio.Queue[Parsed] = asyncio.Queue()

    async def sink(parsed: Parsed) -> None:
        received.put_nowait(parsed)

    feed = AmiClient(
        sink,
        host="127.0.0.1",
        port=port,
        username="blendbot",
        secret="s3cret",
        clock=FixedClock(NOW),
        marks=StateMarks(["back office"]),
    )
    client = control(port)
    await feed.start()
    try:
        async with asyncio.timeout(5):
            await feed.logged_in.wait()
        await _states(received, 3)  # the members' states after login
        await client.send(command("backoffice"))
        lent = await _states(received, 2)
        assert {(e.agent_id, e.state, e.reason) for e in lent} == {
            (DANA, "back_office", "back office")
        }
        assert standin.member(DANA, "sales").paused
        assert standin.member(DANA, "support").paused
        await client.send(command("available", 2))
        back = await _states(received, 2)
        assert {(e.agent_id, e.state) for e in back} == {(DANA, "available")}
    finally:
        await client.close()
        await feed.close()
    pauses = [a for a in standin.actions if a.get("Action") == "QueuePause"]
    assert [(a["Interface"], a["Paused"], a["Reason"]) for a in pauses] == [
        (DANA, "true", "back office"),
        (DANA, "false", "back office"),
    ]
    assert all("Queue" not in a for a in pauses)
    logins = [a for a in standin.actions if a.get("Action") == "Login"]
    assert {a["Events"] for a in logins} == {"on", "off"}


async def test_a_configured_queue_and_reason_are_sent(pbx: tuple[AmiStandIn, int]) -> None:
    standin, port = pbx
    client = control(port, queue="sales", reason="blendbot")
    try:
        await client.send(command("backoffice"))
    finally:
        await client.close()
    (pause,) = [a for a in standin.actions if a.get("Action") == "QueuePause"]
    assert (pause["Queue"], pause["Reason"]) == ("sales", "blendbot")
    assert standin.member(DANA, "sales").paused
    assert not standin.member(DANA, "support").paused


async def test_an_unknown_interface_is_refused(pbx: tuple[AmiStandIn, int]) -> None:
    _, port = pbx
    client = control(port)
    try:
        with pytest.raises(Refused, match="Interface not found"):
            await client.send(command("backoffice", interface="PJSIP/nobody"))
    finally:
        await client.close()


async def test_a_user_without_write_agent_is_refused(pbx: tuple[AmiStandIn, int]) -> None:
    _, port = pbx
    client = control(port, username="reader", secret="r3ad")
    try:
        with pytest.raises(Refused, match="Permission denied"):
            await client.send(command("backoffice"))
    finally:
        await client.close()


async def test_a_wrong_secret_is_refused_at_once(pbx: tuple[AmiStandIn, int]) -> None:
    _, port = pbx
    client = control(port, secret="wrong", timeout=30.0)
    try:
        async with asyncio.timeout(5):
            with pytest.raises(Refused, match="Authentication failed"):
                await client.send(command("backoffice"))
    finally:
        await client.close()


async def test_an_error_response_is_refused(pbx: tuple[AmiStandIn, int]) -> None:
    standin, port = pbx
    standin.fail_next("Interface not in queue")
    client = control(port)
    try:
        with pytest.raises(Refused, match="Interface not in queue"):
            await client.send(command("backoffice"))
        await client.send(command("backoffice", 2))
    finally:
        await client.close()


async def test_no_answer_and_no_server_are_unreachable(pbx: tuple[AmiStandIn, int]) -> None:
    standin, port = pbx
    standin.silent = True
    client = control(port, timeout=0.5)
    try:
        with pytest.raises(Unreachable, match="no answer"):
            await client.send(command("backoffice"))
    finally:
        await client.close()
    await standin.close()
    gone = control(port, timeout=0.5, reconnect_seconds=1)
    try:
        with pytest.raises(Unreachable, match="not logged in"):
            await gone.send(command("backoffice"))
    finally:
        await gone.close()


async def test_the_connection_is_made_again_after_a_loss(pbx: tuple[AmiStandIn, int]) -> None:
    standin, port = pbx
    client = control(port, reconnect_seconds=0)
    try:
        await client.send(command("backoffice"))
        await standin.drop_connections()
        async with asyncio.timeout(5):
            await standin.wait_for_logins(2)
        await client.send(command("available", 2))
    finally:
        await client.close()
    assert not standin.member(DANA, "sales").paused


async def test_success_without_a_change_sends_no_event(pbx: tuple[AmiStandIn, int]) -> None:
    standin, port = pbx
    standin.no_change = True
    client = control(port)
    try:
        await client.send(command("backoffice"))
    finally:
        await client.close()
    assert not standin.member(DANA, "sales").paused


async def test_a_closed_client_stops_trying_to_connect(caplog: pytest.LogCaptureFixture) -> None:
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    client = control(port, timeout=0.3, reconnect_seconds=0)
    with pytest.raises(Unreachable, match="not logged in"):
        await client.send(command("backoffice"))
    await client.close()
    caplog.clear()
    await asyncio.sleep(0.3)
    assert not [r.getMessage() for r in caplog.records if "reconnect" in r.getMessage()]

"""The AMI client against a local TCP server that speaks AMI, on an ephemeral port.

The server answers Login and Ping, replays the captured QueueStatus transcript for the
QueueStatus action, and pushes captured and documented events.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from blending.events import AgentStateChanged, CallArrived, Parsed
from clock import FixedClock
from telephony_adapters.ami_client import AmiClient
from tests.support.samples import ami, text

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CRLF = "\r\n"


def wire(message: dict[str, str]) -> bytes:
    return (CRLF.join(f"{k}: {v}" for k, v in message.items()) + CRLF + CRLF).encode()


@dataclass
class FakeAsterisk:
    connections: list[asyncio.StreamWriter] = field(default_factory=list)
    logins: list[dict[str, str]] = field(default_factory=list)
    connected: asyncio.Queue[asyncio.StreamWriter] = field(default_factory=asyncio.Queue)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections.append(writer)
        writer.write(b"Asterisk Call Manager/5.0.1\r\n")
        self.connected.put_nowait(writer)
        try:
            while True:
                raw = await reader.readuntil(b"\r\n\r\n")
                action = dict(
                    line.split(": ", 1) for line in raw.decode().strip().split(CRLF) if ": " in line
                )
                action_id = action.get("ActionID", "")
                kind = action.get("Action", "").lower()
                if kind == "login":
                    self.logins.append(action)
                    writer.write(
                        wire(
                            {
                                "Response": "Success",
                                "ActionID": action_id,
                                "Message": "Authentication accepted",
                            }
                        )
                    )
                elif kind == "queuestatus":
                    capture = text("asterisk_ami_capture_panoramisk_queue_status.txt")
                    capture = capture.replace("action/transaction_uid/1/1", action_id)
                    writer.write(capture.replace("\n", CRLF).encode())
                else:
                    writer.write(
                        wire({"Response": "Success", "ActionID": action_id, "Ping": "Pong"})
                    )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass


@pytest.fixture
async def asterisk_server() -> AsyncIterator[tuple[FakeAsterisk, int]]:
    fake = FakeAsterisk()
    server = await asyncio.start_server(fake.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield fake, port
        for writer in fake.connections:
            writer.close()


async def test_ami_client_logs_in_backfills_and_reconnects(
    asterisk_server: tuple[FakeAsterisk, int],
) -> None:
    fake, port = asterisk_server
    received: asyncio.Queue[Parsed] = asyncio.Queue()

    async def sink(parsed: Parsed) -> None:
        received.put_nowait(parsed)

    pongs: asyncio.Queue[datetime] = asyncio.Queue()

    async def alive(at: datetime) -> None:
        pongs.put_nowait(at)

    client = AmiClient(
        sink,
        host="127.0.0.1",
        port=port,
        username="blendbot",
        secret="s3cret",
        clock=FixedClock(NOW),
        reconnect_seconds=0,
        alive=alive,
    )
    await client.start()
    try:
        async with asyncio.timeout(10):
            writer = await fake.connected.get()
            await client.logged_in.wait()
            assert fake.logins[0]["Username"] == "blendbot"
            assert await pongs.get() == NOW
            backfill = await received.get()
            members = [e for e in backfill.events if isinstance(e, AgentStateChanged)]
            assert len(members) == 6
            assert {e.agent_id for e in members} >= {"Local/id-9@agentcallback"}

            join = ami(
                "asterisk_ami_queuecallerjoin_syntax.txt",
                Uniqueid="1.1",
                Queue="sales",
                Position="1",
                Count="1",
            )
            writer.write(wire(join))
            captured = text("asterisk_ami_capture_panoramisk_agent_not_in_pause.txt")
            writer.write(captured.replace("\n", CRLF).encode())
            await writer.drain()
            got: list[object] = []
            ignored: dict[str, int] = {}
            while not any(isinstance(e, CallArrived) for e in got) or not any(
                isinstance(e, AgentStateChanged) and e.reason is None for e in got
            ):
                parsed = await received.get()
                got += parsed.events
                for k, v in parsed.ignored.items():
                    ignored[k] = ignored.get(k, 0) + v

            # The server drops the connection: the client logs in again and back-fills.
            writer.close()
            await fake.connected.get()
            again = await received.get()
            assert client.logins == 2
            assert len([e for e in again.events if isinstance(e, AgentStateChanged)]) == 6
    finally:
        await client.close()
    assert client.malformed == 0
    assert ignored["Newchannel"] >= 1

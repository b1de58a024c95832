"""Connection hygiene on the real listening site: slow or silent clients, floods from one
address, huge declared bodies and clients that vanish cost the service nothing lasting."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator

import asyncpg
import pytest

from bot import root
from bot.http.connections import ConnectionLimits, GuardedSite, runner
from tests.conftest import TOKEN

LIMITS = ConnectionLimits(head_seconds=0.5, body_seconds=0.5, per_client=4, keepalive_seconds=5)


@pytest.fixture
async def port(pool: asyncpg.Pool) -> AsyncIterator[int]:
    wired = root.Parts(connections=LIMITS)
    app = root.http_app(pool, wired, tokens=[TOKEN], max_body_bytes=64 * 1024)
    running = runner(app.web, LIMITS)
    await running.setup()
    site = GuardedSite(running, "127.0.0.1", 0, LIMITS)
    await site.start()
    yield site.port
    await running.cleanup()


async def _open(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", port)


async def _closed_within(reader: asyncio.StreamReader, seconds: float) -> bytes:
    """What the server sent before closing; fails if it is still open after ``seconds``."""
    async with asyncio.timeout(seconds):
        return await reader.read()


async def test_a_silent_connection_is_closed(port: int) -> None:
    reader, writer = await _open(port)
    started = time.monotonic()
    assert await _closed_within(reader, 3) == b""
    assert time.monotonic() - started >= LIMITS.head_seconds * 0.9
    writer.close()


async def test_a_dripped_head_is_closed_before_it_ends(port: int) -> None:
    reader, writer = await _open(port)
    writer.write(b"GET /healthz HTTP/1.1\r\n")
    for n in range(30):
        writer.write(b"X-Drip-%d: 1\r\n" % n)
        try:
            await writer.drain()
        except ConnectionError:
            break
        await asyncio.sleep(0.1)
        if reader.at_eof():
            break
    assert await _closed_within(reader, 3) == b""
    writer.close()


async def test_kept_alive_requests_and_a_body_go_through(port: int) -> None:
    reader, writer = await _open(port)
    body = b'{"source":"s"}'
    writer.write(
        b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
        b"POST /api/v1/tasks HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
        + TOKEN.encode()
        + b"\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
        + body
        + b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    )
    await writer.drain()
    seen = b""
    async with asyncio.timeout(5):
        while seen.count(b"HTTP/1.1 ") < 3:
            seen += await reader.read(65536)
    statuses = re.findall(rb"HTTP/1\.1 (\d{3})", seen)
    assert statuses == [b"200", b"422", b"200"]
    writer.close()


async def test_connections_beyond_the_limit_from_one_address_are_refused(port: int) -> None:
    held = [await _open(port) for _ in range(LIMITS.per_client)]
    reader, writer = await _open(port)
    assert await _closed_within(reader, 0.3) == b"", "refused at once, not at the head timeout"
    writer.close()
    for _, w in held:
        w.close()
    await asyncio.sleep(0.1)
    reader, writer = await _open(port)  # room again once they are gone
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert (await _closed_within(reader, 5)).startswith(b"HTTP/1.1 200")
    writer.close()


async def test_a_declared_body_over_the_limit_is_413_at_once(port: int) -> None:
    reader, writer = await _open(port)
    writer.write(
        b"POST /api/v1/tasks HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 10000000000\r\n\r\n{"
    )
    await writer.drain()
    async with asyncio.timeout(LIMITS.body_seconds / 2):
        line = await reader.readline()
    assert line.startswith(b"HTTP/1.1 413")
    writer.close()


async def test_a_slow_body_is_408(port: int) -> None:
    reader, writer = await _open(port)
    writer.write(
        b"POST /api/v1/tasks HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
        + TOKEN.encode()
        + b'\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a"'
    )
    await writer.drain()
    async with asyncio.timeout(5):
        line = await reader.readline()
    assert line.startswith(b"HTTP/1.1 408")
    writer.close()


async def test_a_client_gone_mid_body_is_not_a_traceback(
    port: int, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        for _ in range(3):
            _, writer = await _open(port)
            writer.write(
                b"POST /api/v1/tasks HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                + TOKEN.encode()
                + b"\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"
            )
            await writer.drain()
            await asyncio.sleep(0.05)
            writer.close()
        await asyncio.sleep(0.3)
    loud = [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]
    assert loud == [], [r.getMessage() for r in loud]

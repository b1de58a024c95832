"""A request written byte for byte, for what an HTTP client library refuses to send."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp.test_utils import TestClient


async def raw_request(
    client: TestClient[Any, Any], method: str, path: str, headers: list[bytes], body: bytes = b""
) -> tuple[int, bytes]:
    """Send one request with these header lines (``b"Name: value"``, any bytes); return the
    status and the body of the answer."""
    reader, writer = await asyncio.open_connection(client.host, client.port)
    try:
        lines = [
            f"{method} {path} HTTP/1.1".encode(),
            f"Host: {client.host}".encode(),
            b"Connection: close",
            f"Content-Length: {len(body)}".encode(),
            *headers,
        ]
        writer.write(b"\r\n".join(lines) + b"\r\n\r\n" + body)
        await writer.drain()
        answer = await reader.read()
    finally:
        writer.close()
        await writer.wait_closed()
    head, _, rest = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, rest

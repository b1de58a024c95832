"""The stand-in's Socket Mode side: what Slack does for an app that connects out to it.

``apps.connections.open`` (called with the app-level token) hands out a one-time websocket URL
on the stand-in. On connecting, the app gets a ``hello``; then each payload arrives wrapped in
an envelope (``envelope_id``, ``type`` of ``slash_commands``, ``interactive`` or
``events_api``, ``accepts_response_payload``, ``payload``), and the app answers each with
``{"envelope_id": ...}``, plus a ``payload`` where a response is accepted (a slash command's
reply). A test delivers an envelope and awaits its acknowledgement.

"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import WSMsgType, web

EnvelopeType = Literal["slash_commands", "interactive", "events_api"]
APP_ID = "A0STANDIN"


@dataclass
class Envelope:
    """One delivery over the socket and, once the app answered, its acknowledgement."""

    envelope_id: str
    type: EnvelopeType
    payload: dict[str, Any]
    accepts_response_payload: bool
    ack: dict[str, Any] | None = None


@dataclass
class SocketStandIn:
    envelopes: list[Envelope] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    """Messages from the app that were not an acknowledgement of an envelope in flight."""
    _tickets: set[str] = field(default_factory=set)
    _sockets: list[web.WebSocketResponse] = field(default_factory=list)
    _waiting: dict[str, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)
    _connected: asyncio.Event = field(default_factory=asyncio.Event)

    def open_url(self, origin: str) -> str:
        """A fresh websocket URL on this server, good for one connection."""
        ticket = uuid.uuid4().hex
        self._tickets.add(ticket)
        return f"{origin.replace('http', 'ws', 1)}/link/?ticket={ticket}&app_id={APP_ID}"

    async def serve(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        if ticket not in self._tickets:
            return web.Response(status=401, text="invalid or used ticket")
        self._tickets.discard(ticket)
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_json(
            {
                "type": "hello",
                "num_connections": len(self._sockets),
                "connection_info": {"app_id": APP_ID},
                "debug_info": {"host": "standin", "approximate_connection_time": 18060},
            }
        )
        self._connected.set()
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    self._acknowledged(message.data)
        finally:
            self._sockets.remove(ws)
            if not self._sockets:
                self._connected.clear()
        return ws

    def _acknowledged(self, text: str) -> None:
        try:
            ack = json.loads(text)
        except ValueError:
            ack = None
        key = ack.get("envelope_id") if isinstance(ack, dict) else None
        waiter = self._waiting.pop(str(key), None)
        if waiter is None or waiter.done():
            self.refused.append(text)
            return
        waiter.set_result(ack)

    async def connected(self) -> None:
        """Wait until an app is connected and has been greeted (the caller bounds the wait)."""
        await self._connected.wait()

    async def deliver(
        self,
        kind: EnvelopeType,
        payload: dict[str, Any],
        *,
        accepts_response_payload: bool,
    ) -> dict[str, Any]:
        """Send ``payload`` in an envelope to the newest connection; return the app's ack
        (the caller bounds the wait)."""
        await self.connected()
        envelope = Envelope(uuid.uuid4().hex, kind, payload, accepts_response_payload)
        waiter: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[envelope.envelope_id] = waiter
        self.envelopes.append(envelope)
        await self._sockets[-1].send_json(
            {
                "envelope_id": envelope.envelope_id,
                "type": kind,
                "accepts_response_payload": accepts_response_payload,
                "payload": payload,
            }
        )
        envelope.ack = await waiter
        return envelope.ack

    async def close(self, _: web.Application | None = None) -> None:
        """Close every connection (the server is stopping)."""
        for ws in list(self._sockets):
            await ws.close()

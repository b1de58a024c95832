"""A stand-in for a system that takes blendbot's generic write-back webhook, for the tests and
the benchmarks.

It receives each event at ``POST /events`` and checks it as the generic webhook kind documents
it: ``X-Blendbot-Timestamp`` (Unix seconds, within five minutes) and ``X-Blendbot-Signature:
sha256=<hex>``, the HMAC-SHA256 under the shared secret of the timestamp's digits followed by
the body; an ``Idempotency-Key``; a JSON body with ``event``, ``task_id`` and ``external_id``.
A forged or stale request gets 401; a malformed one 400. An event whose idempotency key was
already applied is answered 200 and not applied again. Answers can be scripted (``script``:
e.g. 429 with ``Retry-After``, 503), and a rate limit set (``per_second``: beyond it, 429 with
``Retry-After: 1``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from standins.answers import Answer


@dataclass
class Receiver:
    secret: str
    script: list[Answer] = field(default_factory=list)
    per_second: float | None = None
    received: list[dict[str, Any]] = field(default_factory=list)
    """Every signed event, in the order it arrived (refused ones included)."""
    applied: dict[str, dict[str, Any]] = field(default_factory=dict)
    """The events applied, by idempotency key."""
    forged: int = 0
    throttled: int = 0
    _window: list[float] = field(default_factory=list)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/events", self._event)
        return app

    async def _event(self, request: web.Request) -> web.Response:
        raw = await request.read()
        stamp = request.headers.get("X-Blendbot-Timestamp", "")
        given = request.headers.get("X-Blendbot-Signature", "")
        mac = hmac.new(self.secret.encode(), stamp.encode() + raw, hashlib.sha256)
        fresh = stamp.isdigit() and abs(time.time() - int(stamp)) <= 300
        if not fresh or not hmac.compare_digest(
            given.encode(), f"sha256={mac.hexdigest()}".encode()
        ):
            self.forged += 1
            return web.json_response({"error": "bad signature"}, status=401)
        key = request.headers.get("Idempotency-Key", "")
        try:
            body = json.loads(raw)
        except ValueError:
            return web.json_response({"error": "not JSON"}, status=400)
        if not key or not isinstance(body, dict) or not {"event", "task_id"} <= set(body):
            return web.json_response({"error": "not a write-back event"}, status=400)
        self.received.append(body)
        if self.per_second is not None:
            now = time.monotonic()
            self._window = [t for t in self._window if now - t < 1.0]
            if len(self._window) >= self.per_second:
                self.throttled += 1
                return web.json_response(
                    {"error": "slow down"}, status=429, headers={"Retry-After": "1"}
                )
            self._window.append(now)
        if self.script:
            answer = self.script.pop(0)
            if not 200 <= answer.status < 300:
                return web.Response(status=answer.status, text=answer.body, headers=answer.headers)
        self.applied.setdefault(key, body)
        return web.json_response({"ok": True})

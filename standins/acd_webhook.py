"""A stand-in for a telephony platform driven through blendbot's signed webhook, for the tests
and the demo.

It receives blendbot's state commands at ``POST /commands`` and checks each as the webhook
target documents it: a JSON body ``{"agent_id", "telephony_ids", "state", "reason",
"command_id"}`` with ``state`` ``backoffice`` or ``available``, signed with HMAC-SHA256 of the
body under the shared secret in ``X-Blendbot-Signature: sha256=<hex>``. A forged or unsigned
request gets 401 and changes nothing; a malformed one 400. Answers can be scripted (``script``:
e.g. 429 with ``Retry-After``, 503, 403), otherwise 202.

Like a real platform, it then changes the agent's state and reports it in blendbot's generic
feed (``feed_url`` with ``feed_token``), as an ``agent_state`` event for the agent's generic id
(or their roster id): ``back_office`` or ``available``. ``follow = False`` makes it a platform
that answers success but never changes the state.

    .venv/bin/python -m standins.acd_webhook --port 3040 --secret ... --feed-url ... --token ...
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiohttp import web

SIGNATURE_HEADER = "X-Blendbot-Signature"
FIELDS = frozenset({"agent_id", "telephony_ids", "state", "reason", "command_id"})
FEED_STATES = {"backoffice": "back_office", "available": "available"}


def _system_time() -> datetime:
    return datetime.fromtimestamp(time.time(), UTC)


@dataclass
class Answer:
    """A scripted answer to the next command."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""


@dataclass
class WebhookPlatform:
    secret: str
    feed_url: str | None = None
    feed_token: str | None = None
    follow: bool = True
    """Change the agent's state and report it in the feed after accepting a command."""
    now: Callable[[], datetime] = _system_time
    script: list[Answer] = field(default_factory=list)
    """Answers given to the next commands, first to last; then 202."""
    received: list[dict[str, Any]] = field(default_factory=list)
    """Every command whose signature checked out, in the order it arrived (scripted refusals
    included)."""
    applied: list[dict[str, Any]] = field(default_factory=list)
    """The commands it accepted and carried out."""
    forged: int = 0
    states: dict[str, str] = field(default_factory=dict)
    """Each agent's state in this platform, by the id it reports them under."""
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/commands", self._command)
        return app

    async def _command(self, request: web.Request) -> web.Response:
        raw = await request.read()
        given = request.headers.get(SIGNATURE_HEADER, "")
        wanted = "sha256=" + hmac.new(self.secret.encode(), raw, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(given.encode(), wanted.encode()):
            self.forged += 1
            return web.json_response({"error": "bad signature"}, status=401)
        try:
            body = json.loads(raw)
        except ValueError:
            return web.json_response({"error": "not JSON"}, status=400)
        if not isinstance(body, dict) or set(body) != FIELDS or body["state"] not in FEED_STATES:
            return web.json_response({"error": "not a state command"}, status=400)
        self.received.append(body)
        if self.script:
            answer = self.script.pop(0)
            if not 200 <= answer.status < 300:
                return web.Response(status=answer.status, text=answer.body, headers=answer.headers)
        self.applied.append(body)
        if self.follow:
            await self.report(self.id_of(body), FEED_STATES[body["state"]])
        return web.json_response({"accepted": body["command_id"]}, status=202)

    @staticmethod
    def id_of(body: dict[str, Any]) -> str:
        """The id this platform knows the agent by: their generic id, else their roster id."""
        ids = body.get("telephony_ids") or {}
        return str(ids.get("generic") or body["agent_id"])

    async def report(self, external_id: str, state: str, at: datetime | None = None) -> None:
        """Set the agent's state here and report it in blendbot's generic feed."""
        self.states[external_id] = state
        if self.feed_url is None:
            return
        event = {
            "type": "agent_state",
            "event_id": f"webhook-platform-{next(self._ids)}",
            "at": (at or self.now()).isoformat(),
            "agent_id": external_id,
            "state": state,
            "reason": "Back office" if state == "back_office" else None,
        }
        headers = {"Authorization": f"Bearer {self.feed_token}"} if self.feed_token else {}
        async with (
            aiohttp.ClientSession() as session,
            session.post(self.feed_url, json=[event], headers=headers) as response,
        ):
            response.raise_for_status()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=3040)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--feed-url")
    parser.add_argument("--token")
    args = parser.parse_args()
    platform = WebhookPlatform(args.secret, feed_url=args.feed_url, feed_token=args.token)
    web.run_app(platform.app(), port=args.port)


if __name__ == "__main__":
    main()

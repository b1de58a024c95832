"""The control client of any other platform: a signed outbound webhook.

Each command is one ``POST`` of a JSON body to ``BLENDBOT_ACD_WEBHOOK_URL``::

    {"agent_id": "dana", "telephony_ids": {"generic": "ext-204"}, "state": "backoffice",
     "reason": "task #12 offered", "command_id": "1b4e28ba-2fa1-11d2-883f-0016d3cca427"}

signed with HMAC-SHA256 of the exact body bytes under ``BLENDBOT_ACD_WEBHOOK_SECRET``, in the
header ``X-Blendbot-Signature: sha256=<hex digest>`` (``X-Blendbot-Command-Id`` repeats the
command id, so that a receiver can drop a command it has already applied: a command may be
delivered more than once). The receiver answers 2xx when it accepted the command, 429 (with
``Retry-After``, seconds or an HTTP date) to slow blendbot down, 5xx to have it retried, and any
other 4xx to refuse it for good. It then changes the agent's state in its platform, and reports
the new state in the generic feed (``POST /feeds/generic/events``, an ``agent_state`` event with
``state`` ``back_office`` or ``available``): that, not the answer, confirms the command.
"""

from __future__ import annotations

import hashlib
import hmac
import json

import aiohttp

from clock import retry_after
from telephony_adapters.control import Command, Refused, Throttled, Unreachable

SIGNATURE_HEADER = "X-Blendbot-Signature"
COMMAND_HEADER = "X-Blendbot-Command-Id"
SOURCE = "webhook"


def sign(secret: str, body: bytes) -> str:
    """The signature header's value for ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def body_of(command: Command) -> bytes:
    return json.dumps(
        {
            "agent_id": command.agent_id,
            "telephony_ids": dict(command.telephony_ids),
            "state": command.state,
            "reason": command.reason,
            "command_id": command.command_id,
        },
        separators=(",", ":"),
    ).encode()


class WebhookClient:
    """Sends commands to one URL; holds one HTTP session until :meth:`close`."""

    source = SOURCE

    def __init__(self, url: str, secret: str, *, timeout: float = 10.0) -> None:
        self._url = url
        self._secret = secret
        self._timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    async def send(self, command: Command) -> None:
        body = body_of(command)
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(self._secret, body),
            COMMAND_HEADER: command.command_id,
        }
        if self._session is None or self._session.closed:
            timeout = aiohttp.ClientTimeout(total=self._timeout)
            self._session = aiohttp.ClientSession(timeout=timeout)
        try:
            async with self._session.post(self._url, data=body, headers=headers) as response:
                status = response.status
                text = (await response.text(errors="replace"))[:200]
                wait = retry_after(
                    response.headers.get("Retry-After"), response.headers.get("Date")
                )
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise Unreachable(f"{type(exc).__name__}: {exc}") from None
        if 200 <= status < 300:
            return
        answer = f"HTTP {status}" + (f": {text.strip()}" if text.strip() else "")
        if status == 429:
            raise Throttled(answer, wait)
        if status >= 500 or status == 408:
            raise Unreachable(answer)
        raise Refused(answer)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

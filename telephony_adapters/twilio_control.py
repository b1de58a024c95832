"""Twilio TaskRouter: a worker's activity set with ``POST /v1/Workspaces/{WS}/Workers/{WK}``.

The form carries ``ActivitySid``: a "Back office" activity (``Available`` false) to lend,
with ``RejectPendingReservations=true`` so that a task already reserved for the worker goes to
someone else; the workspace's available activity to recall (Twilio accepts
``RejectPendingReservations`` only with an unavailable activity, so it is not sent then).
Requests are authenticated with HTTP Basic, the account SID and its auth token (the token the
event callbacks are checked with). Twilio's errors come as ``{"code", "message", "more_info",
"status"}``; 429 (code 20429) is throttling, with ``Retry-After`` when Twilio gives one.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import aiohttp

from clock import SYSTEM, Clock
from telephony_adapters._control_http import TIMEOUT_SECONDS, error_for, retry_after
from telephony_adapters.control import Command, Throttled, Unreachable

API_URL = "https://taskrouter.twilio.com"


class TwilioControl:
    source = "twilio"

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        workspace_sid: str,
        backoffice_activity_sid: str,
        available_activity_sid: str,
        api_url: str = API_URL,
        timeout: float = TIMEOUT_SECONDS,
        clock: Clock = SYSTEM,
    ) -> None:
        self._clock = clock
        self.api_url = api_url.rstrip("/")
        self._auth = aiohttp.encode_basic_auth(account_sid, auth_token)
        self.workspace_sid = workspace_sid
        self.activity_sids = {
            "backoffice": backoffice_activity_sid,
            "available": available_activity_sid,
        }
        self._timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    async def send(self, command: Command) -> None:
        form = {"ActivitySid": self.activity_sids[command.state]}
        if command.state == "backoffice":
            form["RejectPendingReservations"] = "true"
        url = (
            f"{self.api_url}/v1/Workspaces/{quote(self.workspace_sid, safe='')}"
            f"/Workers/{quote(command.external_id, safe='')}"
        )
        what = f"Twilio worker {command.external_id}"
        if self._session is None:
            self._session = aiohttp.ClientSession()
        try:
            async with self._session.post(
                url,
                data=form,
                headers={"Accept": "application/json", "Authorization": self._auth},
                timeout=aiohttp.ClientTimeout(total=self._timeout),
            ) as response:
                status = response.status
                wait = retry_after(response.headers.get("Retry-After"), self._clock.now())
                body = await response.read()
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise Unreachable(f"{what}: {exc or type(exc).__name__}") from None
        failure = error_for(status, what, wait)
        if failure is None:
            return
        detail = _detail(body)
        if isinstance(failure, Throttled):
            raise Throttled(f"{failure}{detail}", wait)
        raise type(failure)(f"{failure}{detail}")

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _detail(body: bytes) -> str:
    parsed: Any = None
    try:
        parsed = json.loads(body) if body else None
    except ValueError:
        return ""
    if not isinstance(parsed, dict) or not parsed.get("message"):
        return ""
    code = parsed.get("code")
    return f": {code} {parsed['message']}" if code else f": {parsed['message']}"

"""Twilio TaskRouter's workers for the roster sync: ``GET /v1/Workspaces/{WS}/Workers``.

Pages are followed by ``meta.next_page_url`` (null on the last page), which is requested on
the configured API's host. A worker's email is in its ``attributes`` (a JSON string):
``email``, else a ``contact_uri`` that is an address (``mailto:`` taken off). HTTP Basic with
the account SID and auth token, as the control client; 429 waits its ``Retry-After``.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import aiohttp

from clock import SYSTEM, Clock
from queues.roster_match import Person
from telephony_adapters._control_http import TIMEOUT_SECONDS, retry_after
from telephony_adapters.directory import DirectoryError, Sleep, Throttle
from telephony_adapters.twilio_control import API_URL

SOURCE = "twilio"
PAGE_SIZE = 100
"""Workers a page asks for (Twilio allows up to 1000)."""


class TwilioDirectory:
    source = SOURCE

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        workspace_sid: str,
        api_url: str = API_URL,
        page_size: int = PAGE_SIZE,
        timeout: float = TIMEOUT_SECONDS,
        sleep: Sleep | None = None,
        clock: Clock = SYSTEM,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self._auth = aiohttp.encode_basic_auth(account_sid, auth_token)
        self.workspace_sid = workspace_sid
        self.page_size = page_size
        self._timeout = timeout
        self._clock = clock
        self._throttle = Throttle(SOURCE, sleep) if sleep else Throttle(SOURCE)
        self._session: aiohttp.ClientSession | None = None
        self.requests = 0

    async def users(self) -> list[Person]:
        path: str | None = (
            f"/v1/Workspaces/{quote(self.workspace_sid, safe='')}/Workers?"
            + urlencode({"PageSize": self.page_size})
        )
        people: list[Person] = []
        while path is not None:
            page = await self._get(path)
            workers = page.get("workers")
            if not isinstance(workers, list):
                raise DirectoryError(SOURCE, "the Workers list answered without workers")
            people.extend(_person(w) for w in workers if isinstance(w, dict) and w.get("sid"))
            meta = page.get("meta")
            path = _on_our_host(meta.get("next_page_url") if isinstance(meta, dict) else None)
        return people

    async def _get(self, path: str) -> dict[str, Any]:
        url = f"{self.api_url}{path}"
        attempt = 0
        if self._session is None:
            self._session = aiohttp.ClientSession()
        while True:
            attempt += 1
            self.requests += 1
            try:
                async with self._session.get(
                    url,
                    headers={"Accept": "application/json", "Authorization": self._auth},
                    timeout=aiohttp.ClientTimeout(total=self._timeout),
                ) as response:
                    status = response.status
                    wait = retry_after(response.headers.get("Retry-After"), self._clock.now())
                    body: Any = await response.json(content_type=None)
            except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as exc:
                raise DirectoryError(SOURCE, f"Workers: {exc or type(exc).__name__}") from None
            if status == 429:
                await self._throttle.wait(attempt, wait)
                continue
            if status >= 300 or not isinstance(body, dict):
                message = body.get("message") if isinstance(body, dict) else None
                code = body.get("code") if isinstance(body, dict) else None
                said = f": {code} {message}" if message else ""
                raise DirectoryError(SOURCE, f"Workers: HTTP {status}{said}")
            return body

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _on_our_host(url: object) -> str | None:
    """The path and query of Twilio's next page URL, to ask the configured host for it."""
    if not isinstance(url, str) or not url:
        return None
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def worker_email(attributes: object) -> str | None:
    """The email in a worker's attributes: ``email``, else an address ``contact_uri``."""
    try:
        parsed = json.loads(attributes) if isinstance(attributes, str) else attributes
    except ValueError:
        return None
    if not isinstance(parsed, dict):
        return None
    email = parsed.get("email")
    if isinstance(email, str) and "@" in email:
        return email
    contact = parsed.get("contact_uri")
    if isinstance(contact, str):
        contact = contact.removeprefix("mailto:")
        if "@" in contact and ":" not in contact:
            return contact
    return None


def _person(worker: dict[str, Any]) -> Person:
    return Person(
        external_id=str(worker["sid"]),
        email=worker_email(worker.get("attributes")),
        name=str(worker.get("friendly_name") or ""),
    )

"""Genesys Cloud's users for the roster sync: ``GET /api/v2/users``, every page.

Pages are numbered (``pageNumber`` from 1, ``pageSize`` up to 500) and the answer says how
many there are (``pageCount``); each entity has ``id``, ``name``, ``email`` and ``state``.
Only active users are asked for. The token comes from the OAuth client-credentials grant the
feed and the control client use; a 401 logs in again once, and 429 waits its
``Retry-After``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import aiohttp

from clock import SYSTEM, Clock
from queues.roster_match import Person
from telephony_adapters._control_http import TIMEOUT_SECONDS, retry_after
from telephony_adapters.directory import DirectoryError, Sleep, Throttle
from telephony_adapters.errors import TransportError
from telephony_adapters.genesys_client import LoginRefused, client_credentials

SOURCE = "genesys"
PAGE_SIZE = 100
"""Users a page asks for (Genesys allows up to 500)."""


class GenesysDirectory:
    source = SOURCE

    def __init__(
        self,
        *,
        api_url: str,
        login_url: str,
        client_id: str,
        client_secret: str,
        page_size: int = PAGE_SIZE,
        timeout: float = TIMEOUT_SECONDS,
        sleep: Sleep | None = None,
        clock: Clock = SYSTEM,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.login_url = login_url.rstrip("/")
        self._client = (client_id, client_secret)
        self.page_size = page_size
        self._timeout = timeout
        self._clock = clock
        self._throttle = Throttle(SOURCE, sleep) if sleep else Throttle(SOURCE)
        self._token: str | None = None
        self._session: aiohttp.ClientSession | None = None
        self.requests = 0

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session

    async def _bearer(self) -> str:
        if self._token is None:
            try:
                self._token = await client_credentials(self._open(), self.login_url, *self._client)
            except LoginRefused as exc:
                raise DirectoryError(SOURCE, f"login refused (HTTP {exc.status})") from None
            except (TransportError, aiohttp.ClientError, TimeoutError, OSError) as exc:
                raise DirectoryError(SOURCE, f"login: {exc or type(exc).__name__}") from None
        return self._token

    async def users(self) -> list[Person]:
        people: list[Person] = []
        number = 1
        while True:
            page = await self._page(number)
            entities = page.get("entities")
            if not isinstance(entities, list):
                raise DirectoryError(SOURCE, "GET /api/v2/users answered without entities")
            people.extend(_person(e) for e in entities if isinstance(e, dict) and e.get("id"))
            count = page.get("pageCount")
            if not isinstance(count, int) or number >= count or not entities:
                return people
            number += 1

    async def _page(self, number: int) -> dict[str, Any]:
        query = {"pageSize": str(self.page_size), "pageNumber": str(number), "state": "active"}
        url = f"{self.api_url}/api/v2/users?{urlencode(query)}"
        attempt = relogged = 0
        while True:
            attempt += 1
            headers = {"Authorization": f"Bearer {await self._bearer()}"}
            self.requests += 1
            try:
                async with self._open().get(
                    url, headers=headers, timeout=aiohttp.ClientTimeout(total=self._timeout)
                ) as response:
                    status = response.status
                    wait = retry_after(response.headers.get("Retry-After"), self._clock.now())
                    body: Any = await response.json(content_type=None)
            except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as exc:
                raise DirectoryError(SOURCE, f"users page {number}: {exc}") from None
            if status == 401 and not relogged:
                relogged, self._token = 1, None
                continue
            if status == 429:
                await self._throttle.wait(attempt, wait)
                continue
            if status >= 300 or not isinstance(body, dict):
                message = body.get("message") if isinstance(body, dict) else None
                raise DirectoryError(
                    SOURCE, f"users page {number}: HTTP {status}{': ' + message if message else ''}"
                )
            return body

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _person(entity: dict[str, Any]) -> Person:
    email = entity.get("email")
    return Person(
        external_id=str(entity["id"]),
        email=email if isinstance(email, str) else None,
        name=str(entity.get("name") or ""),
    )

"""Amazon Connect's users for the roster sync: ``ListUsers``, then ``DescribeUser`` for each.

``GET /users-summary/{InstanceId}?maxResults=&nextToken=`` lists the users a page at a time
(``UserSummaryList`` with ``Id``, ``Arn``, ``Username``; ``NextToken`` while more remain);
the email is only in ``GET /users/{InstanceId}/{UserId}`` (``User.IdentityInfo.Email``). Both
are signed with SigV4 by botocore's signer, as the control client signs, and spend the
account's API quota through a token bucket. An agent is stored by their ARN (as the agent
event stream names them); the bare id counts as the same id.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp
from botocore.credentials import Credentials

from queues.roster_match import Person
from telephony_adapters._control_http import TIMEOUT_SECONDS
from telephony_adapters.connect_control import (
    _error,
    endpoint,
    frozen_credentials,
    signed_headers,
)
from telephony_adapters.directory import DirectoryError, Sleep, Throttle
from telephony_adapters.ratelimit import TokenBucket

SOURCE = "amazon_connect"
PAGE_SIZE = 100
"""Users a ``ListUsers`` page asks for (Amazon Connect allows 1 to 1000)."""


class ConnectDirectory:
    source = SOURCE

    def __init__(
        self,
        *,
        region: str,
        instance_id: str,
        api_url: str | None = None,
        credentials: Credentials | None = None,
        bucket: TokenBucket | None = None,
        page_size: int = PAGE_SIZE,
        timeout: float = TIMEOUT_SECONDS,
        sleep: Sleep | None = None,
    ) -> None:
        self.region = region
        self.instance_id = instance_id
        self.api_url = (api_url or endpoint(region)).rstrip("/")
        self._credentials = credentials
        self.bucket = bucket or TokenBucket(2.0, 5)
        self.page_size = page_size
        self._timeout = timeout
        self._throttle = Throttle(SOURCE, sleep) if sleep else Throttle(SOURCE)
        self._session: aiohttp.ClientSession | None = None
        self.requests = 0

    async def users(self) -> list[Person]:
        summaries: list[dict[str, Any]] = []
        token: str | None = None
        instance = quote(self.instance_id, safe="")
        while True:
            query: dict[str, str] = {"maxResults": str(self.page_size)}
            if token:
                query["nextToken"] = token
            page = await self._get(f"/users-summary/{instance}?{urlencode(query)}")
            listed = page.get("UserSummaryList")
            if not isinstance(listed, list):
                raise DirectoryError(SOURCE, "ListUsers answered without UserSummaryList")
            summaries.extend(u for u in listed if isinstance(u, dict))
            token = page.get("NextToken") or None
            if token is None:
                break
        people = []
        for summary in summaries:
            user_id = str(summary.get("Id") or "")
            if not user_id:
                continue
            found = await self._get(f"/users/{instance}/{quote(user_id, safe='')}")
            people.append(_person(summary, found.get("User")))
        return people

    async def _get(self, path: str) -> dict[str, Any]:
        url = f"{self.api_url}{path}"
        what = "ListUsers" if path.startswith("/users-summary/") else "DescribeUser"
        attempt = 0
        while True:
            attempt += 1
            credentials = await frozen_credentials(self._credentials)
            if credentials is None:
                raise DirectoryError(SOURCE, "no AWS credentials found in the standard chain")
            await self.bucket.take()
            headers = signed_headers(credentials, self.region, "GET", url)
            if self._session is None:
                self._session = aiohttp.ClientSession()
            self.requests += 1
            try:
                async with self._session.get(
                    url, headers=headers, timeout=aiohttp.ClientTimeout(total=self._timeout)
                ) as response:
                    body = await response.read()
                    kind = response.headers.get("x-amzn-ErrorType", "")
                    status = response.status
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                raise DirectoryError(SOURCE, f"{what}: {exc or type(exc).__name__}") from None
            if status < 300:
                try:
                    parsed = json.loads(body)
                except ValueError:
                    parsed = None
                if not isinstance(parsed, dict):
                    raise DirectoryError(SOURCE, f"{what} answered something other than JSON")
                return parsed
            error, message = _error(kind, body)
            if status == 429 or error in ("ThrottlingException", "TooManyRequestsException"):
                self.bucket.hold(float(2 ** (attempt - 1)))
                await self._throttle.wait(attempt, None)
                continue
            detail = f"{error or 'HTTP ' + str(status)}{': ' + message if message else ''}"
            raise DirectoryError(SOURCE, f"{what}: {detail}")

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _person(summary: dict[str, Any], user: Any) -> Person:
    user = user if isinstance(user, dict) else {}
    info: dict[str, Any] = (
        user["IdentityInfo"] if isinstance(user.get("IdentityInfo"), dict) else {}
    )
    user_id = str(summary["Id"])
    arn = str(user.get("Arn") or summary.get("Arn") or "")
    email = info.get("Email") if isinstance(info.get("Email"), str) else None
    names = [info.get("FirstName"), info.get("LastName")]
    name = " ".join(n for n in names if isinstance(n, str) and n)
    return Person(
        external_id=arn or user_id,
        email=email,
        name=name or str(summary.get("Username") or ""),
        aliases=frozenset({user_id}) if arn else frozenset(),
    )

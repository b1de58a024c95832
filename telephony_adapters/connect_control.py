"""Amazon Connect: an agent's status set with ``PutUserStatus``, signed with AWS SigV4.

``PUT /users/{InstanceId}/{UserId}/status`` with ``{"AgentStatusId"}``: a custom "Back office"
agent status (custom statuses are not routable) to lend, a routable one (``Available``) to
recall. An agent on a contact gets the new status as their *next* status, so the change shows
in the agent event stream only once the contact ends. The request is signed by botocore's
SigV4 signer with credentials from the standard AWS chain (environment, shared files, the
instance or container role), refreshed by botocore when they expire.

The account's API quota (by default 2 requests a second, bursts of 5) is shared by every
caller, so each client spends it through a token bucket; a ``ThrottlingException`` (429) all
the same holds the bucket and raises :class:`Throttled` with a growing wait (1, 2, 4 ... s, at
most 30), reset by the next success.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any
from urllib.parse import quote

import aiohttp
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials, ReadOnlyCredentials
from botocore.session import Session

from telephony_adapters._control_http import TIMEOUT_SECONDS, error_for
from telephony_adapters.control import Command, Refused, Throttled, Unreachable
from telephony_adapters.ratelimit import TokenBucket

log = logging.getLogger(__name__)

SERVICE = "connect"


def endpoint(region: str) -> str:
    """The regional Amazon Connect API endpoint."""
    return f"https://connect.{region}.amazonaws.com"


def user_id(external_id: str) -> str:
    """The user id in an agent ARN (``arn:...:instance/<i>/agent/<id>``, as the agent event
    stream names agents), or the id itself."""
    head, sep, tail = external_id.rpartition("/agent/")
    return tail if sep and head.startswith("arn:") else external_id


def _credentials_from_chain() -> Credentials | None:
    found: Credentials | None = Session().get_credentials()
    return found


async def frozen_credentials(credentials: Credentials | None) -> ReadOnlyCredentials | None:
    """The credentials as of now (from the standard AWS chain when none are given), read off
    the event loop: botocore may refresh them over the network."""
    if credentials is None:
        credentials = await asyncio.to_thread(_credentials_from_chain)
    if credentials is None:
        return None
    frozen: ReadOnlyCredentials = await asyncio.to_thread(credentials.get_frozen_credentials)
    return frozen


def signed_headers(
    credentials: ReadOnlyCredentials, region: str, method: str, url: str, body: bytes = b""
) -> dict[str, str]:
    """The headers of a request signed with SigV4 by botocore's signer for Amazon Connect."""
    headers = {"Content-Type": "application/json"} if body else {}
    request = AWSRequest(method=method, url=url, data=body, headers=headers)
    SigV4Auth(credentials, SERVICE, region).add_auth(request)
    return {name: str(value) for name, value in request.headers.items()}


class ConnectControl:
    source = "amazon_connect"

    def __init__(
        self,
        *,
        region: str,
        instance_id: str,
        backoffice_status_id: str,
        available_status_id: str,
        api_url: str | None = None,
        credentials: Credentials | None = None,
        bucket: TokenBucket | None = None,
        backoff: tuple[float, float] = (1.0, 30.0),
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        self.region = region
        self.instance_id = instance_id
        self.status_ids = {"backoffice": backoffice_status_id, "available": available_status_id}
        self.api_url = (api_url or endpoint(region)).rstrip("/")
        self._credentials = credentials
        self.bucket = bucket or TokenBucket(2.0, 5)
        self._backoff = backoff
        self._throttled = 0
        self._timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    async def _frozen(self) -> ReadOnlyCredentials:
        if self._credentials is None:
            self._credentials = await asyncio.to_thread(_credentials_from_chain)
        if self._credentials is None:
            raise Refused("Amazon Connect: no AWS credentials found in the standard chain")
        frozen: ReadOnlyCredentials = await asyncio.to_thread(
            self._credentials.get_frozen_credentials
        )
        return frozen

    def _signed(self, credentials: ReadOnlyCredentials, url: str, body: bytes) -> dict[str, str]:
        return signed_headers(credentials, self.region, "PUT", url, body)

    async def send(self, command: Command) -> None:
        status = self.status_ids[command.state]
        user = user_id(command.external_id)
        url = (
            f"{self.api_url}/users/{quote(self.instance_id, safe='')}/{quote(user, safe='')}/status"
        )
        body = json.dumps({"AgentStatusId": status}).encode()
        what = f"Amazon Connect PutUserStatus for {user}"
        credentials = await self._frozen()
        await self.bucket.take()
        headers = self._signed(credentials, url, body)
        if self._session is None:
            self._session = aiohttp.ClientSession()
        try:
            async with self._session.put(
                url,
                data=body,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self._timeout),
            ) as response:
                answer = await response.read()
                kind = response.headers.get("x-amzn-ErrorType", "")
                code = response.status
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise Unreachable(f"{what}: {exc or type(exc).__name__}") from None
        if code < 300:
            self._throttled = 0
            return
        error, message = _error(kind, answer)
        detail = f"{what}: {error or 'HTTP ' + str(code)}{': ' + message if message else ''}"
        if code == 429 or error == "ThrottlingException":
            self._throttled += 1
            wait = min(self._backoff[1], self._backoff[0] * 2 ** (self._throttled - 1))
            self.bucket.hold(wait)
            raise Throttled(detail, wait)
        failure = error_for(code, what)
        assert failure is not None
        raise type(failure)(detail)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _error(kind: str, body: bytes) -> tuple[str, str]:
    """A REST-JSON error's type (the ``x-amzn-ErrorType`` header, else the body's ``__type``
    or ``code``) and message."""
    parsed: Any = None
    try:
        parsed = json.loads(body) if body else None
    except ValueError:
        parsed = None
    fields = parsed if isinstance(parsed, dict) else {}
    name = kind or str(fields.get("__type") or fields.get("code") or "")
    name = name.split(":", 1)[0].rsplit("#", 1)[-1]
    message = fields.get("Message") or fields.get("message") or ""
    return name, str(message)

"""Genesys Cloud: an agent's presence set with ``PATCH /api/v2/users/{userId}/presences/purecloud``.

To lend an agent, a secondary presence under *Busy* (named "Back office" by default) takes them
off queue; to recall them, the *On Queue* presence puts them back (``/routingstatus`` cannot
set On Queue). Presences are configured by name and their ids looked up once in
``GET /api/v2/presence/definitions`` (``localeCode=ALL``, so any language's label matches);
the ids found are added to the feed's marks, so that the presence topic reads them back as
``back_office`` and ``available``. A back-office presence that would keep the agent routable
(Available, On Queue), or an available one that is not On Queue, is refused before anything
is sent. A presence id the platform no longer knows (400, 404) makes the next command look
the ids up again.

The OAuth client (client credentials) is the one the feed uses; its token is kept until
shortly before it expires and renewed once when the API answers 401. Genesys allows 300
requests a minute per token: a :class:`~telephony_adapters.ratelimit.Window` keeps the client
under it, and a 429 holds it for ``Retry-After`` and raises :class:`Throttled`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp

from clock import SYSTEM, Clock
from telephony_adapters._control_http import TIMEOUT_SECONDS, error_for, retry_after
from telephony_adapters.control import Command, ControlError, Refused, Throttled, Unreachable
from telephony_adapters.errors import TransportError
from telephony_adapters.genesys_client import LoginRefused, grant
from telephony_adapters.marks import StateMarks
from telephony_adapters.ratelimit import Window

log = logging.getLogger(__name__)

REQUESTS_PER_MINUTE = 300
WINDOW_SECONDS = 61.0
"""Genesys counts a token's requests over 60 s; one more second absorbs the network's jitter."""
_ROUTABLE = frozenset({"available", "onqueue"})


def _system(value: Any) -> str:
    """A system presence, however Genesys spells it (``On Queue``, ``ON_QUEUE``, ``OnQueue``)."""
    return "".join(ch for ch in str(value or "").casefold() if ch.isalnum())


@dataclass(frozen=True)
class Presences:
    back_office: str
    available: str


def _named(entities: list[Any], name: str) -> Mapping[str, Any]:
    wanted = name.casefold()
    found = []
    for entity in entities:
        if not isinstance(entity, Mapping) or entity.get("deactivated"):
            continue
        labels = entity.get("languageLabels")
        names = [*labels.values()] if isinstance(labels, Mapping) else []
        names += [entity.get("name"), entity.get("id")]
        if any(isinstance(n, str) and n.casefold() == wanted for n in names) or (
            entity.get("type") == "System"
            and _system(entity.get("systemPresence")) == _system(name)
        ):
            found.append(entity)
    if not found:
        raise Refused(f"Genesys Cloud has no active presence named {name!r}")
    if len({str(e.get("id")) for e in found}) > 1:
        raise Refused(f"Genesys Cloud has several presences named {name!r}; set its id instead")
    return found[0]


def presences(body: Any, back_office: str, available: str) -> Presences:
    """The two presences' ids in a presence definitions listing, checked for what they do."""
    entities = body.get("entities") if isinstance(body, Mapping) else None
    if not isinstance(entities, list):
        raise Unreachable("Genesys Cloud presence definitions: no entities in the answer")
    lend = _named(entities, back_office)
    back = _named(entities, available)
    if _system(lend.get("systemPresence")) in _ROUTABLE:
        raise Refused(
            f"Genesys Cloud presence {back_office!r} is {lend.get('systemPresence')}: it "
            "would leave the agent routable; make it a secondary presence under Busy"
        )
    if _system(back.get("systemPresence")) != "onqueue":
        raise Refused(
            f"Genesys Cloud presence {available!r} is {back.get('systemPresence')}, not On "
            "Queue: it would not put the agent back on queue"
        )
    return Presences(str(lend["id"]), str(back["id"]))


async def look_up(
    session: aiohttp.ClientSession,
    api_url: str,
    headers: Mapping[str, str],
    back_office: str,
    available: str,
    seconds: float = TIMEOUT_SECONDS,
    clock: Clock = SYSTEM,
) -> Presences:
    """Ask Genesys for the presence definitions and find the two presences by name."""
    try:
        async with session.get(
            f"{api_url}/api/v2/presence/definitions",
            params={"deactivated": "false", "localeCode": "ALL"},
            headers=dict(headers),
            timeout=aiohttp.ClientTimeout(total=seconds),
        ) as response:
            body = await response.json(content_type=None) if response.status < 300 else None
            status = response.status
            wait = retry_after(response.headers.get("Retry-After"), clock.now())
    except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as exc:
        raise Unreachable(f"Genesys Cloud presence definitions: {exc}") from None
    failure = error_for(status, "Genesys Cloud presence definitions", wait)
    if failure is not None:
        raise failure
    return presences(body, back_office, available)


class GenesysControl:
    source = "genesys"

    def __init__(
        self,
        *,
        api_url: str,
        login_url: str,
        client_id: str,
        client_secret: str,
        backoffice_presence: str = "Back office",
        available_presence: str = "On Queue",
        marks: StateMarks | None = None,
        limiter: Window | None = None,
        timeout: float = TIMEOUT_SECONDS,
        now: Callable[[], float] = time.monotonic,
        clock: Clock = SYSTEM,
    ) -> None:
        self._clock = clock
        self.api_url = api_url.rstrip("/")
        self.login_url = login_url.rstrip("/")
        self._client = (client_id, client_secret)
        self.names = (backoffice_presence, available_presence)
        self.marks = marks if marks is not None else StateMarks()
        self.limiter = limiter or Window(REQUESTS_PER_MINUTE, WINDOW_SECONDS)
        self._timeout = timeout
        self._now = now
        self._token: tuple[str, float] | None = None
        self._presences: Presences | None = None
        self._session: aiohttp.ClientSession | None = None
        self._login_lock = asyncio.Lock()
        self._lookup_lock = asyncio.Lock()
        self.logins = 0
        self.lookups = 0

    def _open_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session

    async def _bearer(self) -> dict[str, str]:
        async with self._login_lock:
            return await self._login()

    async def _login(self) -> dict[str, str]:
        now = self._now()
        if self._token is None or self._token[1] <= now:
            try:
                got = await grant(self._open_session(), self.login_url, *self._client)
            except LoginRefused as exc:
                failure = error_for(exc.status, "Genesys Cloud login")
                raise (failure or Unreachable(str(exc))) from None
            except (TransportError, aiohttp.ClientError, TimeoutError, OSError) as exc:
                raise Unreachable(f"Genesys Cloud login: {exc}") from None
            self.logins += 1
            lasts = got.expires_in if got.expires_in is not None else 3600.0
            self._token = (got.token, now + max(lasts - 60.0, lasts / 2))
        return {"Authorization": f"Bearer {self._token[0]}"}

    async def presences(self) -> Presences:
        """The two presences' ids, looked up once (and again after the platform forgot one)."""
        async with self._lookup_lock:
            return await self._look_up()

    async def _look_up(self) -> Presences:
        if self._presences is None:
            await self.limiter.take()
            try:
                found = await look_up(
                    self._open_session(),
                    self.api_url,
                    await self._bearer(),
                    *self.names,
                    seconds=self._timeout,
                    clock=self._clock,
                )
            except Throttled as exc:
                self.limiter.hold(exc.retry_after or 60.0)
                raise
            self.lookups += 1
            self.marks.add(back_office=[found.back_office], available=[found.available])
            self._presences = found
        return self._presences

    async def send(self, command: Command) -> None:
        found = await self.presences()
        presence = found.back_office if command.state == "backoffice" else found.available
        what = f"Genesys Cloud presence of {command.external_id}"
        url = (
            f"{self.api_url}/api/v2/users/{quote(command.external_id, safe='')}/presences/purecloud"
        )
        for attempt in (1, 2):
            headers = await self._bearer()
            await self.limiter.take()
            try:
                async with self._open_session().patch(
                    url,
                    json={"presenceDefinition": {"id": presence}},
                    headers=headers,
                    timeout=aiohttp.ClientTimeout(total=self._timeout),
                ) as response:
                    status = response.status
                    wait = retry_after(response.headers.get("Retry-After"), self._clock.now())
                    body = await response.read()
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                raise Unreachable(f"{what}: {exc or type(exc).__name__}") from None
            if status == 401 and attempt == 1:
                self._token = None
                continue
            break
        failure = error_for(status, what, wait)
        if failure is None:
            return
        if isinstance(failure, Throttled):
            self.limiter.hold(wait if wait is not None else 60.0)
        if status in (400, 404):
            self._presences = None
        raise _detailed(failure, body)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _detailed(failure: ControlError, body: bytes) -> ControlError:
    """The error with Genesys' own ``message`` and ``code`` added."""
    try:
        parsed = json.loads(body) if body else None
    except ValueError:
        parsed = None
    if not isinstance(parsed, Mapping) or not parsed.get("message"):
        return failure
    text = f"{failure}: {parsed.get('code') or ''} {parsed['message']}".replace(":  ", ": ")
    if isinstance(failure, Throttled):
        return Throttled(text, failure.retry_after)
    return type(failure)(text)


async def learn(
    session: aiohttp.ClientSession,
    api_url: str,
    token: Callable[[], Awaitable[str]],
    back_office: str,
    available: str,
    marks: StateMarks,
    *,
    backoff: tuple[float, float] = (1.0, 300.0),
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    clock: Clock = SYSTEM,
) -> Presences | None:
    """For the feed: the two presences' ids added to ``marks``, trying again with backoff
    while Genesys cannot be reached; ``None`` (logged) when they are refused for good."""
    delay = backoff[0]
    while True:
        try:
            headers = {"Authorization": f"Bearer {await token()}"}
            found = await look_up(
                session, api_url.rstrip("/"), headers, back_office, available, clock=clock
            )
        except Refused as exc:
            log.warning("Genesys presences for blendbot's states not known: %s", exc)
            return None
        except (ControlError, TransportError, aiohttp.ClientError, OSError) as exc:
            wait = exc.retry_after if isinstance(exc, Throttled) and exc.retry_after else delay
            log.warning("Genesys presences not looked up (%s); again in %.0f s", exc, wait)
            await sleep(wait)
            delay = min(delay * 2, backoff[1])
            continue
        marks.add(back_office=[found.back_office], available=[found.available])
        return found

"""Reading a telephony platform's users for the roster sync: the interface of the readers.

Each platform has a reader (``connect_directory``, ``genesys_directory``, ``twilio_directory``)
that lists every user, all pages of them, with the email the platform knows them by, as
:class:`queues.roster_match.Person`. A reader waits out throttling (429 and the vendor's
throttling error, ``Retry-After`` honoured) a few times and otherwise raises
:class:`DirectoryError`, so that a sync never works on half a directory.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Protocol

from queues.roster_match import Person
from telephony_adapters.errors import AdapterError

THROTTLED_TRIES = 5
"""How often one request is tried while the platform throttles it."""
MAX_WAIT_SECONDS = 60.0

Sleep = Callable[[float], Awaitable[None]]


class DirectoryError(AdapterError):
    """A platform's users could not be read (refused, unreachable, or throttled for too long);
    nothing of that platform is used."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source} users not read: {reason}")
        self.source = source
        self.reason = reason


class Directory(Protocol):
    source: str
    """The telephony source whose ids the users' ids are (``amazon_connect`` ...)."""

    async def users(self) -> list[Person]:
        """Every user of the platform, all pages; :class:`DirectoryError` if not."""
        ...

    async def close(self) -> None: ...


class Throttle:
    """Waits between tries of a throttled request: ``Retry-After`` when given, else 1, 2, 4
    ... seconds; gives up after :data:`THROTTLED_TRIES`."""

    def __init__(self, source: str, sleep: Sleep = asyncio.sleep) -> None:
        self._source = source
        self._sleep = sleep
        self.waits = 0

    async def wait(self, attempt: int, retry_after: float | None) -> None:
        if attempt >= THROTTLED_TRIES:
            raise DirectoryError(self._source, f"throttled {attempt} times in a row")
        delay = retry_after if retry_after is not None else float(2 ** (attempt - 1))
        self.waits += 1
        await self._sleep(min(MAX_WAIT_SECONDS, max(0.0, delay)))

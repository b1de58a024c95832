"""The readers of the shared mailboxes (sources of kind ``imap``): one per source, for as long
as the service runs.

A reader logs in, selects the mailbox, and takes each unseen message through the same intake
as a pushed delivery (:meth:`~task_sources.intake.Intake.apply`: deduplicated by
``Message-Id``, made into a task or kept as a reject). Messages are read with ``BODY.PEEK[]``
and flagged ``\\Seen`` only once the intake's transaction committed, so a service stopped
half-way reads them again at its next start, and the intake finds them already applied. Then
it waits: in ``IDLE`` where the server announces it (re-issued every ``idle_seconds``, as RFC
2177 asks), else ``poll_seconds``. Whatever fails (the server away, a refused login, the
database down) is logged once, and the reader connects again after a growing pause; it never
stops while its source exists. Sources put, changed or deleted through the API are followed
every ``discover_seconds``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aioimaplib import IMAP4  # type: ignore[import-untyped]

from clock import Clock
from task_sources.config import SourceCatalog
from task_sources.connector import SourceConfig
from task_sources.errors import SourceNotFound
from task_sources.intake import Intake

log = logging.getLogger(__name__)
KIND = "imap"


@dataclass(frozen=True)
class MailboxSettings:
    poll_seconds: float = 60
    """Between two looks at a mailbox whose server has no IDLE."""
    idle_seconds: float = 25 * 60
    """IDLE is re-issued this often (servers drop an idle client after 30 minutes)."""
    longest_backoff: float = 300
    """The longest pause before connecting again after a failure."""
    discover_seconds: float = 30
    """How often the configured mailboxes are looked up."""
    timeout_seconds: float = 30
    """The longest one IMAP command may take."""


class MailboxFailed(Exception):
    """The server refused a command (a bad login, an unknown mailbox)."""


class Mailboxes:
    def __init__(
        self,
        intake: Intake,
        *,
        clock: Clock,
        settings: MailboxSettings | None = None,
        counted: Callable[[str, str], None] | None = None,
    ) -> None:
        self._intake = intake
        self._catalog: SourceCatalog = intake.catalog
        self._clock = clock
        self.settings = settings or MailboxSettings()
        self._counted = counted
        self._readers: dict[str, tuple[datetime | None, asyncio.Task[None]]] = {}
        self.applied = 0
        """Messages taken through the intake (any outcome) since the start."""
        self.failures = 0

    async def run(self) -> None:
        """Follow the configured mailboxes for ever (cancel to stop)."""
        try:
            while True:
                try:
                    await self.discover()
                except Exception as exc:  # the database away: the readers keep going
                    log.warning("looking up the mailboxes failed: %s", exc)
                await asyncio.sleep(self.settings.discover_seconds)
        finally:
            await self.close()

    async def discover(self) -> None:
        """Start a reader per imap source, restart it when the source changed, stop it when
        the source is gone."""
        wanted = {s.name: s.updated_at for s in await self._catalog.all() if s.kind == KIND}
        for name, (version, task) in list(self._readers.items()):
            if wanted.get(name, "gone") != version or task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
                del self._readers[name]
        for name, version in wanted.items():
            if name not in self._readers:
                task = asyncio.create_task(self._read(name), name=f"mailbox {name}")
                self._readers[name] = (version, task)

    async def close(self) -> None:
        tasks = [task for _, task in self._readers.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._readers.clear()

    async def _read(self, name: str) -> None:
        failures = 0

        def ready() -> None:
            nonlocal failures
            if failures:
                log.info("mailbox %s: reading again", name)
            failures = 0

        while True:
            try:
                await self._session(await self._catalog.config(name), ready)
            except asyncio.CancelledError:
                raise
            except SourceNotFound:
                return
            except Exception as exc:
                failures += 1
                self.failures += 1
                if failures == 1:
                    log.warning("mailbox %s: %s: %s; reconnecting", name, type(exc).__name__, exc)
            await asyncio.sleep(min(self.settings.longest_backoff, 2.0 ** min(failures, 20)))

    async def _session(self, config: SourceConfig, ready: Callable[[], None]) -> None:
        """One connection: log in, then read and wait until the connection fails."""
        c = config.credentials
        lost = asyncio.Event()
        client = IMAP4(
            host=c.get("imap_host", ""),
            port=int(c.get("imap_port", "993")),
            timeout=self.settings.timeout_seconds,
            conn_lost_cb=lambda _: lost.set(),
            ssl_context=ssl.create_default_context() if c.get("imap_tls", "tls") == "tls" else None,
        )
        try:
            await client.wait_hello_from_server()
            await _ok(client.login(c.get("username", ""), c.get("password", "")), "LOGIN")
            await _ok(client.select(c.get("mailbox", "INBOX")), "SELECT")
            ready()
            while not lost.is_set():
                await self._take_unseen(client, config)
                if client.has_capability("IDLE"):
                    await self._idle(client, lost)
                else:
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(self.settings.poll_seconds):
                            await lost.wait()
            raise ConnectionError("the server closed the connection")
        finally:
            if not lost.is_set():
                with contextlib.suppress(Exception):
                    async with asyncio.timeout(2):
                        await client.logout()
            for pending in [*client.tasks, *client.protocol.tasks]:
                pending.cancel()
            transport = getattr(client.protocol, "transport", None)
            if transport is not None:
                transport.close()

    async def _idle(self, client: Any, lost: asyncio.Event) -> None:
        """Wait in IDLE for news from the server (or the time to re-issue it)."""
        idle = await client.idle_start(timeout=self.settings.idle_seconds)
        push = asyncio.ensure_future(client.wait_server_push(timeout=self.settings.idle_seconds))
        gone = asyncio.ensure_future(lost.wait())
        try:
            await asyncio.wait({push, gone}, return_when=asyncio.FIRST_COMPLETED)
            if not lost.is_set():
                client.idle_done()
                async with asyncio.timeout(self.settings.timeout_seconds):
                    await asyncio.shield(idle)
        finally:
            for waiting in (push, gone, idle):
                waiting.cancel()
            await asyncio.gather(push, gone, idle, return_exceptions=True)

    async def _take_unseen(self, client: Any, config: SourceConfig) -> None:
        found = await _ok(client.uid_search("UNSEEN", charset=None), "UID SEARCH")
        uids = [u for u in (found.lines[0].split() if found.lines else []) if u.isdigit()]
        connector = self._catalog.connector(config.kind)
        for uid in uids:
            fetched = await _ok(client.uid("fetch", uid.decode(), "(BODY.PEEK[])"), "UID FETCH")
            raw = next((bytes(x) for x in fetched.lines if isinstance(x, bytearray)), None)
            if raw is None:
                continue  # expunged since the search
            for delivery in connector.deliveries(config, {}, raw):
                outcome = await self._intake.apply(config, delivery, self._clock.now(), {}, raw)
                self.applied += 1
                if self._counted is not None:
                    self._counted(config.name, outcome.outcome)
            await _ok(client.uid("store", uid.decode(), "+FLAGS", "(\\Seen)"), "UID STORE")


async def _ok(command: Any, what: str) -> Any:
    response = await command
    if response.result != "OK":
        detail = b" ".join(x for x in response.lines if isinstance(x, bytes)).decode(
            errors="replace"
        )
        raise MailboxFailed(f"{what}: {response.result} {detail}".strip())
    return response

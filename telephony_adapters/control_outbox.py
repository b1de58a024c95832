"""The sender of the state commands' outbox: each command sent to the platform that controls
the agent, retried, and confirmed by the feed.

Commands are queued by the database in the transaction of the decision that causes them
(``migrations/0016_acd_control.sql``); this sends them after it, on every instance (a command
is leased by one sender at a time):

- **which client**: the agent's telephony id of a source that has a configured client
  (:class:`Targets`); with none, the signed webhook if configured, else the command fails;
- **one at a time per agent, in order**: a command is leased only while no other command of
  the agent is, and queueing a command supersedes the agent's older open ones, so a lend still
  waiting is never sent after the recall that follows it;
- **retries**: :class:`~telephony_adapters.control.Throttled` waits its ``retry_after`` (or a
  backoff) without counting as a failure; :class:`~telephony_adapters.control.Unreachable` is
  retried with a growing backoff, up to ``max_failures`` in a row;
  :class:`~telephony_adapters.control.Refused` fails at once;
- **confirmation**: a command the platform accepted is done only when the feed shows the state
  (within ``confirm_seconds``); otherwise it is sent again, up to ``confirm_tries`` times, then
  fails. Every failure is handed to :meth:`ControlHooks.failed` in the transaction that marks
  it (the service tells the supervisors there).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal, Protocol
from uuid import UUID

import asyncpg

from clock import Clock
from queues.db import Connection, load_queries, transaction
from telephony_adapters.control import (
    Command,
    ControlClient,
    ControlError,
    Refused,
    Throttled,
    Unreachable,
)

log = logging.getLogger(__name__)
_SQL = load_queries("telephony_adapters", "control_outbox.sql")

PLATFORMS = ("amazon_connect", "genesys", "twilio", "asterisk")
"""The platforms with a control client of their own, in the order they are preferred when an
agent has ids in several."""
WEBHOOK = "webhook"
WEBHOOK_FEED = "generic"
"""The feed that shows what the webhook's platform did: the generic one."""

FailureKind = Literal["refused", "unreachable", "unconfirmed", "no_target"]


@dataclass(frozen=True)
class Target:
    """Who sets one agent's state, and which feed line shows it done."""

    client: ControlClient
    external_id: str
    feed_source: str
    feed_id: str


class Targets:
    """The configured control clients, by source; built by the composition root."""

    def __init__(self, clients: Iterable[ControlClient] = ()) -> None:
        self._by_source = {c.source: c for c in clients}

    def __bool__(self) -> bool:
        return bool(self._by_source)

    @property
    def sources(self) -> list[str]:
        return sorted(self._by_source)

    def resolve(self, agent_id: str, telephony_ids: Mapping[str, str]) -> Target | None:
        """The client of the agent's telephony source that has one, else the webhook (the
        agent's generic id, or their roster id, in the generic feed), else none."""
        ordered = [s for s in PLATFORMS if s in telephony_ids]
        ordered += sorted(s for s in telephony_ids if s not in PLATFORMS)
        for source in ordered:
            client = self._by_source.get(source)
            if client is not None and source != WEBHOOK:
                external = telephony_ids[source]
                return Target(client, external, source, external)
        webhook = self._by_source.get(WEBHOOK)
        if webhook is not None:
            external = telephony_ids.get(WEBHOOK_FEED, agent_id)
            return Target(webhook, external, WEBHOOK_FEED, external)
        return None

    async def close(self) -> None:
        """Close the clients that hold connections."""
        for client in self._by_source.values():
            close = getattr(client, "close", None)
            if close is not None:
                await close()


@dataclass(frozen=True)
class OutboxSettings:
    confirm_seconds: float = 30
    """A command accepted by the platform must show in the feed within this."""
    confirm_tries: int = 3
    """Sends without the feed showing the state before the command fails."""
    max_failures: int = 8
    """Unreachable answers in a row before the command fails."""
    longest_backoff: float = 60
    send_seconds: float = 15
    """The longest one send may take; longer counts as unreachable."""
    lease_seconds: float = 60
    batch: int = 50


@dataclass(frozen=True)
class Failure:
    """A command given up: what the supervisors are told."""

    command_id: UUID
    agent_id: str
    state: str
    target: str | None
    kind: FailureKind
    detail: str


class ControlHooks(Protocol):
    """What the service does with the outbox's outcomes (metrics, telling people)."""

    def sent(self, target: str, state: str) -> None: ...

    def confirmed(self, target: str, state: str) -> None: ...

    async def failed(self, conn: Connection, failure: Failure) -> None:
        """Called in the transaction that marks the command failed."""
        ...


class ControlOutbox:
    def __init__(
        self,
        pool: asyncpg.Pool,
        targets: Targets,
        *,
        clock: Clock,
        settings: OutboxSettings | None = None,
        hooks: ControlHooks | None = None,
    ) -> None:
        self._pool = pool
        self._targets = targets
        self._clock = clock
        self.settings = settings or OutboxSettings()
        self._hooks = hooks
        self._wake = asyncio.Event()
        self.sent = 0
        self.confirmed = 0
        self.failed = 0

    def kick(self) -> None:
        """A command was queued: send it now rather than at the next poll."""
        self._wake.set()

    async def step(self) -> int:
        """One round: confirm what the feeds show, resend or fail what they do not, send
        what is due; return how many commands were tried or settled."""
        done = await self.confirm()
        done += await self.overdue()
        done += await self.send_due()
        return done

    async def drain(self, within: float = 10) -> None:
        """Run rounds until one does nothing (commands put off for later stay put off)."""
        async with asyncio.timeout(within):
            while await self.step():
                pass

    async def run(self, poll: float = 1.0, *, longest_wait: float = 60.0) -> None:
        """Run for ever: woken by :meth:`kick`, or every ``poll`` seconds (the triggers queue
        commands in other processes' transactions). A failing round (the database away) is
        logged once and waited out with a growing pause."""
        failures = 0
        while True:
            wait = poll
            try:
                while await self.step():
                    pass
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                failures += 1
                wait = min(poll * 2**failures, longest_wait)
                if failures == 1:
                    log.warning("control outbox round failed (%s); backing off", exc)
            else:
                if failures:
                    log.info("control outbox works again after %d failed rounds", failures)
                failures = 0
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._wake.wait()
            self._wake.clear()

    async def send_due(self) -> int:
        s = self.settings
        now = self._clock.now()
        rows = await self._pool.fetch(_SQL["lease_due"], now, s.batch, s.lease_seconds)
        await asyncio.gather(*(self._send(row) for row in rows))
        return len(rows)

    def _command(self, row: Any, target: Target | None, ids: dict[str, str]) -> Command:
        return Command(
            command_id=str(row["command_id"]),
            agent_id=row["agent_id"],
            external_id=target.external_id if target else "",
            state=row["state"],
            reason=row["reason"],
            telephony_ids=ids,
        )

    async def _send(self, row: Any) -> None:
        ids = _ids(row["telephony_ids"])
        target = self._targets.resolve(row["agent_id"], ids)
        if target is None:
            sources = ", ".join(sorted(ids)) or "none"
            detail = f"no control client for the agent's telephony ids ({sources})"
            await self._fail(row, None, "no_target", detail)
            return
        source = target.client.source
        try:
            async with asyncio.timeout(self.settings.send_seconds):
                await target.client.send(self._command(row, target, ids))
        except Throttled as exc:
            wait = exc.retry_after if exc.retry_after is not None else self._backoff(1)
            await self._retry(row, wait, row["failures"], "throttled", f"{source}: {exc}")
        except Refused as exc:
            await self._fail(row, source, "refused", f"{source} refused: {exc}")
        except (Unreachable, ControlError, TimeoutError, OSError) as exc:
            await self._unreachable(row, source, exc)
        except Exception as exc:  # a client's bug must not stop the sender: retried
            log.exception("control client %s failed on command %s", source, row["command_id"])
            await self._unreachable(row, source, exc)
        else:
            await self._sent(row, target)

    async def _unreachable(self, row: Any, source: str, exc: BaseException) -> None:
        failures = row["failures"] + 1
        detail = f"{source}: {type(exc).__name__}: {exc}" if str(exc) else f"{source}: timeout"
        if failures >= self.settings.max_failures:
            await self._fail(row, source, "unreachable", f"{detail} ({failures} tries)")
            return
        await self._retry(row, self._backoff(failures), failures, "unreachable", detail)

    def _backoff(self, failures: int) -> float:
        return float(min(self.settings.longest_backoff, 2 ** (failures - 1)))

    async def _sent(self, row: Any, target: Target) -> None:
        now = self._clock.now()
        confirm_by = now + timedelta(seconds=self.settings.confirm_seconds)
        source = target.client.source
        await self._pool.fetchval(
            _SQL["mark_sent"],
            row["id"],
            now,
            confirm_by,
            source,
            target.external_id,
            target.feed_source,
            target.feed_id,
        )
        self.sent += 1
        if self._hooks is not None:
            self._hooks.sent(source, row["state"])

    async def _retry(self, row: Any, wait: float, failures: int, event: str, detail: str) -> None:
        if await self._superseded(row, detail):
            return
        now = self._clock.now()
        at = now + timedelta(seconds=max(wait, 0.0))
        await self._pool.execute(_SQL["retry"], row["id"], at, failures, event, detail)

    async def _superseded(self, row: Any, detail: str) -> bool:
        """A command superseded while it was being sent is left as it is; its lease ends."""
        if await self._pool.fetchval(_SQL["status"], row["id"]) == "pending":
            return False
        await self._pool.execute(_SQL["release"], row["id"], detail)
        return True

    async def _fail(self, row: Any, source: str | None, kind: FailureKind, detail: str) -> None:
        if await self._superseded(row, detail):
            return
        now = self._clock.now()
        async with transaction(self._pool) as conn:
            status = await conn.fetchval(_SQL["fail"], row["id"], now, detail, source)
            if status != "failed":
                return
            failure = Failure(
                row["command_id"], row["agent_id"], row["state"], source, kind, detail
            )
            log.warning(
                "state command %s for %s failed: %s", row["command_id"], row["agent_id"], detail
            )
            self.failed += 1
            if self._hooks is not None:
                await self._hooks.failed(conn, failure)

    async def confirm(self) -> int:
        """Mark done the sent commands whose state the feed now shows."""
        rows = await self._pool.fetch(_SQL["confirm"], self._clock.now())
        for row in rows:
            self.confirmed += 1
            if self._hooks is not None:
                self._hooks.confirmed(row["target"] or "", row["state"])
        return len(rows)

    async def overdue(self) -> int:
        """Commands the feed has not shown done in time: sent again, or failed when they were
        sent ``confirm_tries`` times."""
        now = self._clock.now()
        count = 0
        async with transaction(self._pool) as conn:
            rows = await conn.fetch(_SQL["overdue"], now)
            for row in rows:
                count += 1
                shows = row["line"] or "nothing"
                seconds = self.settings.confirm_seconds
                detail = (
                    f"{row['target']} accepted it, but after {seconds:g} s the feed shows "
                    f"{shows}, not {_words(row['state'])}"
                )
                if row["sends"] < self.settings.confirm_tries:
                    await conn.execute(_SQL["resend"], row["id"], detail + ": sent again")
                    continue
                await conn.execute(_SQL["unconfirmed_event"], row["id"], detail)
                status = await conn.fetchval(
                    _SQL["fail"], row["id"], now, f"unconfirmed: {detail}", None
                )
                if status != "failed":
                    continue
                self.failed += 1
                log.warning("state command %s unconfirmed: %s", row["command_id"], detail)
                if self._hooks is not None:
                    failure = Failure(
                        row["command_id"],
                        row["agent_id"],
                        row["state"],
                        row["target"],
                        "unconfirmed",
                        f"{detail} ({row['sends']} sends)",
                    )
                    await self._hooks.failed(conn, failure)
        return count


def _words(state: str) -> str:
    return "back_office" if state == "backoffice" else "available"


def _ids(value: Any) -> dict[str, str]:
    decoded = json.loads(value) if isinstance(value, str) else value
    return {str(k): str(v) for k, v in (decoded or {}).items()}

"""The durable outbox: Web API calls owed to Slack, sent after the state change committed.

Rows are written in the same transaction as the change they report, so a crash loses no
message and a rolled-back change sends none. A card is posted once; its ``ts`` is kept and
every later row for it updates that message in place; a file (a chart) is shared once
(``bot.slack.files``). Rate limits are honoured twice: the client's retry handler waits out a
short ``Retry-After``, and a row still refused is put off until Slack says, without holding up
the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import aiohttp
import asyncpg
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.database import UNREACHABLE
from bot.slack.files import UploadRefused, send_file
from bot.slack.store import OutboxRows

log = logging.getLogger(__name__)

PERMANENT = frozenset(
    {
        "channel_not_found",
        "invalid_auth",
        "invalid_blocks",
        "invalid_arguments",
        "msg_too_long",
        "no_text",
        "not_authed",
        "not_in_channel",
        "is_archived",
        "user_not_found",
        "user_not_in_channel",
        "account_inactive",
        "file_upload_size_restricted",
        "alt_txt_too_large",
    }
)
"""Errors that no retry will cure: the row is marked failed at once."""


def web_client(token: str, base_url: str) -> AsyncWebClient:
    """The Web API client, retrying one short rate limit and dropped connections itself."""
    return AsyncWebClient(
        token=token,
        base_url=base_url,
        timeout=10,
        retry_handlers=[
            AsyncRateLimitErrorRetryHandler(max_retry_count=1),
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
        ],
    )


_ROUND_FAILURES: tuple[type[BaseException], ...] = (*UNREACHABLE, asyncpg.PostgresError)


class Outbox:
    def __init__(
        self,
        pool: asyncpg.Pool,
        client: AsyncWebClient,
        *,
        batch: int = 50,
        concurrency: int = 8,
        lease_seconds: float = 30,
        max_attempts: int = 8,
    ) -> None:
        self._pool = pool
        self._rows = OutboxRows(pool)
        self._client = client
        self._batch = batch
        self._lease = lease_seconds
        self._max_attempts = max_attempts
        self._limit = asyncio.Semaphore(concurrency)
        self._wake = asyncio.Event()
        self._dms: dict[str, str] = {}
        self.sent = 0
        self.failed = 0

    def kick(self) -> None:
        """Something was enqueued: send it now rather than at the next poll."""
        self._wake.set()

    async def send_due(self) -> int:
        """Send every row due now, once; return how many were tried."""
        rows = await self._rows.lease_due(self._batch, self._lease)
        await asyncio.gather(*(self._send(row) for row in rows))
        return len(rows)

    async def drain(self, within: float = 10) -> None:
        """Send until nothing is due now (rows put off for later stay put off)."""
        async with asyncio.timeout(within):
            while await self.send_due():
                pass

    async def run(self, poll: float = 1.0, *, longest_wait: float = 60.0) -> None:
        """Send for ever: woken by :meth:`kick`, or every ``poll`` seconds. While the database
        cannot be reached, it waits twice as long after each failed round (up to
        ``longest_wait``) and says so once, not every round."""
        failures = 0
        while True:
            wait = poll
            try:
                while await self.send_due():
                    pass
            except _ROUND_FAILURES as exc:
                failures += 1
                wait = min(poll * 2**failures, longest_wait)
                if failures == 1:
                    log.warning("outbox round failed (%s); backing off while it does", exc)
            else:
                if failures:
                    log.info("outbox works again after %d failed rounds", failures)
                failures = 0
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._wake.wait()
            self._wake.clear()

    async def _send(self, row: Any) -> None:
        async with self._limit:
            try:
                await self._deliver(row)
            except SlackApiError as exc:
                await self._failed(row, exc)
                return
            except (aiohttp.ClientError, TimeoutError, OSError, UploadRefused) as exc:
                await self._retry(row, self._backoff(row), f"network: {exc}")
                return
            await self._rows.mark_sent(row["id"])
            self.sent += 1

    async def _deliver(self, row: Any) -> None:
        kind, body = row["kind"], row["body"]
        if kind == "home":
            await self._client.views_publish(user_id=row["user_id"], view=body)
        elif kind == "ephemeral":
            channel = row["target"]
            if channel == row["user_id"]:
                channel = await self._dm(row["user_id"])
            await self._client.chat_postEphemeral(
                channel=channel, user=row["user_id"], text=body["text"], blocks=body["blocks"]
            )
        elif kind == "file":
            channel = await self._dm(row["user_id"]) if row["user_id"] else row["target"]
            await send_file(self._pool, self._client, row["id"], channel, body)
        else:
            await self._card(row["ref"], row["target"], row["user_id"], body)

    async def _card(self, ref: str, target: str, user_id: str | None, body: Any) -> None:
        async with self._pool.acquire() as conn:
            rows = OutboxRows(conn)
            await rows.lock(ref)
            try:
                await self._post_or_update(rows, ref, target, user_id, body)
            finally:
                await rows.unlock(ref)

    async def _post_or_update(
        self, rows: OutboxRows, ref: str, target: str, user_id: str | None, body: Any
    ) -> None:
        where = await rows.message_of(ref)
        if where is not None:
            try:
                await self._client.chat_update(
                    channel=where["channel"],
                    ts=where["ts"],
                    text=body["text"],
                    blocks=body["blocks"],
                )
                return
            except SlackApiError as exc:
                if exc.response.get("error") != "message_not_found":
                    raise
                # The message was deleted in Slack: post the card afresh.
        channel = await self._dm(user_id) if user_id else target
        response = await self._client.chat_postMessage(
            channel=channel, text=body["text"], blocks=body["blocks"]
        )
        await rows.save_message(ref, response["channel"], response["ts"])

    async def _dm(self, user_id: str) -> str:
        channel = self._dms.get(user_id) or await self._rows.dm_channel(user_id)
        if channel is None:
            response = await self._client.conversations_open(users=user_id)
            channel = response["channel"]["id"]
            await self._rows.save_dm_channel(user_id, channel)
        self._dms[user_id] = channel
        return str(channel)

    def _backoff(self, row: Any) -> float:
        return float(min(300, 2 ** row["attempts"]))

    async def _failed(self, row: Any, exc: SlackApiError) -> None:
        error = str(exc.response.get("error", "unknown"))
        if exc.response.status_code == 429:
            retry_after = float(exc.response.headers.get("Retry-After", "1"))
            await self._retry(row, max(retry_after, 1.0), "ratelimited", count=False)
        elif error in PERMANENT:
            log.error("Slack refused outbox row %s for good: %s", row["id"], error)
            await self._rows.mark_failed(row["id"], error)
            self.failed += 1
        else:
            await self._retry(row, self._backoff(row), error)

    async def _retry(self, row: Any, delay: float, error: str, *, count: bool = True) -> None:
        if count and row["attempts"] >= self._max_attempts:
            log.error(
                "giving up on outbox row %s after %s tries: %s", row["id"], row["attempts"], error
            )
            await self._rows.mark_failed(row["id"], error)
            self.failed += 1
            return
        await self._rows.retry_later(row["id"], delay, error)

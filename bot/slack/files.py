"""A file from the outbox, shared at most once however often its send is retried.

Slack takes a file in three steps: ask for an upload URL (which names the file's id), send the
bytes there, then share the file in a channel. The id is kept in the row once the bytes are
up, so a retry shares that same file. Only the share posts anything, and it is the one step
that is never repeated blindly: the client does not resend it after a dropped connection (a
429 is resent: Slack did nothing then), and a retry first asks Slack (``files.info``) whether
the earlier attempt shared it after all. The row is locked while it is sent and marked sent
before the lock is let go, so a second sender finds it done.
"""

from __future__ import annotations

from typing import Any

import aiohttp
import asyncpg
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import ServiceError
from bot.slack.store import OutboxRows


class UploadRefused(ServiceError):
    """The upload URL did not take the bytes."""

    def __init__(self, status: int) -> None:
        self.status = status
        super().__init__(f"upload refused with HTTP {status}")


async def send_file(
    pool: asyncpg.Pool, client: AsyncWebClient, row_id: int, channel: str, body: dict[str, Any]
) -> None:
    """Upload and share the file of outbox row ``row_id`` in ``channel``, unless it is done."""
    key = f"file:{row_id}"
    async with pool.acquire() as conn:
        rows = OutboxRows(conn)
        await rows.lock(key)
        try:
            state = await rows.file_state(row_id)
            if state is None or state["sent_at"] is not None:
                return
            await _upload_and_share(rows, client, row_id, channel, body, state)
            await rows.mark_sent(row_id)
        finally:
            await rows.unlock(key)


async def _upload_and_share(
    rows: OutboxRows,
    client: AsyncWebClient,
    row_id: int,
    channel: str,
    body: dict[str, Any],
    state: Any,
) -> None:
    file_id = state["file_id"]
    if file_id is not None and await _shared(client, file_id, channel):
        return
    if file_id is None:
        file_id = await _upload(client, bytes(state["data"]), body)
        await rows.save_file_id(row_id, file_id)
    try:
        await _without_resends(client).files_completeUploadExternal(
            files=[{"id": file_id, "title": body.get("title") or body["filename"]}],
            channel_id=channel,
            initial_comment=body.get("initial_comment") or None,
        )
    except SlackApiError as exc:
        if exc.response.get("error") == "file_not_found":
            # Slack let the unshared upload go (it keeps one only for a while): start again.
            await rows.save_file_id(row_id, None)
        raise


async def _upload(client: AsyncWebClient, data: bytes, body: dict[str, Any]) -> str:
    """Steps one and two: the file's id and upload URL, then the bytes; nothing is shown yet."""
    response = await client.files_getUploadURLExternal(
        filename=body["filename"], length=len(data), alt_txt=body.get("alt_txt") or None
    )
    url, file_id = str(response["upload_url"]), str(response["file_id"])
    if client.session is not None:
        await _post(client, client.session, url, data)
    else:
        timeout = aiohttp.ClientTimeout(total=client.timeout)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            await _post(client, session, url, data)
    return file_id


async def _post(
    client: AsyncWebClient, session: aiohttp.ClientSession, url: str, data: bytes
) -> None:
    ssl = client.ssl if client.ssl is not None else True
    async with session.post(url, data=data, proxy=client.proxy, ssl=ssl) as response:
        if response.status != 200:
            raise UploadRefused(response.status)


async def _shared(client: AsyncWebClient, file_id: str, channel: str) -> bool:
    """Whether Slack already shows the file in ``channel`` (an earlier answer went missing)."""
    try:
        response = await client.files_info(file=file_id)
    except SlackApiError as exc:
        if exc.response.get("error") == "file_not_found":
            return False
        raise
    file: dict[str, Any] = response["file"]
    places = {*file.get("channels", []), *file.get("groups", []), *file.get("ims", [])}
    for shares in (file.get("shares") or {}).values():
        places.update(shares)
    return channel in places


def _without_resends(client: AsyncWebClient) -> AsyncWebClient:
    """The same client, minus the resend after a dropped connection: a share may have reached
    Slack before the connection dropped, and only ``files.info`` can tell."""
    return AsyncWebClient(
        token=client.token,
        base_url=client.base_url,
        timeout=client.timeout,
        ssl=client.ssl,
        proxy=client.proxy,
        session=client.session,
        headers=client.headers,
        logger=client.logger,
        retry_handlers=[
            h for h in client.retry_handlers if isinstance(h, AsyncRateLimitErrorRetryHandler)
        ],
    )

"""A shared mailbox read over IMAP (the stand-in server): unseen messages become tasks through
the same intake as pushed deliveries, are flagged seen only once stored, and the reader
survives the server going away; IDLE is used where the server has it, polling where not;
completing a task replies through SMTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot import root
from queues.lifecycle import Lifecycle
from queues.tasks import Tasks
from standins.imap import ImapStandIn
from standins.smtp import SmtpStandIn
from task_sources.mailbox import Mailboxes, MailboxSettings
from tests.conftest import AUTH, TOKEN
from tests.support.mail import message
from tests.support.sources import billing_type, count, put_source, take

Client = TestClient[Any, Any]
FAST = MailboxSettings(
    poll_seconds=0.2,
    idle_seconds=5,
    longest_backoff=0.2,
    discover_seconds=0.2,
    timeout_seconds=2,
)


async def until(check: Callable[[], Awaitable[bool]], within: float = 10) -> None:
    """Wait for a background reader to get somewhere (seen in the stand-in or the database)."""
    async with asyncio.timeout(within):
        while not await check():  # noqa: ASYNC110 (the reader's effects are not events here)
            await asyncio.sleep(0.05)


@dataclass
class Rig:
    client: Client
    pool: asyncpg.Pool
    imap: ImapStandIn
    smtp: SmtpStandIn
    mailboxes: Mailboxes
    app: root.App

    async def tasks(self) -> int:
        return await count(self.pool, "tasks")


async def _rig(pool: asyncpg.Pool, *, idle: bool) -> AsyncIterator[Rig]:
    imap = ImapStandIn("support@example.com", 'imap "pass" 0123', idle=idle)
    await imap.start()
    smtp = SmtpStandIn("support@example.com", "smtp-password-0123")
    await smtp.start()
    app = root.http_app(pool, root.Parts(mailboxes=FAST), tokens=[TOKEN], run_control=False)
    assert app.mailboxes is not None
    assert app.writebacks is not None
    await billing_type(pool, "email")
    reader: asyncio.Task[None] | None = None
    try:
        async with TestClient(TestServer(app.web)) as client:
            await put_source(
                client,
                "shared",
                kind="imap",
                credentials={
                    "imap_host": "127.0.0.1",
                    "imap_port": str(imap.port),
                    "imap_tls": "none",
                    "username": imap.username,
                    "password": imap.password,
                    "smtp_host": "127.0.0.1",
                    "smtp_port": str(smtp.port),
                    "smtp_tls": "none",
                    "smtp_username": smtp.username,
                    "smtp_password": smtp.password,
                    "from": "support@example.com",
                },
                write_back={"events": ["completed"]},
            )
            reader = asyncio.create_task(app.mailboxes.run())
            yield Rig(client, pool, imap, smtp, app.mailboxes, app)
    finally:
        if reader is not None:
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)
        await app.writebacks.close()
        await imap.stop()
        await smtp.stop()


@pytest.fixture
async def rig(pool: asyncpg.Pool) -> AsyncIterator[Rig]:
    async for made in _rig(pool, idle=True):
        yield made


@pytest.fixture
async def polled(pool: asyncpg.Pool) -> AsyncIterator[Rig]:
    async for made in _rig(pool, idle=False):
        yield made


async def test_unseen_messages_become_tasks_and_are_seen_once_stored(rig: Rig) -> None:
    rig.imap.deliver(
        message(
            "<a1@example.org>",
            "Address change",
            attachment=("proof.pdf", b"%PDF-1.4 proof", "application/pdf"),
        )
    )
    await until(lambda: _seen(rig, 1))
    task = await Tasks(rig.pool).by_key("shared", "<a1@example.org>")
    assert task is not None
    assert (task.type, task.title, task.customer_ref) == (
        "email",
        "Address change",
        "carla@example.org",
    )
    assert task.payload["attachments"] == [
        {"name": "proof.pdf", "size": 14, "content_type": "application/pdf"}
    ]
    assert "Please update my address." in task.payload["text"]
    # Read with BODY.PEEK[], flagged \Seen by STORE after the task was stored.
    commands = rig.imap.commands
    assert commands.index("UID FETCH") < commands.index("UID STORE")
    assert "IDLE" in commands
    # New mail while idle: the server's EXISTS wakes the reader.
    rig.imap.deliver(message("<a2@example.org>", "Card lost"))
    await until(lambda: _seen(rig, 2))
    assert await rig.tasks() == 2
    # A reply in the thread updates the thread's task.
    rig.imap.deliver(
        message(
            "<a3@example.org>",
            "Re: Address change",
            text="It is 4 Elm Street.",
            in_reply_to="<a1@example.org>",
            references="<a1@example.org>",
        )
    )
    await until(lambda: _seen(rig, 3))
    assert await rig.tasks() == 2
    task = await Tasks(rig.pool).by_key("shared", "<a1@example.org>")
    assert task is not None
    assert task.payload["message_id"] == "<a3@example.org>"
    metrics = await (await rig.client.get("/metrics")).text()
    assert 'blendbot_source_deliveries_total{outcome="updated",source="shared"} 1.0' in metrics


async def test_a_server_without_idle_is_polled(polled: Rig) -> None:
    polled.imap.deliver(message("<p1@example.org>", "Statement request"))
    await until(lambda: _seen(polled, 1))
    assert "IDLE" not in polled.imap.commands
    polled.imap.deliver(message("<p2@example.org>", "Second request"))
    await until(lambda: _seen(polled, 2))
    assert await polled.tasks() == 2


async def test_nothing_is_lost_when_the_service_stops_before_flagging(
    rig: Rig, pool: asyncpg.Pool
) -> None:
    rig.imap.deliver(message("<s1@example.org>", "Stopped half-way"))
    await until(lambda: _seen(rig, 1))
    # As if the service had stopped between storing the task and flagging the message:
    rig.imap.messages[0].flags.clear()
    await rig.imap.stop()
    await rig.imap.start()
    await until(lambda: _seen(rig, 1))
    assert await rig.tasks() == 1
    rows = await pool.fetch("SELECT outcome FROM source_deliveries")
    assert [r["outcome"] for r in rows] == ["created"]  # the second reading was a duplicate


async def test_the_reader_survives_the_server_going_away_and_coming_back(rig: Rig) -> None:
    rig.imap.deliver(message("<o1@example.org>", "Before the outage"))
    await until(lambda: _seen(rig, 1))
    logins = rig.imap.logins
    await rig.imap.stop()
    await asyncio.sleep(1)  # several failed reconnections
    assert rig.mailboxes.failures >= 2
    rig.imap.deliver(message("<o2@example.org>", "During the outage"))
    await rig.imap.start()
    await until(lambda: _seen(rig, 2))
    assert rig.imap.logins > logins
    assert await rig.tasks() == 2


async def test_a_refused_login_is_retried_until_the_password_is_fixed(rig: Rig) -> None:
    await put_source(
        rig.client,
        "shared",
        kind="imap",
        credentials={
            "imap_host": "127.0.0.1",
            "imap_port": str(rig.imap.port),
            "imap_tls": "none",
            "username": rig.imap.username,
            "password": "wrong-password",
        },
    )
    await until(lambda: _failed(rig, 1))
    rig.imap.deliver(message("<l1@example.org>", "Locked out"))
    await until(lambda: _failed(rig, 3))
    assert await rig.tasks() == 0
    await put_source(
        rig.client,
        "shared",
        kind="imap",
        credentials={
            "imap_host": "127.0.0.1",
            "imap_port": str(rig.imap.port),
            "imap_tls": "none",
            "username": rig.imap.username,
            "password": rig.imap.password,
        },
    )
    await until(lambda: _seen(rig, 1))
    assert await rig.tasks() == 1


async def test_a_message_without_its_task_type_is_kept_and_still_seen(
    rig: Rig, pool: asyncpg.Pool
) -> None:
    await put_source(
        rig.client, "shared", kind="imap", mapping={"type": '"unknown_type"'}, credentials=None
    )
    await rig.mailboxes.discover()  # the reader follows the change now, not at its next look
    rig.imap.deliver(message("<r1@example.org>", "Unmapped"))
    await until(lambda: _seen(rig, 1))
    rejects = await (await rig.client.get("/api/v1/sources/shared/rejects", headers=AUTH)).json()
    assert [r["delivery_id"] for r in rejects["items"]] == ["<r1@example.org>"]
    assert rejects["items"][0]["field"] == "type"
    assert await count(pool, "tasks") == 0


async def test_completing_a_mailbox_task_replies_through_smtp(rig: Rig) -> None:
    rig.imap.deliver(message("<c1@example.org>", "Please close my account"))
    await until(lambda: _seen(rig, 1))
    task = await Tasks(rig.pool).by_key("shared", "<c1@example.org>")
    assert task is not None
    await take(rig.pool, task.id, "ana")
    await Lifecycle(rig.pool).complete(task.id, "ana", "closed", None)
    assert rig.app.writebacks is not None
    await rig.app.writebacks.drain()
    [sent] = rig.smtp.messages
    assert (sent["To"], sent["Subject"]) == ("carla@example.org", "Re: Please close my account")
    assert (sent["In-Reply-To"], sent["References"]) == ("<c1@example.org>", "<c1@example.org>")
    assert 'your message "Please close my account" has been dealt with' in sent.get_content()


async def test_posting_to_an_imap_source_is_refused(rig: Rig) -> None:
    posted = await rig.client.post(
        "/sources/shared/events", data=message("<x@example.org>", "Forged")
    )
    assert posted.status == 401
    assert await rig.tasks() == 0


async def _seen(rig: Rig, n: int) -> bool:
    return len(rig.imap.seen()) >= n


async def _failed(rig: Rig, n: int) -> bool:
    return rig.mailboxes.failures >= n

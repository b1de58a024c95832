"""Mailgun inbound routes: the documented post becomes a task for its thread, with its
attachments as references; forged, stale and replayed signatures are refused; a reply updates
the thread's task; completing it sends a threaded reply through SMTP (the stand-in checks it),
retried through an outage."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot import root
from clock import FixedClock
from queues.lifecycle import Lifecycle
from queues.tasks import Tasks
from standins.smtp import SmtpStandIn
from task_sources.outbox import WriteBackOutbox
from tests.conftest import AUTH, TOKEN
from tests.support.mail import SIGNING_KEY, documented, mailgun_post
from tests.support.sources import billing_type, count, put_source, take

Client = TestClient[Any, Any]
THREAD = "<517AC78B.5060404@mailgun.net>"
BOB = "<517ACC75.5010709@mailgun.net>"
PDF = ("statement.pdf", b"%PDF-1.4 " + b"x" * 5000, "application/pdf")


async def test_the_documented_post_makes_a_task_with_attachments_as_references(
    client: Client, pool: asyncpg.Pool
) -> None:
    await billing_type(pool, "email")
    await put_source(client, "inbox", kind="mailgun", secret=SIGNING_KEY)
    answer = await mailgun_post(client, "inbox", documented(), files=[PDF])
    assert answer.status == 200, await answer.text()
    outcome = (await answer.json())["deliveries"][0]
    assert (outcome["delivery_id"], outcome["outcome"]) == (BOB, "created")
    task = await Tasks(pool).one(outcome["task_id"])
    assert task is not None
    # Bob answers Alice's message: the task is the thread's, named by its first message.
    assert (task.external_id, task.type, task.title) == (THREAD, "email", "Re: Sample POST request")
    assert task.customer_ref == "bob@example.com"
    assert task.payload["message_id"] == BOB
    assert task.payload["reply_to"] == "bob@example.com"
    assert task.payload["attachments"] == [
        {"name": "statement.pdf", "size": len(PDF[1]), "content_type": "application/pdf"}
    ]
    assert "This is Bob." in task.payload["text"]
    assert len(json.dumps(task.payload)) < 2000  # the attachment's bytes are not in the task


async def test_forged_stale_and_replayed_posts_are_refused_and_stored_nowhere(
    client: Client, pool: asyncpg.Pool
) -> None:
    await billing_type(pool, "email")
    await put_source(client, "inbox", kind="mailgun", secret=SIGNING_KEY)
    fields = documented()
    forged = await mailgun_post(client, "inbox", fields, key="key-not-the-signing-key")
    stale = await mailgun_post(client, "inbox", fields, at=time.time() - 301)
    unsigned = await client.post("/sources/inbox/events", data=fields)
    assert (forged.status, stale.status, unsigned.status) == (401, 401, 401)
    assert "stale" in (await stale.json())["error"]["message"]
    at = time.time()
    first = await mailgun_post(client, "inbox", fields, at=at, token="t" * 50)
    assert first.status == 200
    replayed = await mailgun_post(client, "inbox", fields, at=at, token="t" * 50)
    assert replayed.status == 401
    assert "replayed" in (await replayed.json())["error"]["message"]
    # Mailgun posting the same message again (a retry, freshly signed) makes no second task.
    again = await mailgun_post(client, "inbox", fields)
    assert (await again.json())["deliveries"][0]["outcome"] == "duplicate"
    assert await count(pool, "tasks") == 1
    assert await count(pool, "source_rejects") == 0


async def test_a_reply_updates_its_threads_task(client: Client, pool: asyncpg.Pool) -> None:
    await billing_type(pool, "email")
    await put_source(client, "inbox", kind="mailgun", secret=SIGNING_KEY)
    first = {
        "from": "Carla Diaz <carla@example.org>",
        "subject": "Address change",
        "body-plain": "I moved.",
        "Message-Id": "<m1@example.org>",
    }
    made = await (await mailgun_post(client, "inbox", first)).json()
    task_id = made["deliveries"][0]["task_id"]
    reply = {
        **first,
        "subject": "Re: Address change",
        "body-plain": "The new one is 4 Elm Street.",
        "Message-Id": "<m2@example.org>",
        "In-Reply-To": "<m0@blendbot.example>",
        "References": "<m1@example.org> <m0@blendbot.example>",
    }
    updated = await (await mailgun_post(client, "inbox", reply)).json()
    assert (updated["deliveries"][0]["outcome"], updated["deliveries"][0]["task_id"]) == (
        "updated",
        task_id,
    )
    task = await Tasks(pool).one(task_id)
    assert task is not None
    assert task.payload["message_id"] == "<m2@example.org>"
    assert task.payload["references"] == ["<m1@example.org>", "<m0@blendbot.example>"]
    assert "Elm Street" in task.payload["text"]
    other = {**first, "Message-Id": "<m3@example.org>", "subject": "Another matter"}
    assert (await (await mailgun_post(client, "inbox", other)).json())["deliveries"][0][
        "outcome"
    ] == "created"
    assert await count(pool, "tasks") == 2


async def test_a_message_that_cannot_be_mapped_is_kept_and_retried(
    client: Client, pool: asyncpg.Pool
) -> None:
    await put_source(client, "inbox", kind="mailgun", secret=SIGNING_KEY)
    kept = await (await mailgun_post(client, "inbox", documented(), files=[PDF])).json()
    assert kept["deliveries"][0]["outcome"] == "rejected"
    rejects = await (await client.get("/api/v1/sources/inbox/rejects", headers=AUTH)).json()
    reject = rejects["items"][0]
    assert (reject["field"], reject["delivery_id"]) == ("type", BOB)
    await billing_type(pool, "email")
    retried = await client.post(f"/api/v1/sources/inbox/rejects/{reject['id']}/retry", headers=AUTH)
    made = (await retried.json())["deliveries"][0]
    assert made["outcome"] == "created"
    task = await Tasks(pool).one(made["task_id"])
    assert task is not None
    assert task.payload["attachments"][0]["name"] == "statement.pdf"


async def test_a_reply_needs_its_smtp_server(client: Client) -> None:
    response = await client.put(
        "/api/v1/sources/inbox",
        json={"kind": "mailgun", "secret": SIGNING_KEY, "write_back": {"events": ["completed"]}},
        headers=AUTH,
    )
    assert response.status == 422
    assert (await response.json())["error"]["fields"][0]["field"] == "credentials.smtp_host"


@dataclass
class Rig:
    client: Client
    pool: asyncpg.Pool
    smtp: SmtpStandIn
    outbox: WriteBackOutbox
    clock: FixedClock

    async def completed_task(self) -> int:
        at = self.clock.now().timestamp()
        made = await (await mailgun_post(self.client, "inbox", documented(), at=at)).json()
        task_id: int = made["deliveries"][0]["task_id"]
        await take(self.pool, task_id, "ana")
        await Lifecycle(self.pool).complete(task_id, "ana", "answered", "internal: checked CRM")
        return task_id


@pytest.fixture
async def rig(pool: asyncpg.Pool) -> AsyncIterator[Rig]:
    clock = FixedClock(datetime.now(UTC))
    smtp = SmtpStandIn("support@example.com", "smtp-password-0123")
    await smtp.start()
    app = root.http_app(pool, root.Parts(clock=clock), tokens=[TOKEN], run_control=False)
    await billing_type(pool, "email")
    assert app.writebacks is not None
    try:
        async with TestClient(TestServer(app.web)) as client:
            await put_source(
                client,
                "inbox",
                kind="mailgun",
                secret=SIGNING_KEY,
                credentials={
                    "smtp_host": "127.0.0.1",
                    "smtp_port": str(smtp.port),
                    "smtp_tls": "none",
                    "smtp_username": smtp.username,
                    "smtp_password": smtp.password,
                    "from": "Example Support <support@example.com>",
                },
                write_back={
                    "events": ["completed"],
                    "templates": {"completed": "Hello,\n\nDone: $subject (outcome: $outcome).\n"},
                },
            )
            yield Rig(client, pool, smtp, app.writebacks, clock)
    finally:
        await app.writebacks.close()
        await smtp.stop()


async def test_completing_the_task_replies_in_the_thread(rig: Rig) -> None:
    task_id = await rig.completed_task()
    await rig.outbox.drain()
    assert len(rig.smtp.messages) == 1  # the claim is not written back: only completions
    sent = rig.smtp.messages[0]
    assert rig.smtp.envelopes == [("support@example.com", ["bob@example.com"])]
    assert sent["To"] == "bob@example.com"
    assert sent["Subject"] == "Re: Sample POST request"
    assert sent["In-Reply-To"] == BOB
    assert sent["References"] == f"{THREAD} {BOB}"
    assert sent["Message-ID"].startswith("<blendbot-inbox-")
    assert sent["Message-ID"].endswith("@example.com>")
    assert sent["Auto-Submitted"] == "auto-replied"
    body = sent.get_content()
    assert "Done: Re: Sample POST request (outcome: answered)." in body
    assert "internal" not in body  # the agent's note is not sent unless a template asks
    timeline = await (await rig.client.get(f"/api/v1/tasks/{task_id}", headers=AUTH)).json()
    assert timeline["timeline"][-1]["event"] == "written_back"


async def test_an_smtp_outage_is_retried_and_a_refusal_is_final(rig: Rig) -> None:
    await rig.smtp.stop()
    await rig.completed_task()
    await rig.outbox.drain()
    await rig.smtp.start()
    rig.smtp.script = ["451 4.3.0 Try again later"]
    for _ in range(2):
        rig.clock.advance(timedelta(minutes=5))
        await rig.outbox.drain()
    assert len(rig.smtp.messages) == 1
    row = await rig.pool.fetchrow("SELECT status, attempts FROM source_writebacks")
    assert row is not None
    assert (row["status"], row["attempts"]) == ("done", 3)

    new = {**documented(), "Message-Id": "<x@example.com>", "In-Reply-To": "", "References": ""}
    new["message-headers"] = "[]"
    at = rig.clock.now().timestamp()
    made = await (await mailgun_post(rig.client, "inbox", new, at=at)).json()
    task_id = made["deliveries"][0]["task_id"]
    await take(rig.pool, task_id, "ana")
    rig.smtp.script = ["550 5.1.1 Mailbox unavailable"]
    await Lifecycle(rig.pool).complete(task_id, "ana", "answered", None)
    await rig.outbox.drain()
    failed = await rig.pool.fetchrow(
        "SELECT status, last_error FROM source_writebacks WHERE task_id = $1", task_id
    )
    assert failed is not None
    assert failed["status"] == "failed"
    assert "550" in failed["last_error"]

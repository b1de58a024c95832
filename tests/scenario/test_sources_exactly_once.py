"""Write-back exactly once to vendors that take no idempotency key (Jira, Salesforce, Zendesk's
ticket updates, ServiceNow): a retry resumes after the calls the vendor already took, and a
comment whose answer was lost (a 5xx after storing it, a dropped connection, a sender stopped
mid-send) is found by its reference line rather than posted again. The first try makes no
extra read."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot import root
from clock import FixedClock
from queues.lifecycle import Lifecycle
from standins.answers import Answer
from standins.jira import Jira
from standins.salesforce import SalesforceApi
from standins.servicenow import ServiceNow
from standins.zendesk import Zendesk
from task_sources.outbox import OutboxSettings, WriteBackOutbox
from tests.conftest import AUTH, TOKEN
from tests.support.sources import billing_type, put_source, take

SN_RECORD = ("incident", "9d385017c611228701d22104cc95c371")
CASE = "5005e00000ABCdeAAF"


@dataclass
class Vendor:
    kind: str
    external_id: str
    payload: dict[str, Any]
    credentials: dict[str, str]
    write_back: dict[str, Any]
    api: Callable[[], Any]
    comments: Callable[[Any], list[str]]
    """The record's comments (work notes) as the vendor keeps them."""
    completed: Callable[[Any], bool]
    """Whether the record shows the completion's status."""
    reads: Callable[[Any], int]
    before_comment: list[Answer] = field(default_factory=list)
    """Scripted successes of the calls made before the one carrying the comment."""
    after_comment: bool = False
    """Whether a second call follows the comment's (Jira's transition)."""


VENDORS = [
    Vendor(
        "jira",
        "OPS-42",
        {"key": "OPS-42"},
        {"email": "bot@example.com", "api_token": "jira-token"},
        {"events": ["completed"], "transitions": {"completed": "31"}},
        lambda: Jira(issues={"OPS-42": "To Do"}),
        lambda api: api.comments.get("OPS-42", []),
        lambda api: api.issues["OPS-42"] == "Done",
        lambda api: len(api.reads),
        after_comment=True,
    ),
    Vendor(
        "salesforce",
        CASE,
        {"sobject": "Case"},
        {"organization_id": "00D5e000000KQ2eEAG", "client_id": "cid", "client_secret": "cs"},
        {"events": ["completed"]},
        lambda: SalesforceApi("cid", "cs", cases={CASE: {"Status": "New"}}),
        lambda api: [c.body for c in api.comments if c.parent_id == CASE],
        lambda api: api.cases[CASE]["Status"] == "Closed",
        lambda api: len(api.queries),
        before_comment=[Answer(204)],
    ),
    Vendor(
        "zendesk",
        "35436",
        {"ticket_id": "35436"},
        {"email": "agent@example.com", "api_token": "zd-token"},
        {"events": ["completed"]},
        lambda: Zendesk(tickets={"35436": {"status": "open"}}),
        lambda api: [c["body"] for c in api.comments.get("35436", [])],
        lambda api: api.tickets["35436"]["status"] == "solved",
        lambda api: len(api.reads),
    ),
    Vendor(
        "servicenow",
        "INC0010042",
        {"sys_id": SN_RECORD[1], "table": SN_RECORD[0]},
        {"user": "blendbot.integration", "password": "sn-password"},
        {"events": ["completed"]},
        lambda: ServiceNow(records={SN_RECORD: {"state": "2"}}),
        lambda api: list(api.notes),
        lambda api: api.records[SN_RECORD]["state"] == "6",
        lambda api: len(api.reads),
    ),
]


@dataclass
class Rig:
    vendor: Vendor
    pool: asyncpg.Pool
    api: Any
    outbox: WriteBackOutbox
    clock: FixedClock
    task_id: int

    async def complete(self) -> None:
        await take(self.pool, self.task_id, "ana")
        await Lifecycle(self.pool).complete(self.task_id, "ana", "fixed", "all done")

    async def retry(self) -> None:
        """The first try, then the retries the outbox makes over the next minutes."""
        for _ in range(3):
            await self.outbox.drain()
            self.clock.advance(timedelta(minutes=2))

    async def row(self) -> asyncpg.Record:
        found = await self.pool.fetchrow(
            "SELECT status, attempts, idempotency_key, progress FROM source_writebacks"
        )
        assert found is not None
        return found

    def comments(self) -> list[str]:
        return self.vendor.comments(self.api)

    def reads(self) -> int:
        return self.vendor.reads(self.api)


@pytest.fixture(params=VENDORS, ids=[v.kind for v in VENDORS])
async def rig(request: pytest.FixtureRequest, pool: asyncpg.Pool) -> AsyncIterator[Rig]:
    vendor: Vendor = request.param
    clock = FixedClock(datetime.now(UTC).replace(microsecond=0))
    api = vendor.api()
    server = TestServer(api.app())
    await server.start_server()
    app = root.http_app(pool, root.Parts(clock=clock), tokens=[TOKEN], run_control=False)
    await billing_type(pool)
    assert app.writebacks is not None
    outbox = WriteBackOutbox(
        pool,
        app.writebacks.catalog,
        clock=clock,
        settings=OutboxSettings(max_attempts=5),
        hooks=app.writebacks.hooks,
    )
    try:
        async with TestClient(TestServer(app.web)) as client:
            name = f"{vendor.kind}_main"  # a name with "_", a wildcard in LIKE patterns
            await put_source(
                client,
                name,
                kind=vendor.kind,
                secret="vendor-secret-0123456789",
                api_url=str(server.make_url("")).rstrip("/"),
                credentials=vendor.credentials,
                write_back=vendor.write_back,
            )
            task = {
                "source": name,
                "external_id": vendor.external_id,
                "type": "billing",
                "title": "Refund check",
                "payload": vendor.payload,
            }
            made = await client.post("/api/v1/tasks", json=task, headers=AUTH)
            assert made.status == 201, await made.text()
            yield Rig(vendor, pool, api, outbox, clock, (await made.json())["id"])
    finally:
        await outbox.close()
        await app.writebacks.close()
        await server.close()


async def test_the_first_try_makes_one_comment_marked_with_its_key_and_no_read(
    rig: Rig,
) -> None:
    await rig.complete()
    await rig.retry()
    row = await rig.row()
    assert (row["status"], row["attempts"]) == ("done", 1)
    assert rig.vendor.completed(rig.api)
    [comment] = rig.comments()
    assert "completed by ana" in comment
    assert comment.splitlines()[-1] == f"blendbot ref: {row['idempotency_key']}"
    assert rig.reads() == 0


async def test_a_call_failing_once_is_retried_without_repeating_the_comment(rig: Rig) -> None:
    """Jira: the transition fails after the comment went through; Salesforce: the comment
    fails after the status went through; Zendesk and ServiceNow: their one update fails."""
    if rig.vendor.after_comment:
        rig.api.script = [Answer(201), Answer(503)]
    else:
        rig.api.script = [*rig.vendor.before_comment, Answer(503)]
    await rig.complete()
    await rig.retry()
    row = await rig.row()
    assert (row["status"], row["attempts"]) == ("done", 2)
    assert rig.vendor.completed(rig.api)
    assert len(rig.comments()) == 1
    if rig.vendor.after_comment:
        # The comment was recorded as taken: the retry made only the transition, no lookup.
        assert set(row["progress"]) == {"comment", "transition"}
        assert rig.reads() == 0
    else:
        # The call that failed may have been applied (a 503): the retry looked first.
        assert rig.reads() == 1


@pytest.mark.parametrize(
    "lost",
    [Answer(500, applied=True), Answer(502, applied=True, drop=True)],
    ids=["5xx-after-storing", "connection-dropped-after-storing"],
)
async def test_a_comment_stored_whose_answer_was_lost_is_not_posted_again(
    rig: Rig, lost: Answer
) -> None:
    rig.api.script = [*rig.vendor.before_comment, lost]
    await rig.complete()
    await rig.outbox.drain()
    assert len(rig.comments()) == 1  # stored, though the answer said otherwise
    assert (await rig.row())["status"] == "pending"
    await rig.retry()
    row = await rig.row()
    assert (row["status"], row["attempts"]) == ("done", 2)
    assert len(rig.comments()) == 1
    assert rig.vendor.completed(rig.api)
    assert rig.reads() == 1


async def test_a_sender_stopped_mid_send_leaves_one_comment(rig: Rig) -> None:
    """The vendor stored the comment but the sender stopped before its answer came: once the
    lease runs out, another try finds the comment and finishes the write-back."""
    rig.api.script = [*rig.vendor.before_comment, Answer(201, applied=True, wait=1.0)]
    await rig.complete()
    with pytest.raises(TimeoutError):
        await rig.outbox.drain(within=0.5)
    assert len(rig.comments()) == 1
    row = await rig.row()
    assert (row["status"], row["attempts"]) == ("pending", 0)
    rig.clock.advance(timedelta(seconds=rig.outbox.settings.lease_seconds + 1))
    await rig.retry()
    assert (await rig.row())["status"] == "done"
    assert len(rig.comments()) == 1
    assert rig.vendor.completed(rig.api)
    assert rig.reads() == 1


def _jira_newer(api: Any, count: int) -> None:
    api.page_size = 2  # Jira may answer fewer comments than maxResults asks
    api.comments["OPS-42"].extend(f"a colleague's comment {n}" for n in range(count))


def _zendesk_newer(api: Any, count: int) -> None:
    comments = api.comments["35436"]
    comments.extend(
        {"id": 1000 + n, "body": f"reply {n}", "plain_body": f"reply {n}", "public": True}
        for n in range(count)
    )


NEWER: dict[str, tuple[Callable[[Any, int], None], int]] = {
    "jira": (_jira_newer, 3),
    "zendesk": (_zendesk_newer, 120),
}
"""How comments newer than a lost one are added at each vendor read page by page, and how many
push it to the second page."""


@pytest.mark.parametrize(
    "rig", [v for v in VENDORS if v.kind in NEWER], ids=list(NEWER), indirect=True
)
async def test_a_lost_comment_pushed_off_the_first_page_is_still_found(rig: Rig) -> None:
    """Comments added after the lost one (newest first) push it to a later page."""
    newer, count = NEWER[rig.vendor.kind]
    rig.api.script = [Answer(500, applied=True)]
    await rig.complete()
    await rig.outbox.drain()
    newer(rig.api, count)
    await rig.retry()
    assert (await rig.row())["status"] == "done"
    assert sum("blendbot ref:" in c for c in rig.comments()) == 1
    assert rig.reads() == 2  # the first page, then the one holding it

"""Zendesk, Jira Cloud and ServiceNow as task sources: their documented deliveries become tasks,
forged, stale and replayed ones do not, a reject is made a task once its mapping is fixed, a
record closed at the source closes its task or tells its holder, and completing the task
updates the record in the vendor's stand-in, once, through throttling and outages."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer

from bot import root
from bot.slack.context import SlackConfig
from clock import FixedClock
from queues.catalog import Catalog
from queues.lifecycle import Lifecycle
from queues.models import TaskTypeIn
from queues.tasks import Tasks
from standins.answers import Answer
from standins.jira import Jira
from standins.servicenow import ServiceNow
from standins.slack import StandIn
from standins.vendor_api import VendorApi
from standins.zendesk import Zendesk
from task_sources import jira, zendesk
from task_sources.outbox import OutboxSettings, WriteBackOutbox
from tests.conftest import AUTH, TOKEN
from tests.support.slack import BOT_TOKEN, CHANNEL, DANA, SUPERVISOR
from tests.support.slack import SECRET as SLACK_SECRET
from tests.support.sources import put_source, take

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "sources"
SECRET = "vendor-secret-0123456789"


def _fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data


@dataclass
class Vendor:
    kind: str
    fixture: str
    task_type: str
    external_id: str
    api: Callable[[], VendorApi]
    credentials: dict[str, str]
    write_back: dict[str, Any]
    sign: Callable[[bytes, datetime], dict[str, str]]
    closed: Callable[[dict[str, Any]], dict[str, Any]]
    broken: Callable[[dict[str, Any]], dict[str, Any]]
    fix: dict[str, str]
    completed: Callable[[Any], bool]
    """Whether the stand-in shows the record completed (and commented) by blendbot."""
    stale: bool = True
    """Whether the vendor signs a timestamp (so that an old delivery is refused)."""


def _zendesk_sign(body: bytes, at: datetime) -> dict[str, str]:
    stamp = zendesk.timestamp_header(at)
    return {
        "Content-Type": "application/json",
        zendesk.TIMESTAMP_HEADER: stamp,
        zendesk.SIGNATURE_HEADER: zendesk.signature(SECRET, stamp, body),
    }


def _jira_sign(body: bytes, at: datetime) -> dict[str, str]:
    return {"Content-Type": "application/json", jira.SIGNATURE_HEADER: jira.signature(SECRET, body)}


def _servicenow_sign(body: bytes, at: datetime) -> dict[str, str]:
    return {"Content-Type": "application/json", "Authorization": f"Bearer {SECRET}"}


def _zendesk_api() -> VendorApi:
    return Zendesk(tickets={"35436": {"status": "open"}})


def _jira_api() -> VendorApi:
    return Jira(issues={"OPS-42": "To Do"})


def _servicenow_api() -> VendorApi:
    return ServiceNow(records={("incident", "9d385017c611228701d22104cc95c371"): {"state": "1"}})


def _zendesk_done(api: Any) -> bool:
    bodies = [t.body["ticket"] for t in api.taken]
    return (
        api.tickets["35436"]["status"] == "solved"
        and any("completed by ana" in b["comment"]["body"] for b in bodies)
        and all(b["comment"]["public"] is False for b in bodies)
    )


def _jira_done(api: Any) -> bool:
    return api.issues["OPS-42"] == "Done" and any(
        "completed by ana" in c for c in api.comments["OPS-42"]
    )


def _servicenow_done(api: Any) -> bool:
    record = api.records[("incident", "9d385017c611228701d22104cc95c371")]
    return record["state"] == "6" and any("completed by ana" in n for n in api.notes)


VENDORS = [
    Vendor(
        "zendesk",
        "zendesk_ticket.json",
        "zendesk_ticket",
        "35436",
        _zendesk_api,
        {"email": "agent@example.com", "api_token": "zd-token"},
        {},
        _zendesk_sign,
        lambda e: {"ticket": {**e["ticket"], "status": "solved"}},
        lambda e: {"ticket": {k: v for k, v in e["ticket"].items() if k != "title"}},
        {"title": '"Zendesk ticket " + event.ticket.id'},
        _zendesk_done,
    ),
    Vendor(
        "jira",
        "jira_issue_created.json",
        "jira_issue",
        "OPS-42",
        _jira_api,
        {"email": "bot@example.com", "api_token": "jira-token"},
        {"transitions": {"completed": "31"}},
        _jira_sign,
        lambda e: {**e, "webhookEvent": "jira:issue_deleted"},
        lambda e: {**e, "issue": {**e["issue"], "key": None}},
        {"external_id": "event.issue.id", "title": "event.issue.fields.summary"},
        _jira_done,
        stale=False,
    ),
    Vendor(
        "servicenow",
        "servicenow_incident.json",
        "servicenow_incident",
        "INC0010042",
        _servicenow_api,
        {"user": "blendbot.integration", "password": "sn-password"},
        {},
        _servicenow_sign,
        lambda e: {**e, "active": "false", "state": "7", "sys_mod_count": "3"},
        lambda e: {k: v for k, v in e.items() if k != "number"},
        {
            "external_id": "event.sys_id",
            "title": "event.short_description",
            "payload": '{"sys_id": event.sys_id, "table": event.table}',
        },
        _servicenow_done,
        stale=False,
    ),
]


@dataclass
class Rig:
    vendor: Vendor
    client: TestClient[Any, Any]
    pool: asyncpg.Pool
    api: Any
    app: root.App
    clock: FixedClock
    slack: StandIn
    made: list[WriteBackOutbox] = field(default_factory=list)

    async def deliver(
        self, event: dict[str, Any], *, at: datetime | None = None, headers: Any = None
    ) -> ClientResponse:
        body = json.dumps(event).encode()
        signed = headers or self.vendor.sign(body, at or self.clock.now())
        return await self.client.post(
            f"/sources/{self.vendor.kind}-main/events", data=body, headers=signed
        )

    async def outcome(self, event: dict[str, Any]) -> dict[str, Any]:
        response = await self.deliver(event)
        assert response.status == 200, await response.text()
        found: dict[str, Any] = (await response.json())["deliveries"][0]
        return found

    def outbox(self, **settings: Any) -> WriteBackOutbox:
        assert self.app.writebacks is not None
        outbox = WriteBackOutbox(
            self.pool,
            self.app.writebacks.catalog,
            clock=self.clock,
            settings=OutboxSettings(**settings),
            hooks=self.app.writebacks.hooks,
        )
        self.made.append(outbox)
        return outbox


@pytest.fixture(params=VENDORS, ids=[v.kind for v in VENDORS])
async def rig(request: pytest.FixtureRequest, pool: asyncpg.Pool) -> AsyncIterator[Rig]:
    vendor: Vendor = request.param
    clock = FixedClock(datetime.now(UTC).replace(microsecond=0))
    slack = StandIn(token=BOT_TOKEN, channels={CHANNEL}, users={DANA: "Dana", SUPERVISOR: "Sam"})
    slack_api = TestServer(slack.app())
    await slack_api.start_server()
    api = vendor.api()
    api_server = TestServer(api.app())
    await api_server.start_server()
    config = SlackConfig(
        bot_token=BOT_TOKEN,
        signing_secret=SLACK_SECRET,
        api_url=str(slack_api.make_url("/api/")),
        supervisor_channel=CHANNEL,
        supervisors=frozenset({SUPERVISOR}),
        run_outbox=False,
        clock=clock,
    )
    app = root.http_app(
        pool, root.Parts(clock=clock), tokens=[TOKEN], slack=config, run_control=False
    )
    await Catalog(pool).put(
        vendor.task_type, TaskTypeIn(skills=["billing"], sla_minutes=600, handle_minutes=10)
    )
    try:
        async with TestClient(TestServer(app.web)) as client:
            await put_source(
                client,
                f"{vendor.kind}-main",
                kind=vendor.kind,
                secret=SECRET,
                api_url=str(api_server.make_url("")).rstrip("/"),
                credentials=vendor.credentials,
                write_back=vendor.write_back,
            )
            made = Rig(vendor, client, pool, api, app, clock, slack)
            yield made
            for outbox in made.made:
                await outbox.close()
    finally:
        await api_server.close()
        await slack_api.close()


async def test_a_delivery_becomes_a_task_and_its_completion_updates_the_record(rig: Rig) -> None:
    event = _fixture(rig.vendor.fixture)
    made = await rig.outcome(event)
    assert made["outcome"] == "created"
    assert (await rig.outcome(event))["outcome"] == "duplicate"
    task = await Tasks(rig.pool).one(made["task_id"])
    assert task is not None
    assert (task.type, task.external_id) == (rig.vendor.task_type, rig.vendor.external_id)
    await take(rig.pool, task.id, "ana")
    await Lifecycle(rig.pool).complete(task.id, "ana", "fixed", "all done")
    outbox = rig.outbox()
    await outbox.drain()
    assert rig.vendor.completed(rig.api)
    taken = len(rig.api.taken)
    await outbox.drain()
    assert len(rig.api.taken) == taken  # written back once


async def test_forged_stale_and_replayed_deliveries_make_nothing_more(rig: Rig) -> None:
    event = _fixture(rig.vendor.fixture)
    body = json.dumps(event).encode()
    signed = rig.vendor.sign(body, rig.clock.now())
    forged = {**signed}
    for name in forged:
        if name.lower() in ("authorization", "x-hub-signature", "x-zendesk-webhook-signature"):
            forged[name] = forged[name][:-4] + "AAAA"
    assert (await rig.deliver(event, headers=forged)).status == 401
    if rig.vendor.stale:
        old = rig.clock.now() - timedelta(minutes=10)
        assert (await rig.deliver(event, at=old)).status == 401
    assert (await rig.deliver(event, headers=signed)).status == 200
    replayed = await rig.deliver(event, headers=signed)
    assert (await replayed.json())["deliveries"][0]["outcome"] == "duplicate"
    assert await rig.pool.fetchval("SELECT count(*) FROM tasks") == 1
    assert await rig.pool.fetchval("SELECT count(*) FROM source_rejects") == 0


async def test_a_reject_becomes_a_task_once_the_mapping_is_fixed(rig: Rig) -> None:
    broken = rig.vendor.broken(_fixture(rig.vendor.fixture))
    kept = await rig.outcome(broken)
    assert kept["outcome"] == "rejected"
    name = f"{rig.vendor.kind}-main"
    path = f"/api/v1/sources/{name}/rejects/{kept['reject_id']}/retry"
    assert (await rig.client.post(path, headers=AUTH)).status == 422
    await put_source(
        rig.client,
        name,
        kind=rig.vendor.kind,
        mapping=rig.vendor.fix,
        write_back={"events": []},
    )
    retried = await rig.client.post(path, headers=AUTH)
    assert retried.status == 200, await retried.text()
    assert (await retried.json())["deliveries"][0]["outcome"] == "created"


async def test_a_record_closed_at_the_source_closes_its_task_or_tells_its_holder(
    rig: Rig,
) -> None:
    event = _fixture(rig.vendor.fixture)
    first = (await rig.outcome(event))["task_id"]
    assert (await rig.outcome(rig.vendor.closed(event)))["outcome"] == "closed"
    task = await Tasks(rig.pool).one(first)
    assert task is not None
    assert task.status == "cancelled"
    await rig.outbox().drain()
    assert rig.api.taken == []  # the source's own close is not sent back to it


async def test_a_held_task_closed_at_the_source_is_told_to_its_holder(rig: Rig) -> None:
    from queues.models import AgentIn
    from queues.roster import Roster

    await Roster(rig.pool).put(
        "dana", AgentIn(name="Dana", slack_user_id=DANA, skills={"billing": 3})
    )
    event = _fixture(rig.vendor.fixture)
    task_id = (await rig.outcome(event))["task_id"]
    await take(rig.pool, task_id, "dana")
    assert (await rig.outcome(rig.vendor.closed(event)))["outcome"] == "holder_told"
    assert rig.app.slack is not None
    await rig.app.slack.outbox.drain()
    dm = rig.slack.dm_of(DANA)
    texts = [m.text for (channel, _), m in rig.slack.messages.items() if channel == dm]
    assert any("closed or deleted" in t for t in texts)


async def test_an_outage_of_the_vendor_api_is_waited_out_and_nothing_lost(rig: Rig) -> None:
    event = _fixture(rig.vendor.fixture)
    task_id = (await rig.outcome(event))["task_id"]
    await take(rig.pool, task_id, "ana")
    await Lifecycle(rig.pool).complete(task_id, "ana", "fixed", None)
    rig.api.script = [Answer(503), Answer(429, {"Retry-After": "20"}), Answer(502)]
    outbox = rig.outbox(max_attempts=5)
    for _ in range(8):
        await outbox.drain()
        rig.clock.advance(timedelta(seconds=30))
    assert rig.vendor.completed(rig.api)
    statuses = await rig.pool.fetch("SELECT status FROM source_writebacks ORDER BY id")
    assert [r["status"] for r in statuses] == ["done", "done"]

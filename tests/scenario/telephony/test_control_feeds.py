"""A lend sent by each platform's control client comes back through the platform's feed, into
the real app and store, as the agent's presence: ``back_office`` after a lend, ``available``
after a recall. The clients and the feeds' marks are built by the composition root from
settings pointing at the stand-ins."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer
from twilio.request_validator import RequestValidator

from bot import root
from bot.http.feeds import AmiConfig
from bot.http.keys import STORES
from bot.settings import Settings
from clock import FixedClock
from queues.models import AgentIn
from queues.roster import Roster
from standins.amazon_connect import AgentStatus, ConnectStandIn
from standins.asterisk import AmiStandIn, Member, User
from standins.genesys import GenesysStandIn
from standins.twilio import TwilioStandIn, sid
from telephony_adapters.control import Command, ControlClient
from tests.conftest import AUTH, TOKEN

Client = TestClient[Any, Any]
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
PUBLIC = "https://blendbot.example.com"
FIREHOSE_KEY = "firehose-key-0123456789"
KEY, SECRET = "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
CONNECT_USER = "9c1e2d3f-4a5b-4c6d-8e7f-000000000042"
GENESYS_USER = "9ed7d9f6-0c59-4360-ac54-40dd35eb9c2f"
WORKER = sid("WK")
INTERFACE = "PJSIP/dana"


@dataclass
class Platforms:
    connect: ConnectStandIn
    genesys: GenesysStandIn
    twilio: TwilioStandIn
    pbx: AmiStandIn
    settings: Settings
    clients: dict[str, ControlClient]
    app: Client


@pytest.fixture
async def platforms(
    pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> AsyncIterator[Platforms]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_SHARED_CREDENTIALS_FILE": f"{tmp_path}/none",
        "AWS_CONFIG_FILE": f"{tmp_path}/none",
        "AWS_EC2_METADATA_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    connect = ConnectStandIn(
        keys={KEY: SECRET},
        statuses={
            "bo": AgentStatus("Back office", "CUSTOM"),
            "av": AgentStatus("Available", "ROUTABLE"),
        },
        users={CONNECT_USER: "av"},
    )
    genesys = GenesysStandIn(clients={"client": "secret"})
    genesys.define("Back office", "Busy")
    genesys.users = {GENESYS_USER: genesys.named("On Queue").id}
    twilio = TwilioStandIn(auth_token="12345678901234567890123456789012")
    back_office = twilio.activity("Back office", available=False)
    available = twilio.activity("Available", available=True)
    twilio.workers[WORKER] = available.sid
    pbx = AmiStandIn(users={"blendbot": User("s3cret")}, members=[Member("sales", INTERFACE)])
    port = await pbx.start()
    servers = [TestServer(s.app()) for s in (connect, genesys, twilio)]
    for server in servers:
        await server.start_server()
    connect_url, genesys_url, twilio_url = (str(s.make_url("")).rstrip("/") for s in servers)
    settings = Settings(
        _env_file=None,
        public_url=PUBLIC,
        firehose_access_key=FIREHOSE_KEY,
        connect_region=connect.region,
        connect_instance_id=connect.instance_id,
        connect_backoffice_status_id="bo",
        connect_available_status_id="av",
        connect_api_url=connect_url,
        genesys_api_url=genesys_url,
        genesys_login_url=genesys_url,
        genesys_client_id="client",
        genesys_client_secret="secret",
        twilio_account_sid=twilio.account_sid,
        twilio_auth_token=twilio.auth_token,
        twilio_workspace_sid=twilio.workspace_sid,
        twilio_backoffice_activity_sid=back_office.sid,
        twilio_available_activity_sid=available.sid,
        twilio_api_url=twilio_url,
        ami_host="127.0.0.1",
        ami_port=port,
        ami_username="blendbot",
        ami_secret="s3cret",
    )
    wired = root.parts(settings, FixedClock(NOW))
    clients = root.control_clients(settings, marks=wired.feeds.marks)
    ami = AmiConfig("127.0.0.1", port, "blendbot", "s3cret")
    app = root.http_app(pool, wired, tokens=[TOKEN], ami=ami)
    ids = {
        "amazon_connect": connect.agent_arn(CONNECT_USER),
        "genesys": GENESYS_USER,
        "twilio": WORKER,
        "asterisk": INTERFACE,
    }
    for source, external_id in ids.items():
        agent = AgentIn(name=source, telephony_ids={source: external_id})
        await Roster(pool).put(source.replace("_", "-"), agent)
    async with TestClient(TestServer(app.web)) as client:
        yield Platforms(connect, genesys, twilio, pbx, settings, clients, client)
    await root.close_control_clients(clients)
    for server in servers:
        await server.close()
    await pbx.close()


async def presence(app: Client, source: str) -> tuple[str, str]:
    """The state and source of the agent who has only an id in ``source``."""
    agent = source.replace("_", "-")
    body = await (await app.get(f"/api/v1/presence?agent_id={agent}", headers=AUTH)).json()
    (found,) = body["items"]
    return found["state"], found["source"]


def command(state: str, external_id: str) -> Command:
    return Command(f"{state}-{external_id}", "agent", external_id, state, "test")  # type: ignore[arg-type]


async def test_connect_lend_comes_back_through_firehose(platforms: Platforms) -> None:
    p = platforms
    arn = p.connect.agent_arn(CONNECT_USER)
    for state, expected in (("backoffice", "back_office"), ("available", "available")):
        await p.clients["amazon_connect"].send(command(state, arn))
        record = base64.b64encode(json.dumps(p.connect.agent_event(CONNECT_USER, NOW)).encode())
        body = {"requestId": f"r-{state}", "timestamp": 1, "records": [{"data": record.decode()}]}
        response = await p.app.post(
            "/feeds/amazon-connect/firehose",
            json=body,
            headers={"X-Amz-Firehose-Access-Key": FIREHOSE_KEY},
        )
        assert response.status == 200
        assert await presence(p.app, "amazon_connect") == (expected, "amazon_connect")


async def test_twilio_lend_comes_back_through_the_event_callback(platforms: Platforms) -> None:
    p = platforms
    path = "/feeds/twilio/taskrouter"
    for state, expected in (("backoffice", "back_office"), ("available", "available")):
        await p.clients["twilio"].send(command(state, WORKER))
        form = p.twilio.activity_event(WORKER, NOW.timestamp())
        signature = RequestValidator(p.twilio.auth_token).compute_signature(f"{PUBLIC}{path}", form)
        response = await p.app.post(
            path,
            data=urlencode(form),
            headers={
                "X-Twilio-Signature": signature,
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        assert response.status == 204
        assert await presence(p.app, "twilio") == (expected, "twilio")


async def test_genesys_lend_comes_back_with_the_looked_up_presence_id(
    platforms: Platforms,
) -> None:
    p = platforms
    for state, expected in (("backoffice", "back_office"), ("available", "available")):
        await p.clients["genesys"].send(command(state, GENESYS_USER))
        message = p.genesys.notification(GENESYS_USER, NOW)
        off_queue = {
            "topicName": f"v2.users.{GENESYS_USER}.routingStatus",
            "eventBody": {
                "routingStatus": {"status": "OFF_QUEUE", "startTime": "2026-03-02T09:30:00.001Z"}
            },
        }
        response = await p.app.post(
            "/feeds/genesys/events", json=[message, off_queue], headers=AUTH
        )
        assert response.status == 200
        assert await presence(p.app, "genesys") == (expected, "genesys")


async def test_asterisk_lend_comes_back_through_the_ami_feed(
    platforms: Platforms, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The app's own AMI client reads the QueueMemberPause; each batch it stores is signalled.
    p = platforms
    web_app = p.app.app
    assert web_app is not None
    store = web_app[STORES].telemetry
    stored = asyncio.Event()
    record = store.record

    async def signalled(*args: Any, **kwargs: Any) -> Any:
        done = await record(*args, **kwargs)
        stored.set()
        return done

    monkeypatch.setattr(store, "record", signalled)
    for state, expected in (("backoffice", "back_office"), ("available", "available")):
        stored.clear()
        await p.clients["asterisk"].send(command(state, INTERFACE))
        async with asyncio.timeout(5):
            while await presence(p.app, "asterisk") != (expected, "asterisk"):
                await stored.wait()
                stored.clear()

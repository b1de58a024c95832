"""The Amazon Connect control client against the ``PutUserStatus`` stand-in, which checks the
SigV4 signature by recomputing it with botocore, and the agent event stream reading the new
status back."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from aiohttp.test_utils import TestServer
from botocore.credentials import Credentials

from blending.events import AgentStateChanged
from standins.amazon_connect import AgentStatus, ConnectStandIn
from telephony_adapters import amazon_connect
from telephony_adapters.connect_control import ConnectControl, endpoint, user_id
from telephony_adapters.control import Command, Refused, Throttled, Unreachable
from telephony_adapters.marks import StateMarks
from telephony_adapters.ratelimit import TokenBucket

KEY, SECRET = "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
BACK_OFFICE, AVAILABLE = "7f6d1a42-back-office", "0a1b2c3d-available"
USER = "9c1e2d3f-4a5b-4c6d-8e7f-000000000042"


@dataclass
class Connect:
    standin: ConnectStandIn
    url: str

    def client(self, **overrides: object) -> ConnectControl:
        options: dict[str, object] = {
            "region": self.standin.region,
            "instance_id": self.standin.instance_id,
            "backoffice_status_id": BACK_OFFICE,
            "available_status_id": AVAILABLE,
            "api_url": self.url,
            "credentials": Credentials(KEY, SECRET),
            **overrides,
        }
        return ConnectControl(**options)  # type: ignore[arg-type]

    def command(self, state: str, n: int = 1, user: str = USER) -> Command:
        return Command(f"cmd-{n}", "dana", self.standin.agent_arn(user), state, "test")  # type: ignore[arg-type]

    def state_in_feed(self, user: str = USER) -> str:
        marks = StateMarks([BACK_OFFICE], [AVAILABLE])
        (event,) = amazon_connect.parse(self.standin.agent_event(user), marks).events
        assert isinstance(event, AgentStateChanged)
        return event.state


@pytest.fixture
async def connect() -> AsyncIterator[Connect]:
    standin = ConnectStandIn(
        keys={KEY: SECRET, "AKIADENIED": "denied-secret"},
        denied={"AKIADENIED"},
        statuses={
            BACK_OFFICE: AgentStatus("Back office", "CUSTOM"),
            AVAILABLE: AgentStatus("Available", "ROUTABLE"),
        },
        users={USER: AVAILABLE, "other-user": AVAILABLE},
        rate=1000.0,
        burst=1000,
    )
    server = TestServer(standin.app())
    await server.start_server()
    yield Connect(standin, str(server.make_url("")).rstrip("/"))
    await server.close()


async def test_lend_and_recall_are_put_as_documented_and_read_back(connect: Connect) -> None:
    client = connect.client()
    try:
        await client.send(connect.command("backoffice"))
        assert connect.standin.users[USER] == BACK_OFFICE
        assert connect.state_in_feed() == "back_office"
        await client.send(connect.command("available", 2))
        assert connect.state_in_feed() == "available"
    finally:
        await client.close()
    lend, recall = connect.standin.calls
    assert lend.path == f"/users/{connect.standin.instance_id}/{USER}/status"
    assert (lend.status, lend.body) == (200, {"AgentStatusId": BACK_OFFICE})
    assert (recall.status, recall.body) == (200, {"AgentStatusId": AVAILABLE})


async def test_temporary_credentials_sign_their_session_token(connect: Connect) -> None:
    client = connect.client(credentials=Credentials(KEY, SECRET, "session-token-123"))
    try:
        await client.send(connect.command("backoffice"))
    finally:
        await client.close()
    assert connect.standin.calls[-1].status == 200


async def test_credentials_come_from_the_standard_chain(
    connect: Connect, monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", f"{tmp_path}/none")
    monkeypatch.setenv("AWS_CONFIG_FILE", f"{tmp_path}/none")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    client = connect.client(credentials=None)
    try:
        await client.send(connect.command("backoffice"))
    finally:
        await client.close()
    assert connect.standin.calls[-1].status == 200
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    nothing = connect.client(credentials=None)
    with pytest.raises(Refused, match="no AWS credentials"):
        await nothing.send(connect.command("backoffice"))
    await nothing.close()


@pytest.mark.parametrize(
    ("credentials", "error"),
    [
        (Credentials(KEY, "not-the-secret"), "InvalidSignatureException"),
        (Credentials("AKIAUNKNOWN", SECRET), "UnrecognizedClientException"),
        (Credentials("AKIADENIED", "denied-secret"), "AccessDeniedException"),
    ],
)
async def test_what_aws_refuses_is_refused(
    connect: Connect, credentials: Credentials, error: str
) -> None:
    client = connect.client(credentials=credentials)
    try:
        with pytest.raises(Refused, match=error):
            await client.send(connect.command("backoffice"))
    finally:
        await client.close()
    assert connect.standin.users[USER] == AVAILABLE


async def test_a_wrong_region_does_not_sign_for_this_endpoint(connect: Connect) -> None:
    client = connect.client(region="us-east-1")
    try:
        with pytest.raises(Refused, match="InvalidSignatureException"):
            await client.send(connect.command("backoffice"))
    finally:
        await client.close()


async def test_unknown_users_and_statuses_are_refused(connect: Connect) -> None:
    client = connect.client(backoffice_status_id="no-such-status")
    try:
        with pytest.raises(Refused, match="ResourceNotFoundException"):
            await client.send(connect.command("available", user="nobody"))
        with pytest.raises(Refused, match=r"ResourceNotFoundException.*status"):
            await client.send(connect.command("backoffice"))
    finally:
        await client.close()


async def test_throttling_is_retried_later_with_a_growing_wait(connect: Connect) -> None:
    bucket = TokenBucket(1000.0, 10)
    client = connect.client(bucket=bucket, backoff=(0.05, 0.15))
    connect.standin.fail_next(429, "ThrottlingException", times=3)
    waits = []
    try:
        for n in range(3):
            with pytest.raises(Throttled) as caught:
                await client.send(connect.command("backoffice", n))
            waits.append(caught.value.retry_after)
        started = time.monotonic()
        await client.send(connect.command("backoffice", 9))
        # The bucket was held for the last wait before anything else went out.
        assert time.monotonic() - started >= 0.1
        connect.standin.fail_next(429, "ThrottlingException")
        with pytest.raises(Throttled) as again:
            await client.send(connect.command("backoffice", 10))
    finally:
        await client.close()
    assert waits == [0.05, 0.1, 0.15]
    assert again.value.retry_after == 0.05


async def test_server_errors_are_unreachable_and_client_errors_refused(
    connect: Connect,
) -> None:
    client = connect.client()
    connect.standin.fail_next(500, "InternalServiceException")
    connect.standin.fail_next(400, "InvalidRequestException")
    try:
        with pytest.raises(Unreachable, match="InternalServiceException"):
            await client.send(connect.command("backoffice"))
        with pytest.raises(Refused, match="InvalidRequestException"):
            await client.send(connect.command("backoffice"))
    finally:
        await client.close()


async def test_no_answer_is_unreachable() -> None:
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    client = ConnectControl(
        region="eu-west-2",
        instance_id="i",
        backoffice_status_id=BACK_OFFICE,
        available_status_id=AVAILABLE,
        api_url=f"http://127.0.0.1:{port}",
        credentials=Credentials(KEY, SECRET),
    )
    try:
        with pytest.raises(Unreachable):
            await client.send(Command("c", "dana", USER, "backoffice", "test"))
    finally:
        await client.close()


async def test_the_bucket_keeps_a_burst_within_the_account_quota(connect: Connect) -> None:
    connect.standin.rate, connect.standin.burst = 20.0, 6
    client = connect.client(bucket=TokenBucket(20.0, 5))
    started = time.monotonic()
    try:
        await asyncio.gather(*(client.send(connect.command("backoffice", n)) for n in range(25)))
    finally:
        await client.close()
    assert time.monotonic() - started >= (25 - 5) / 20.0 * 0.9
    assert all(call.status == 200 for call in connect.standin.calls)


async def test_without_the_bucket_the_account_quota_throttles(connect: Connect) -> None:
    connect.standin.rate, connect.standin.burst = 20.0, 6
    client = connect.client(bucket=TokenBucket(10_000.0, 1000))
    try:
        outcomes = await asyncio.gather(
            *(client.send(connect.command("backoffice", n)) for n in range(25)),
            return_exceptions=True,
        )
    finally:
        await client.close()
    assert any(isinstance(outcome, Throttled) for outcome in outcomes)
    assert any(call.error == "ThrottlingException" for call in connect.standin.calls)


async def test_success_without_a_change_is_not_read_back_as_one(connect: Connect) -> None:
    connect.standin.no_change = True
    client = connect.client()
    try:
        await client.send(connect.command("backoffice"))
    finally:
        await client.close()
    assert connect.standin.calls[-1].status == 200
    assert connect.state_in_feed() == "available"


def test_the_user_id_is_read_from_the_agent_arn() -> None:
    arn = "arn:aws:connect:eu-west-2:123456789012:instance/i-1/agent/u-42"
    assert user_id(arn) == "u-42"
    assert user_id("u-42") == "u-42"
    assert endpoint("eu-west-2") == "https://connect.eu-west-2.amazonaws.com"

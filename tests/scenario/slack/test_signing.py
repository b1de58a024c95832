"""Requests must be signed by Slack, recently: anything else gets 401 and changes nothing."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

import pytest

from tests.support.raw_http import raw_request
from tests.support.slack import (
    DANA,
    Harness,
    action_payload,
    command_payload,
    seed,
    signed_headers,
)


async def _claim_body(slack: Harness, task_id: int) -> str:
    payload = action_payload(DANA, "claim", str(task_id), block_id=f"offer:{task_id}")
    return urlencode({"payload": json.dumps(payload)})


async def test_forged_and_stale_requests_get_401_and_change_nothing(slack: Harness) -> None:
    (task_id,) = await seed(slack.pool)
    await slack.command(DANA, "next")
    await slack.drain()
    posted = len(slack.standin.calls)
    body = await _claim_body(slack, task_id)
    forged = await slack.send(body, "application/x-www-form-urlencoded", secret="not-the-secret")
    stale = await slack.send(body, "application/x-www-form-urlencoded", at=time.time() - 6 * 60)
    unsigned = await slack.client.post(
        "/slack/events", data=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert (forged.status, stale.status, unsigned.status) == (401, 401, 401)
    await slack.drain()
    status = await slack.pool.fetchval("SELECT status FROM tasks WHERE id = $1", task_id)
    assert status == "offered"
    assert len(slack.standin.calls) == posted
    events = await slack.pool.fetchval("SELECT count(*) FROM task_events WHERE event = 'claimed'")
    assert events == 0
    genuine = await slack.send(body, "application/x-www-form-urlencoded")
    assert genuine.status == 200
    status = await slack.pool.fetchval("SELECT status FROM tasks WHERE id = $1", task_id)
    assert status == "in_progress"


UNSIGNED_BODIES = [
    ("malformed JSON", "application/json", '{"type": "event_callback", '),
    ("nested 5,000 deep", "application/json", '{"a":' * 5000 + "1" + "}" * 5000),
    ("payload not JSON", "application/x-www-form-urlencoded", "payload=%7Bnot+json"),
    ("not UTF-8", "application/x-www-form-urlencoded", "payload=\udcff"),
]


@pytest.mark.parametrize(
    ("content_type", "body"),
    [c[1:] for c in UNSIGNED_BODIES],
    ids=[c[0] for c in UNSIGNED_BODIES],
)
async def test_an_unsigned_request_is_401_before_its_body_is_read(
    slack: Harness, content_type: str, body: str
) -> None:
    """Bolt parsed the body before checking the signature: a malformed one was a 500."""
    raw = body.encode("utf-8", "surrogateescape")
    unsigned = await slack.client.post(
        "/slack/events", data=raw, headers={"Content-Type": content_type}
    )
    assert unsigned.status == 401
    forged = await slack.client.post(
        "/slack/events",
        data=raw,
        headers={
            "Content-Type": content_type,
            **signed_headers(raw.decode("latin-1"), secret="wrong"),
        },
    )
    assert forged.status == 401


@pytest.mark.parametrize(
    "timestamp", [b"yesterday", b"1e9", b"\xd9\xa1\xd9\xa2", b"-5", b"", b"9" * 40]
)
async def test_a_timestamp_that_is_not_a_number_is_401(slack: Harness, timestamp: bytes) -> None:
    body = urlencode(command_payload(DANA, "help")).encode()
    status, _ = await raw_request(
        slack.client,
        "POST",
        "/slack/events",
        [
            b"Content-Type: application/x-www-form-urlencoded",
            b"X-Slack-Request-Timestamp: " + timestamp,
            b"X-Slack-Signature: v0=" + b"0" * 64,
        ],
        body,
    )
    assert status == 401


async def test_a_signature_with_non_ascii_bytes_is_401(slack: Harness) -> None:
    body = urlencode(command_payload(DANA, "help")).encode()
    headers = signed_headers(body.decode())
    status, _ = await raw_request(
        slack.client,
        "POST",
        "/slack/events",
        [
            b"Content-Type: application/x-www-form-urlencoded",
            b"X-Slack-Request-Timestamp: " + headers["X-Slack-Request-Timestamp"].encode(),
            b"X-Slack-Signature: " + headers["X-Slack-Signature"].encode() + b"\xff",
        ],
        body,
    )
    assert status == 401


SIGNED_BODIES = [
    ("payload not JSON", "application/x-www-form-urlencoded", "payload=%7Bnot+json"),
    ("payload a list", "application/x-www-form-urlencoded", "payload=%5B1%5D"),
    ("payload nested 5,000 deep", "application/x-www-form-urlencoded", "payload=" + "%5B" * 5000),
    ("event nested 5,000 deep", "application/json", '{"a":' * 5000 + "1" + "}" * 5000),
    ("event with a 5,000-digit integer", "application/json", '{"a": ' + "9" * 5000 + "}"),
    ("event not JSON", "application/json", '{"type": "event_callback", '),
]


@pytest.mark.parametrize(
    ("content_type", "body"),
    [c[1:] for c in SIGNED_BODIES],
    ids=[c[0] for c in SIGNED_BODIES],
)
async def test_a_signed_body_that_is_not_json_is_400(
    slack: Harness, content_type: str, body: str
) -> None:
    response = await slack.send(body, content_type)
    assert response.status == 400, await response.text()
    assert "malformed body" in (await response.json())["error"]

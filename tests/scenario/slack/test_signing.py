"""Requests must be signed by Slack, recently: anything else gets 401 and changes nothing."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

from tests.support.slack import DANA, Harness, action_payload, seed


def test_signatures_are_made_as_slack_documents() -> None:
    body = (
        "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id="
        "G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook"
        "-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F3977"
        "00885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10"
        "d2c447fce8b6703c"
    )
    signature = SignatureVerifier("8f742231b10e8888abcd99yyyzzz85a5").generate_signature(
        timestamp="1531420618", body=body
    )
    assert signature == "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"


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

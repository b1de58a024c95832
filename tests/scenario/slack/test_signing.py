"""Requests must be signed by Slack, recently: anything else gets 401 and changes nothing."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

from tests.support.slack import DANA, Harness, action_payload, seed


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

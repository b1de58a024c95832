"""``/blend task``: the payload fields a task type marks shareable, and never any other."""

from __future__ import annotations

import json

from bot.root import load_sample
from tests.conftest import AUTH
from tests.support.factories import task, task_type
from tests.support.slack import BEN, DANA, Harness


async def _put(slack: Harness, path: str, body: dict[str, object]) -> None:
    response = await slack.client.put(path, json=body, headers=AUTH)
    assert response.status in (200, 201), await response.text()


async def test_lookup_shows_shareable_fields_and_never_the_others(slack: Harness) -> None:
    await _put(
        slack,
        "/api/v1/task-types/billing_correction",
        task_type(skills=["billing"], shareable_fields=["currency", "amount", "branch", "steps"]),
    )
    await _put(slack, "/api/v1/task-types/card_dispute", task_type(skills=["cards"]))
    payload = {
        "amount": 14.9,
        "currency": "<ILS>",
        "steps": ["refund", "letter"],
        "card_number": "4111 1111 1111 1111",
        "note": "customer was rude",
    }
    ids = []
    for body in (
        task("BIL-1", type="billing_correction", customer_ref="CUST-7", payload=payload),
        task("DSP-1", type="card_dispute", customer_ref="CUST-7", payload={"pin": "9876"}),
    ):
        response = await slack.client.post("/api/v1/tasks", json=body, headers=AUTH)
        assert response.status == 201, await response.text()
        ids.append((await response.json())["id"])

    reply = await slack.command(BEN, "task CUST-7")
    assert reply.get("response_type", "ephemeral") == "ephemeral"
    shown = json.dumps(reply)
    billing = next(b for b in reply["blocks"] if "*currency*" in json.dumps(b))
    assert [f["text"] for f in billing["fields"]] == [
        "*currency*\n&lt;ILS&gt;",
        "*amount*\n14.9",
        '*steps*\n["refund","letter"]',
    ]
    # Only what the type lists, in its order; a listed key the payload lacks is skipped.
    assert "branch" not in shown
    for hidden in ("4111", "card_number", "rude", "note", "9876", "pin"):
        assert hidden not in shown
    by_id = await slack.command(DANA, f"task {ids[1]}")
    assert f"Task #{ids[1]}" in by_id["text"]
    assert "9876" not in json.dumps(by_id)
    assert len(by_id["blocks"]) == 1  # the dispute type shares nothing: no details section


async def test_sample_task_types_share_what_an_agent_may_say(slack: Harness) -> None:
    await load_sample(slack.pool)
    shown = json.dumps(await slack.command(BEN, "task CUST-88"))
    assert "*branch*\\nHaifa" in shown
    assert "*amount*\\n14.9" in shown
    assert "*currency*\\nILS" in shown

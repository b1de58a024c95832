"""``/blend task``: found by what the customer quotes, for people on the roster only, every
lookup audited; the payload fields a task type marks shareable, and never any other."""

from __future__ import annotations

import json

from bot.root import load_sample
from tests.conftest import AUTH
from tests.support.factories import agent, task, task_type
from tests.support.slack import BEN, DANA, SUPERVISOR, Harness, seed

STRANGER = "U0STRANGER1"


async def _put(slack: Harness, path: str, body: dict[str, object]) -> None:
    response = await slack.client.put(path, json=body, headers=AUTH)
    assert response.status in (200, 201), await response.text()


async def _on_roster(slack: Harness) -> None:
    for agent_id, user in (("ben", BEN), ("dana", DANA)):
        body = agent(slack_user_id=user, name=agent_id, telephony_ids={})
        await _put(slack, f"/api/v1/agents/{agent_id}", body)


async def test_lookup_shows_shareable_fields_and_never_the_others(slack: Harness) -> None:
    await _on_roster(slack)
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
    await _on_roster(slack)
    shown = json.dumps(await slack.command(BEN, "task CUST-88"))
    assert "*branch*\\nHaifa" in shown
    assert "*amount*\\n14.9" in shown
    assert "*currency*\\nILS" in shown


async def test_found_by_id_customer_ref_or_the_sources_id(slack: Harness) -> None:
    await seed(slack.pool, 2)
    first = await slack.pool.fetchval("SELECT id FROM tasks WHERE customer_ref = 'CUST-0'")
    second = await slack.pool.fetchval("SELECT id FROM tasks WHERE customer_ref = 'CUST-1'")
    for query in (str(first), f"#{first}", "CUST-0", "B-0"):
        reply = await slack.command(DANA, f"task {query}")
        assert reply["text"].startswith(f"Task #{first}:"), (query, reply["text"])
        assert f"#{second} " not in json.dumps(reply)
    missing = await slack.command(DANA, "task APP-404")
    assert missing["text"] == "No task found for `APP-404`."
    usage = await slack.command(DANA, "task")
    assert "customer ref or source id" in usage["text"]


async def test_many_matches_show_the_newest_five_and_say_so(slack: Harness) -> None:
    await seed(slack.pool, 7)
    await slack.pool.execute("UPDATE tasks SET customer_ref = 'CUST-MANY'")
    reply = await slack.command(DANA, "task CUST-MANY")
    shown = json.dumps(reply)
    assert shown.count("Refund check") == 5
    assert "More than 5 tasks match; the newest are shown." in shown
    (row,) = await slack.pool.fetch("SELECT found FROM task_lookups")
    assert len(row["found"]) == 5


async def test_the_likely_end_comes_with_its_basis(slack: Harness) -> None:
    (task_id,) = await seed(slack.pool)
    shown = json.dumps(await slack.command(BEN, f"task {task_id}"))
    assert "*Likely done*\\n<!date^" in shown
    assert "no forecast of spare agent time yet" in shown


async def test_people_off_the_roster_are_refused_politely_and_audited(slack: Harness) -> None:
    (task_id,) = await seed(slack.pool)
    await slack.pool.execute("DELETE FROM agents WHERE slack_user_id = $1", SUPERVISOR)
    refused = await slack.command(STRANGER, "task CUST-0")
    assert refused["text"].startswith("Sorry, task lookups are for agents on the roster")
    assert "Refund" not in json.dumps(refused)
    supervisor = await slack.command(SUPERVISOR, "task CUST-0")  # not on the roster
    assert supervisor["text"].startswith(f"Task #{task_id}")
    await slack.command(BEN, "task nothing-like-it")
    rows = await slack.pool.fetch(
        "SELECT surface, actor, query, allowed, found FROM task_lookups ORDER BY id"
    )
    assert [(r["surface"], r["actor"], r["allowed"], r["found"]) for r in rows] == [
        ("slack", STRANGER, False, []),
        ("slack", SUPERVISOR, True, [task_id]),
        ("slack", BEN, True, []),
    ]
    assert rows[0]["query"] == {"q": "CUST-0"}
    assert rows[2]["query"] == {"q": "nothing-like-it", "agent_id": "ben"}

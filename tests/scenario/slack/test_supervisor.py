"""A supervisor from escalation to reassignment; commands; authorization with audit."""

from __future__ import annotations

import pytest

from tests.support.slack import BEN, CHANNEL, DANA, SUPERVISOR, Harness, seed


async def _escalated(slack: Harness) -> int:
    (task_id,) = await seed(slack.pool)
    await slack.command(DANA, "next")
    await slack.click(DANA, "claim", str(task_id), block_id=f"offer:{task_id}")
    await slack.click(DANA, "escalate", str(task_id), block_id=f"work:{task_id}")
    (opened,) = slack.standin.calls_to("views.open", ok=True)
    assert opened.args["view"]["callback_id"] == "escalate"
    empty = await slack.submit(
        DANA, "escalate", {"task": task_id}, {"reason": {"value": {"value": "  "}}}
    )
    assert (await empty.json())["response_action"] == "errors"
    response = await slack.submit(
        DANA,
        "escalate",
        {"task": task_id},
        {"reason": {"value": {"type": "plain_text_input", "value": "customer disputes fee"}}},
    )
    assert response.status == 200
    await slack.drain()
    return task_id


def _post(slack: Harness) -> dict[str, object]:
    (message,) = [m for (c, _), m in slack.standin.messages.items() if c == CHANNEL]
    return {"ts": message.ts, "text": message.text, "blocks": message.blocks}


async def test_escalation_to_reassignment(slack: Harness) -> None:
    task_id = await _escalated(slack)
    post = _post(slack)
    assert "customer disputes fee" in str(post["text"])
    assert "esc_reassign" in str(post["blocks"])
    # An agent who is not a supervisor cannot reassign: denied and audited.
    reassign = {"selected_user": BEN, "type": "users_select"}
    await slack.click(
        DANA,
        "esc_reassign",
        None,
        block_id=f"escalation:{task_id}",
        channel=CHANNEL,
        ts=str(post["ts"]),
        extra=reassign,
    )
    assert await slack.pool.fetchval("SELECT status FROM tasks WHERE id=$1", task_id) == "escalated"
    await slack.click(
        SUPERVISOR,
        "esc_reassign",
        None,
        block_id=f"escalation:{task_id}",
        channel=CHANNEL,
        ts=str(post["ts"]),
        extra=reassign,
    )
    row = await slack.pool.fetchrow("SELECT status, holder FROM tasks WHERE id=$1", task_id)
    assert row is not None
    assert (row["status"], row["holder"]) == ("in_progress", "ben")
    audit = await slack.pool.fetch("SELECT user_id, action, allowed FROM slack_audit ORDER BY id")
    assert [(a["user_id"], a["allowed"]) for a in audit] == [(DANA, False), (SUPERVISOR, True)]
    await slack.drain()
    closed = _post(slack)
    assert closed["ts"] == post["ts"]
    assert "Reassigned to Ben Ito" in str(closed["text"])
    (ben_card,) = slack.card(BEN)
    assert "complete" in str(ben_card["blocks"])
    denied = [c for c in slack.standin.calls_to("chat.postEphemeral") if c.args["user"] == DANA]
    assert "Only supervisors" in denied[0].args["text"]


@pytest.mark.parametrize(
    ("action", "status", "holder"),
    [
        ("esc_requeue", "queued", None),
        ("esc_cancel", "cancelled", None),
        ("esc_takeover", "in_progress", "sam"),
    ],
)
async def test_escalation_buttons(
    slack: Harness, action: str, status: str, holder: str | None
) -> None:
    task_id = await _escalated(slack)
    await slack.click(
        SUPERVISOR,
        action,
        str(task_id),
        block_id=f"escalation:{task_id}",
        channel=CHANNEL,
        ts=str(_post(slack)["ts"]),
    )
    row = await slack.pool.fetchrow("SELECT status, holder FROM tasks WHERE id=$1", task_id)
    assert row is not None
    assert (row["status"], row["holder"]) == (status, holder)
    await slack.drain()
    assert len(slack.standin.calls_to("chat.postMessage")) == 2 + (holder == "sam")


async def test_supervisor_commands_and_denials(slack: Harness) -> None:
    (task_id,) = await seed(slack.pool, 1)
    denied = await slack.command(DANA, "status")
    assert "for supervisors" in denied["text"]
    status = await slack.command(SUPERVISOR, "status")
    assert "queued: *1*" in str(status["blocks"])
    backlog = await slack.command(SUPERVISOR, "backlog billing")
    assert "`billing` 1 open" in str(backlog["blocks"])
    agents = await slack.command(SUPERVISOR, "agents")
    assert "Dana Levi" in str(agents["blocks"])
    boost = await slack.command(SUPERVISOR, "priority boost billing +30 for 4h reason month-end")
    assert "+30" in boost["text"]
    rules = await slack.command(SUPERVISOR, "priority list")
    assert "slack-boost-billing" in str(rules["blocks"])
    author = await slack.pool.fetchval("SELECT author FROM priority_rules")
    assert author == SUPERVISOR
    cleared = await slack.command(SUPERVISOR, "priority clear billing")
    assert "cleared" in cleared["text"]
    bad = await slack.command(SUPERVISOR, 'priority boost "x" +30')
    assert "Usage" in bad["text"]
    assigned = await slack.command(SUPERVISOR, f"assign {task_id} <@{BEN}|ben>")
    assert "Ben Ito" in assigned["text"]
    await slack.drain()
    assert "complete" in str(slack.card(BEN)[0]["blocks"])
    audit = await slack.pool.fetchval("SELECT count(*) FROM slack_audit WHERE NOT allowed")
    assert audit == 1
    helps = await slack.command(DANA, "help"), await slack.command(SUPERVISOR, "help")
    assert "priority" not in str(helps[0]["blocks"])
    assert "priority" in str(helps[1]["blocks"])


async def test_task_lookup_is_ephemeral_and_hides_payload(slack: Harness) -> None:
    (task_id,) = await seed(slack.pool)
    await slack.command(DANA, "next")
    await slack.click(DANA, "claim", str(task_id), block_id=f"offer:{task_id}")
    reply = await slack.command(BEN, "task CUST-0")
    assert reply.get("response_type", "ephemeral") == "ephemeral"
    text = str(reply["blocks"])
    assert "Dana" in text
    assert "Levi" not in text
    assert "4111" not in text
    by_id = await slack.command(BEN, f"task {task_id}")
    assert f"#{task_id}" in by_id["text"]
    missing = await slack.command(BEN, "task NOPE-1")
    assert "No task found" in missing["text"]


async def test_group_membership_unknown_denies_then_sync_allows(slack: Harness) -> None:
    supervisors = slack.slack.context.supervisors
    from bot.slack.auth import Supervisors
    from bot.slack.store import SlackStore

    client = slack.slack.context.client
    group = Supervisors(SlackStore(slack.pool), client, frozenset(), "S0SUPERS")
    assert not await group.allows(SUPERVISOR)
    assert await group.sync() == 1
    assert await group.allows(SUPERVISOR)
    assert not await group.allows(DANA)
    assert await supervisors.allows(SUPERVISOR)
    unknown = Supervisors(
        SlackStore(slack.pool), slack.slack.context.client, frozenset(), "S0MISSING"
    )
    assert await unknown.sync() is None
    assert not await unknown.allows(SUPERVISOR)

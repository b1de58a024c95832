"""The real-time guard holds on Slack: `/blend next` and the App Home button refuse with the
reason while the agent's group is held or recalled, and a supervisor's reassignment needs an
explicit override, which is audited."""

from __future__ import annotations

import asyncpg

from tests.support.slack import BEN, CHANNEL, DANA, SUPERVISOR, Harness, seed


async def _guard(pool: asyncpg.Pool, mode: str, reason: str) -> None:
    """Dana and Ben answer no named queue: their staffing group is the pooled one."""
    await pool.execute(
        "INSERT INTO blending_guard (grp, mode, since, reason) VALUES ('all queues', $1, now(), $2)"
        " ON CONFLICT (grp) DO UPDATE SET mode = excluded.mode, reason = excluded.reason",
        mode,
        reason,
    )


def _ephemerals(slack: Harness, user: str) -> list[str]:
    return [
        str(c.args.get("text"))
        for c in slack.standin.calls_to("chat.postEphemeral", ok=True)
        if c.args.get("user") == user
    ]


async def test_blend_next_and_the_home_button_are_refused_while_the_guard_holds(
    slack: Harness,
) -> None:
    (task_id,) = await seed(slack.pool)
    await _guard(slack.pool, "hold", "3 calls waiting: offers on hold")
    reply = await slack.command(DANA, "next")
    assert "3 calls waiting: offers on hold in all queues" in reply["text"]
    assert "ask again when the queue is calm" in reply["text"]

    await _guard(slack.pool, "recall", "calls are rising: 4 calls waiting")
    assert await slack.click(BEN, "next", None, block_id="home") == 200
    await slack.drain()
    (notice,) = _ephemerals(slack, BEN)
    assert "calls are rising: 4 calls waiting in all queues: the phones need you" in notice
    assert await slack.pool.fetchval("SELECT status FROM tasks WHERE id = $1", task_id) == "queued"
    assert slack.card(DANA) == []
    assert slack.card(BEN) == []

    await _guard(slack.pool, "open", "")
    reply = await slack.command(DANA, "next")
    assert f"Task #{task_id} is waiting for you" in reply["text"]


async def _escalated(slack: Harness) -> int:
    (task_id,) = await seed(slack.pool)
    await slack.command(DANA, "next")
    await slack.click(DANA, "claim", str(task_id), block_id=f"offer:{task_id}")
    await slack.pool.execute(
        "UPDATE tasks SET status = 'escalated' WHERE id = $1", task_id
    )  # as an escalation leaves it; the escalation flow has its own tests
    return task_id


async def test_a_reassignment_while_the_guard_recalls_needs_an_override_and_is_audited(
    slack: Harness,
) -> None:
    task_id = await _escalated(slack)
    await _guard(slack.pool, "recall", "calls are rising: 5 calls waiting")

    # The escalation card's picker cannot override: it says why and how.
    await slack.click(
        SUPERVISOR,
        "esc_reassign",
        None,
        block_id=f"escalation:{task_id}",
        channel=CHANNEL,
        extra={"selected_user": BEN, "type": "users_select"},
    )
    await slack.drain()
    (notice,) = _ephemerals(slack, SUPERVISOR)
    assert "calls are rising: 5 calls waiting in all queues" in notice
    assert f"/blend assign {task_id} @agent override" in notice
    assert (
        await slack.pool.fetchval("SELECT status FROM tasks WHERE id = $1", task_id) == "escalated"
    )

    refused = await slack.command(SUPERVISOR, f"assign {task_id} <@{BEN}>")
    assert "Not now" in refused["text"]
    assert (
        await slack.pool.fetchval("SELECT status FROM tasks WHERE id = $1", task_id) == "escalated"
    )

    given = await slack.command(SUPERVISOR, f"assign {task_id} <@{BEN}> override")
    assert f"Task #{task_id} is now with Ben Ito" in given["text"]
    row = await slack.pool.fetchrow("SELECT status, holder FROM tasks WHERE id = $1", task_id)
    assert row is not None
    assert (row["status"], row["holder"]) == ("in_progress", "ben")
    event = await slack.pool.fetchrow(
        "SELECT actor, reason FROM task_events WHERE task_id = $1 AND event = 'reassigned'",
        task_id,
    )
    assert event is not None
    assert event["actor"] == "sam"
    assert "override of the guard (recall in all queues" in event["reason"]
    audit = await slack.pool.fetch(
        "SELECT action, allowed, detail FROM slack_audit WHERE user_id = $1 ORDER BY id",
        SUPERVISOR,
    )
    override = [a for a in audit if a["action"] == "assign override"]
    assert len(override) == 1
    assert override[0]["allowed"]
    assert override[0]["detail"] == {"task": task_id, "agent": "ben"}

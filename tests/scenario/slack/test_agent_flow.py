"""An agent from offer to done, entirely through signed Slack requests."""

from __future__ import annotations

import asyncio

from tests.support.slack import BEN, DANA, Harness, seed


def _actions(blocks: list[dict[str, object]]) -> list[str]:
    return [
        str(e["action_id"])
        for b in blocks
        if b["type"] == "actions"
        for e in b["elements"]  # type: ignore[attr-defined]
    ]


async def test_offer_claim_complete_updates_one_message_in_place(slack: Harness) -> None:
    (task_id,) = await seed(slack.pool)
    reply = await slack.command(DANA, "next")
    assert f"#{task_id}" in reply["text"]
    await slack.drain()
    (offer,) = slack.card(DANA)
    assert _actions(offer["blocks"]) == ["claim", "skip"]
    assert "Why you" in str(offer["blocks"])
    assert slack.standin.calls_to("conversations.open", ok=True)

    assert (
        await slack.click(DANA, "claim", str(task_id), block_id=f"offer:{task_id}", ts=offer["ts"])
        == 200
    )
    # The state change is committed when the ack arrives.
    status = await slack.pool.fetchval("SELECT status FROM tasks WHERE id = $1", task_id)
    assert status == "in_progress"
    await slack.drain()
    (card,) = slack.card(DANA)
    assert card["ts"] == offer["ts"]
    assert card["updates"] == 1
    assert _actions(card["blocks"]) == ["complete", "pause", "release", "escalate"]

    await slack.click(DANA, "complete", str(task_id), block_id=f"work:{task_id}", ts=card["ts"])
    (opened,) = slack.standin.calls_to("views.open", ok=True)
    view = opened.args["view"]
    assert view["callback_id"] == "complete"
    response = await slack.submit(
        DANA,
        "complete",
        {"task": task_id, "ref": None},
        {
            "outcome": {
                "value": {"type": "static_select", "selected_option": {"value": "Resolved"}}
            },
            "note": {"value": {"type": "plain_text_input", "value": "refunded 12.50"}},
        },
    )
    assert response.status == 200
    row = await slack.pool.fetchrow(
        "SELECT status, (SELECT data->>'outcome' FROM task_events WHERE task_id = $1 "
        "AND event = 'completed') AS outcome FROM tasks WHERE id = $1",
        task_id,
    )
    assert row is not None
    assert (row["status"], row["outcome"]) == ("done", "Resolved")
    await slack.drain()
    (final,) = slack.card(DANA)
    assert final["ts"] == offer["ts"]
    assert "Done: Resolved" in final["text"]
    assert _actions(final["blocks"]) == []
    assert len(slack.standin.calls_to("chat.postMessage")) == 1


async def test_pause_resume_release_and_skip(slack: Harness) -> None:
    first, second = await seed(slack.pool, 2)
    await slack.command(DANA, "next")
    offered = await slack.pool.fetchval("SELECT id FROM tasks WHERE holder = 'dana'")
    await slack.click(DANA, "claim", str(offered), block_id=f"offer:{offered}")
    await slack.click(DANA, "pause", str(offered), block_id=f"work:{offered}")
    assert await slack.pool.fetchval("SELECT status FROM tasks WHERE id=$1", offered) == "paused"
    await slack.click(DANA, "resume", str(offered), block_id=f"paused:{offered}")
    await slack.click(DANA, "release", str(offered), block_id=f"work:{offered}")
    assert await slack.pool.fetchval("SELECT status FROM tasks WHERE id=$1", offered) == "queued"
    await slack.drain()
    texts = [m["text"] for m in slack.card(DANA)]
    assert any("Released" in t for t in texts)

    await slack.command(BEN, "next")
    ben_task = await slack.pool.fetchval("SELECT id FROM tasks WHERE holder = 'ben'")
    await slack.click(BEN, "skip", str(ben_task), block_id=f"offer:{ben_task}")
    (opened,) = slack.standin.calls_to("views.open", ok=True)
    assert opened.args["view"]["callback_id"] == "skip"
    await slack.submit(
        BEN,
        "skip",
        {"task": ben_task},
        {"reason": {"value": {"selected_option": {"value": "Not my skill"}}}},
    )
    assert await slack.pool.fetchval("SELECT status FROM tasks WHERE id=$1", ben_task) == "queued"
    reason = await slack.pool.fetchval(
        "SELECT reason FROM task_events WHERE task_id=$1 AND event='skipped'", ben_task
    )
    assert reason == "Not my skill"
    assert {first, second} >= {offered, ben_task}


async def test_twenty_simultaneous_claims_one_winner_others_told_who(slack: Harness) -> None:
    (task_id,) = await seed(slack.pool)
    await slack.command(DANA, "next")
    others = [f"U0RIVAL{n:04d}" for n in range(19)]
    from queues.models import AgentIn
    from queues.roster import Roster

    for n, user in enumerate(others):
        await Roster(slack.pool).put(f"rival{n}", AgentIn(name=f"Rival {n}", slack_user_id=user))
    clickers = [DANA, *others]
    statuses = await asyncio.gather(
        *(
            slack.click(
                u, "claim", str(task_id), block_id=f"offer:{task_id}", ts=f"1700000000.{i:06d}"
            )
            for i, u in enumerate(clickers)
        )
    )
    assert statuses == [200] * 20
    claimed = await slack.pool.fetch("SELECT actor FROM task_events WHERE event = 'claimed'")
    assert [r["actor"] for r in claimed] == ["dana"]
    await slack.drain()
    for user in others:
        (card,) = [m for m in slack.card(user)]
        assert "Dana has this task now" in card["text"]
        assert _actions(card["blocks"]) == []


async def test_lapsed_offer_and_not_on_roster(slack: Harness) -> None:
    (task_id,) = await seed(slack.pool)
    await slack.command(DANA, "next")
    await slack.pool.execute(
        "UPDATE tasks SET offer_expires_at = now() - interval '1 second' WHERE id = $1", task_id
    )
    await slack.click(DANA, "claim", str(task_id), block_id=f"offer:{task_id}")
    await slack.drain()
    texts = [m["text"] for m in slack.card(DANA)]
    assert any("lapsed" in t for t in texts)
    await slack.click("U0STRANGER", "claim", str(task_id), block_id=f"offer:{task_id}")
    await slack.drain()
    (ephemeral,) = [
        c
        for c in slack.standin.calls_to("chat.postEphemeral", ok=True)
        if c.args["user"] == "U0STRANGER"
    ]
    assert "not on the roster" in ephemeral.args["text"]

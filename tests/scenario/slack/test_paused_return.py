"""Paused work that is not resumed goes back by itself: its holder is told in Slack, and the
next holder sees what was left for them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from queues.lifecycle import Lifecycle
from queues.timers import TimerSettings, run_timers
from tests.support.slack import BEN, CHANNEL, DANA, Harness, seed


async def _paused_an_hour_ago(slack: Harness, task_id: int) -> None:
    await slack.pool.execute(
        "UPDATE tasks SET paused_at = now() - interval '61 minutes' WHERE id = $1", task_id
    )


async def test_paused_work_goes_back_and_the_next_holder_sees_the_note(slack: Harness) -> None:
    (task_id,) = await seed(slack.pool)
    await slack.command(DANA, "next")
    await slack.click(DANA, "claim", str(task_id), block_id=f"offer:{task_id}")
    await slack.pool.execute(
        "UPDATE tasks SET active_since = now() - interval '5 minutes' WHERE id = $1", task_id
    )
    await Lifecycle(slack.pool).pause(task_id, "dana", "recalled to the phones", "refund approved")
    await slack.drain()
    await _paused_an_hour_ago(slack, task_id)
    report = await run_timers(slack.pool)
    assert report.returned == [(task_id, "dana")]
    await slack.slack.notifier.timers(report)
    await slack.drain()
    (dana,) = slack.card(DANA)
    assert "paused for 60 min without resuming" in dana["text"]
    assert "back in the queue" in dana["text"]
    assert "Claim" not in str(dana["blocks"])
    notices = slack.standin.calls_to("chat.postEphemeral", ok=True)
    told = [c for c in notices if c.args["user"] == DANA]
    assert "back in the queue" in str(told[-1].args)
    await slack.command(BEN, "next")
    await slack.drain()
    (ben,) = slack.card(BEN)
    text = str(ben["blocks"])
    assert "Handed over" in text
    assert "dana worked 5 min" in text
    assert "recalled to the phones" in text
    assert "refund approved" in text


async def test_paused_work_due_soon_goes_to_the_supervisors(slack: Harness) -> None:
    (task_id,) = await seed(slack.pool)
    due = datetime.now(UTC) + timedelta(minutes=8)  # less than 10 min x 1.2
    await slack.pool.execute("UPDATE tasks SET due_at = $2 WHERE id = $1", task_id, due)
    await slack.command(DANA, "next")
    await slack.click(DANA, "claim", str(task_id), block_id=f"offer:{task_id}")
    # Paused from the recall message's one-click Pause.
    await slack.click(DANA, "pause", str(task_id), block_id="recall")
    reason = await slack.pool.fetchval(
        "SELECT reason FROM task_events WHERE task_id = $1 AND event = 'paused'", task_id
    )
    assert reason == "recalled to the phones"
    await _paused_an_hour_ago(slack, task_id)
    report = await run_timers(slack.pool, TimerSettings(paused_return_minutes=60))
    assert report.paused_escalated == [(task_id, "dana")]
    await slack.slack.notifier.timers(report)
    await slack.drain()
    posted = [m for (channel, _), m in slack.standin.messages.items() if channel == CHANNEL]
    assert len(posted) == 1
    assert "paused for 60 min without resuming" in posted[0].text
    assert "Handed over" in str(posted[0].blocks)
    assert "recalled to the phones" in str(posted[0].blocks)
    (dana,) = slack.card(DANA)
    assert "with the supervisors" in dana["text"]

"""The outbox (retries, 429, one post per card), event dedupe, App Home, the tick's hooks."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from queues.lifecycle import Lifecycle
from queues.timers import run_timers
from tests.support.slack import BEN, CHANNEL, DANA, Harness, seed


async def test_rate_limited_sends_wait_and_post_once(slack: Harness) -> None:
    (task_id,) = await seed(slack.pool)
    slack.standin.rate_limit("chat.postMessage", times=2, retry_after=0)
    await slack.command(DANA, "next")
    await slack.drain()
    # The client retried once by itself; the second 429 put the row off without failing it.
    assert len(slack.standin.calls_to("chat.postMessage")) == 2
    row = await slack.pool.fetchrow(
        "SELECT sent_at, next_at - now() AS wait, last_error FROM slack_outbox"
    )
    assert row is not None
    assert row["sent_at"] is None
    assert row["last_error"] == "ratelimited"
    assert timedelta(seconds=0.5) < row["wait"] <= timedelta(seconds=1)
    await slack.pool.execute("UPDATE slack_outbox SET next_at = now()")
    await slack.click(DANA, "claim", str(task_id), block_id=f"offer:{task_id}")
    await slack.drain()
    # The offer and the claim collapse into one post of the newest card.
    assert len(slack.standin.calls_to("chat.postMessage", ok=True)) == 1
    (card,) = slack.card(DANA)
    assert "complete" in str(card["blocks"])
    outcomes = await slack.pool.fetch("SELECT outcome FROM slack_outbox ORDER BY id")
    assert [o["outcome"] for o in outcomes] == ["superseded", "sent"]


async def test_permanent_errors_fail_the_row_and_deleted_messages_are_reposted(
    slack: Harness,
) -> None:
    (task_id,) = await seed(slack.pool)
    await slack.command(DANA, "next")
    await slack.drain()
    slack.standin.messages.clear()  # the user deleted the offer
    await slack.click(DANA, "claim", str(task_id), block_id=f"offer:{task_id}")
    await slack.drain()
    assert slack.standin.calls_to("chat.update", ok=False)[0].error == "message_not_found"
    assert len(slack.card(DANA)) == 1
    await slack.pool.execute(
        "INSERT INTO slack_outbox (kind, ref, target, body) VALUES "
        "('card', 'x', 'CNOWHERE', '{\"text\": \"hi\", \"blocks\": []}')"
    )
    await slack.drain()
    failed = await slack.pool.fetchrow("SELECT outcome, last_error FROM slack_outbox WHERE ref='x'")
    assert failed is not None
    assert (failed["outcome"], failed["last_error"]) == ("failed", "channel_not_found")


async def test_event_retries_are_handled_once_and_home_shows_my_work(slack: Harness) -> None:
    await seed(slack.pool, 2)
    await slack.command(DANA, "next")
    # The task offered, whichever it is: a batch's ids need not follow its order.
    task_id = await slack.pool.fetchval("SELECT id FROM tasks WHERE holder = 'dana'")
    await slack.click(DANA, "claim", str(task_id), block_id=f"offer:{task_id}")
    event = {
        "type": "app_home_opened",
        "user": DANA,
        "channel": "D0DANA0001",
        "tab": "home",
        "event_ts": "1515449522000016",
    }
    first = await slack.event(event, "Ev123ABC456")
    again = await slack.event(event, "Ev123ABC456")
    assert (first.status, again.status) == (200, 200)
    await slack.drain()
    (published,) = slack.standin.calls_to("views.publish", ok=True)
    view = slack.standin.homes[DANA]
    assert "Your current task" in str(view["blocks"])
    assert "Get next task" in str(view["blocks"])
    assert published.args["user_id"] == DANA
    await slack.click(BEN, "next", "home", block_id="home")
    assert await slack.pool.fetchval("SELECT count(*) FROM tasks WHERE holder = 'ben'") == 1
    await slack.drain()
    assert slack.card(BEN)
    assert BEN in slack.standin.homes


async def test_tick_hooks_offer_lapse_escalate_and_recall(slack: Harness) -> None:
    first, second = await seed(slack.pool, 2)
    notifier = slack.slack.notifier
    expires = datetime.now(UTC) + timedelta(minutes=2)
    offers = await Lifecycle(slack.pool).offer_many(
        [(first, "dana", ["SLA in 9h59 +0"]), (second, "ben", ["gold +0"])], expires, "round"
    )
    assert await notifier.offers(offers) == 2
    await slack.drain()
    assert "SLA in 9h59" in str(slack.card(DANA)[0]["blocks"])
    await slack.pool.execute("UPDATE tasks SET offer_expires_at = now() WHERE id = $1", first)
    await slack.click(BEN, "claim", str(second), block_id=f"offer:{second}")
    await slack.pool.execute(
        "UPDATE tasks SET active_since = now() - interval '2 hours' WHERE id = $1", second
    )
    report = await run_timers(slack.pool)
    assert report.expired == [(first, "dana")]
    assert report.escalated == [(second, "ben")]
    await notifier.timers(report)
    assert await notifier.recall(["dana", "ben"]) == 2
    await slack.drain()
    dana = slack.card(DANA)
    assert "lapsed" in dana[0]["text"]
    assert "Calls are rising" in dana[1]["text"]
    assert any(c == CHANNEL for c, _ in slack.standin.messages)


async def test_two_senders_never_post_the_same_card_twice(slack: Harness) -> None:
    """Two instances whose outboxes both pick up a card that is not posted yet: one posts it,
    the other waits for it and updates that message instead of posting a second one."""
    outbox = slack.slack.outbox
    body = {
        "text": "Task #1",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Task #1"}}],
    }
    await asyncio.gather(*(outbox._card("offer:1:U-DANA", "", DANA, body) for _ in range(2)))
    assert len(slack.standin.calls_to("chat.postMessage", ok=True)) == 1
    assert len(slack.standin.calls_to("chat.update", ok=True)) == 1

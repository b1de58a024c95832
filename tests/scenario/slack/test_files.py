"""Charts go through the durable outbox: retried with backoff, 429 honoured, shared once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.slack.files import send_file
from tests.support.slack import SUPERVISOR, Harness, seed


async def _ask_for_chart(slack: Harness) -> None:
    """A supervisor's ``/blend backlog``, as Slack sends it; the chart is then owed."""
    await seed(slack.pool, 2)
    await slack.command(SUPERVISOR, "backlog")
    await slack.slack.context.settle()


async def _row(slack: Harness) -> dict[str, object]:
    row = await slack.pool.fetchrow(
        "SELECT id, sent_at, outcome, last_error, file_id, data IS NOT NULL AS has_data, "
        "next_at - now() AS wait FROM slack_outbox WHERE kind = 'file'"
    )
    assert row is not None
    return dict(row)


def _shared(slack: Harness) -> list[str]:
    return [f.id for f in slack.standin.files.values() if f.completed]


async def test_a_429_is_waited_out_and_the_chart_posted_once(slack: Harness) -> None:
    await _ask_for_chart(slack)
    slack.standin.rate_limit("files.getUploadURLExternal", times=1, retry_after=0)
    slack.standin.rate_limit("files.completeUploadExternal", times=1, retry_after=0)
    await slack.drain()
    complete = slack.standin.calls_to("files.completeUploadExternal")
    assert [(c.ok, c.status) for c in complete] == [(False, 429), (True, 200)]
    assert len(slack.standin.calls_to("files.getUploadURLExternal")) == 2
    (file_id,) = _shared(slack)
    assert len(slack.standin.files) == 1
    assert slack.standin.files[file_id].channels == [slack.standin.dm_of(SUPERVISOR)]
    row = await _row(slack)
    assert (row["outcome"], row["file_id"], row["has_data"]) == ("sent", file_id, False)


async def test_a_long_rate_limit_puts_the_share_off_then_shares_the_same_file(
    slack: Harness,
) -> None:
    await _ask_for_chart(slack)
    slack.standin.rate_limit("files.completeUploadExternal", times=2, retry_after=0)
    await slack.drain()
    # The client retried once by itself; the second 429 put the row off, not failed.
    assert len(slack.standin.calls_to("files.completeUploadExternal", ok=False)) == 2
    assert _shared(slack) == []
    row = await _row(slack)
    assert (row["sent_at"], row["last_error"], row["has_data"]) == (None, "ratelimited", True)
    assert timedelta(seconds=0.5) < row["wait"] <= timedelta(seconds=1)  # type: ignore[operator]
    uploaded = row["file_id"]
    assert uploaded in slack.standin.files

    await slack.pool.execute("UPDATE slack_outbox SET next_at = now()")
    await slack.drain()
    assert _shared(slack) == [uploaded]
    assert len(slack.standin.calls_to("files.getUploadURLExternal")) == 1  # uploaded once
    assert len(slack.standin.calls_to("upload", ok=True)) == 1
    assert (await _row(slack))["outcome"] == "sent"


async def test_a_share_whose_answer_was_lost_is_not_posted_again(slack: Harness) -> None:
    await _ask_for_chart(slack)
    slack.standin.drop_answer("files.completeUploadExternal")
    await slack.drain()
    (file_id,) = _shared(slack)  # Slack shared it, but the outbox could not know
    row = await _row(slack)
    assert row["sent_at"] is None
    assert str(row["last_error"]).startswith("network:")
    assert row["wait"] > timedelta(seconds=1)  # type: ignore[operator]

    await slack.pool.execute("UPDATE slack_outbox SET next_at = now()")
    await slack.drain()
    (info,) = slack.standin.calls_to("files.info", ok=True)
    assert info.args["file"] == file_id
    assert len(slack.standin.calls_to("files.completeUploadExternal")) == 1
    assert _shared(slack) == [file_id]
    assert (await _row(slack))["outcome"] == "sent"


async def test_two_senders_share_one_file_once(slack: Harness) -> None:
    """Two instances that both hold the row (a lease ran out): one shares, the other finds
    it sent when it gets the lock."""
    await _ask_for_chart(slack)
    row = await slack.pool.fetchrow("SELECT id, body FROM slack_outbox WHERE kind = 'file'")
    assert row is not None
    client, dm = slack.slack.context.client, slack.standin.dm_of(SUPERVISOR)
    await asyncio.gather(
        *(send_file(slack.pool, client, row["id"], dm, row["body"]) for _ in range(2))
    )
    assert len(slack.standin.calls_to("files.completeUploadExternal")) == 1
    assert len(_shared(slack)) == 1
    assert (await _row(slack))["outcome"] == "sent"


async def test_a_file_slack_refuses_for_good_fails_and_drops_its_bytes(slack: Harness) -> None:
    await slack.pool.execute(
        "INSERT INTO slack_outbox (kind, target, body, data) VALUES ('file', 'CNOWHERE', "
        '\'{"filename": "x.png", "title": "x"}\', \'\\x89504e47\'::bytea)'
    )
    await slack.drain()
    row = await _row(slack)
    assert (row["outcome"], row["last_error"], row["has_data"]) == (
        "failed",
        "channel_not_found",
        False,
    )
    assert _shared(slack) == []

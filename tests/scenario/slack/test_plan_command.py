"""``/blend plan [type]``: the back-office plan for supervisors, through signed requests."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.support.backoffice import history
from tests.support.slack import DANA, SUPERVISOR, Harness, seed


async def test_plan_answers_at_once_and_follows_for_the_supervisor(slack: Harness) -> None:
    await seed(slack.pool, tasks=3)
    await history(slack.pool, weeks=5, now=datetime.now(UTC))
    denied = await slack.command(DANA, "plan")
    assert "for supervisors" in denied["text"]

    reply = await slack.command(SUPERVISOR, "plan")
    assert "it follows in a moment" in reply["text"]
    await slack.slack.context.settle()
    await slack.drain()
    (sent,) = slack.standin.calls_to("chat.postEphemeral", ok=True)
    assert sent.args["user"] == SUPERVISOR
    text = str(sent.args["blocks"])
    assert "Back-office plan, next 14 days" in text
    assert "*billing*: " in text
    assert "`billing`: 3 open (1.5 h)" in text  # 30 minutes each, as the history taught
    (asked,) = slack.standin.calls_to("files.getUploadURLExternal", ok=True)
    assert asked.args["filename"] == "plan-all.png"
    (done,) = slack.standin.calls_to("files.completeUploadExternal", ok=True)
    assert done.args["channel_id"] == slack.standin.dm_of(SUPERVISOR)

    await slack.command(SUPERVISOR, "plan billing")
    await slack.slack.context.settle()
    await slack.drain()
    one = str(slack.standin.calls_to("chat.postEphemeral", ok=True)[-1].args["blocks"])
    assert "Plan for billing" in one
    assert "arriving (" in one

    await slack.command(SUPERVISOR, "plan nope")
    await slack.slack.context.settle()
    await slack.drain()
    unknown = str(slack.standin.calls_to("chat.postEphemeral", ok=True)[-1].args["blocks"])
    assert "No task type `nope`" in unknown
    assert len(slack.standin.calls_to("files.completeUploadExternal", ok=True)) == 2

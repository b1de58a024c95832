"""``/blend plan [type] [site <id>]``: the back-office plan for supervisors, through signed
requests."""

from __future__ import annotations

import re
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
    assert "`billing` arriving per hour (UTC):" in one

    await slack.command(SUPERVISOR, "plan nope")
    await slack.slack.context.settle()
    await slack.drain()
    unknown = str(slack.standin.calls_to("chat.postEphemeral", ok=True)[-1].args["blocks"])
    assert "No task type `nope`" in unknown
    assert len(slack.standin.calls_to("files.completeUploadExternal", ok=True)) == 2


async def test_a_sites_plan_with_its_arrivals_per_hour(slack: Harness) -> None:
    await seed(slack.pool, tasks=3)
    await history(slack.pool, weeks=5, now=datetime.now(UTC))
    await slack.pool.execute("INSERT INTO sites VALUES ('auckland', 'Auckland', $1)", AUCKLAND)
    await slack.pool.execute("UPDATE agents SET site_id = 'auckland' WHERE agent_id = 'dana'")
    bad = await slack.command(SUPERVISOR, "plan site Not!")
    assert "is not a site's id" in bad["text"]

    reply = await slack.command(SUPERVISOR, "plan site auckland")
    assert "of site `auckland`" in reply["text"]
    await slack.slack.context.settle()
    await slack.drain()
    (sent,) = slack.standin.calls_to("chat.postEphemeral", ok=True)
    text = str(sent.args["blocks"])
    assert f"Back-office plan, next 14 days for site auckland ({AUCKLAND})" in text
    # Dana and Ben both have billing and no shifts: a head each, Auckland has Dana.
    assert "*billing* (50% of the work)" in text
    assert f"`billing` arriving per hour ({AUCKLAND}):" in text
    # The history's 09:00-12:20 UTC arrivals fall late in the evening on Auckland's clock.
    assert re.search(r"(21|22|23|00|01):00: \d+\.\d \(\d+\.\d to \d+\.\d\)", text), text
    (done,) = slack.standin.calls_to("files.completeUploadExternal", ok=True)
    assert done.args["channel_id"] == slack.standin.dm_of(SUPERVISOR)

    await slack.command(SUPERVISOR, "plan billing site default")
    await slack.slack.context.settle()
    await slack.drain()
    one = str(slack.standin.calls_to("chat.postEphemeral", ok=True)[-1].args["blocks"])
    assert "Plan for billing for site default" in one
    assert "`billing` arriving per hour (UTC):" in one

    await slack.command(SUPERVISOR, "plan site mars")
    await slack.slack.context.settle()
    await slack.drain()
    unknown = str(slack.standin.calls_to("chat.postEphemeral", ok=True)[-1].args["blocks"])
    assert "No site `mars`. Sites: `auckland`" in unknown
    assert len(slack.standin.calls_to("files.completeUploadExternal", ok=True)) == 2


AUCKLAND = "Pacific/Auckland"

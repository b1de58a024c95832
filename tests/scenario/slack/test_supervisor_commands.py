"""``/blend forecast``, ``/blend report`` and ``/blend pause|resume``, through signed requests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from slack_sdk.errors import SlackApiError

from queues.lifecycle import Lifecycle
from tests.conftest import AUTH
from tests.support.slack import BEN, DANA, SUPERVISOR, Harness, seed

PNG = b"\x89PNG\r\n\x1a\n"


async def _store_forecast(pool: asyncpg.Pool, queue: str) -> None:
    """A stored forecast, as the background refresh leaves it: 15-minute intervals from
    today's midnight (UTC, the default center clock) to the end of tomorrow."""
    midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    starts = [midnight + timedelta(minutes=15 * n) for n in range(2 * 96)]
    means = [10.0 + 8 * (s.hour in (10, 11)) + (s.day != midnight.day) for s in starts]
    await pool.execute(
        "INSERT INTO queue_forecasts (queue, interval_start, minutes, mean, lo_80, hi_80, "
        "lo_95, hi_95, aht_seconds, agents) "
        "SELECT $1, s, 15, m, m * 0.8, m * 1.2, m * 0.7, m * 1.3, 240, ceil(m / 3)::int "
        "FROM unnest($2::timestamptz[], $3::float8[]) AS u(s, m)",
        queue,
        starts,
        means,
    )
    await pool.execute(
        "INSERT INTO forecast_runs (queue, computed_at, origin, model, level_factor, "
        "intervals_seen, error) VALUES ($1, now(), $2, 'mstl_theta', 1.0, 672, NULL)",
        queue,
        midnight,
    )


async def test_forecast_lists_queues_then_shows_one_with_a_chart(slack: Harness) -> None:
    await seed(slack.pool)
    denied = await slack.command(DANA, "forecast sales")
    assert "for supervisors" in denied["text"]
    empty = await slack.command(SUPERVISOR, "forecast")
    assert "No forecasts yet" in str(empty["blocks"])

    await _store_forecast(slack.pool, "sales")
    await slack.pool.execute(
        "INSERT INTO forecast_runs (queue, computed_at, intervals_seen, error) "
        "VALUES ('billing', now(), 12, 'too little history: 12 intervals')"
    )
    listed = str((await slack.command(SUPERVISOR, "forecast"))["blocks"])
    assert "`sales`" in listed
    assert "`billing` no forecast: too little history" in listed

    reply = await slack.command(SUPERVISOR, "forecast sales")
    assert reply.get("response_type", "ephemeral") == "ephemeral"
    text = str(reply["blocks"])
    assert "Forecast: sales" in text
    assert "Calls (80%)" in text
    assert "Tomorrow's peak: *10:00*, 76 calls (61 to 91), 7 agents." in text
    this_hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    assert f"{this_hour:%H:%M}" in text

    await slack.slack.context.settle()
    assert not slack.standin.calls_to("files.getUploadURLExternal")  # owed, in the outbox
    await slack.drain()
    (asked,) = slack.standin.calls_to("files.getUploadURLExternal", ok=True)
    assert asked.args["filename"] == "forecast-sales.png"
    assert "80% and 95% bands" in asked.args["alt_txt"]
    (sent,) = slack.standin.calls_to("upload", ok=True)
    assert sent.args["bytes"] == int(asked.args["length"])
    (done,) = slack.standin.calls_to("files.completeUploadExternal", ok=True)
    dm = slack.standin.dm_of(SUPERVISOR)
    assert done.args["channel_id"] == dm
    (chart,) = slack.standin.files.values()
    assert chart.completed
    assert chart.channels == [dm]
    assert chart.data is not None
    assert chart.data.startswith(PNG)
    assert chart.title == "Forecast for sales"

    missing = await slack.command(SUPERVISOR, "forecast nowhere")
    assert "No forecast to show" in missing["text"]
    assert "has no interval statistics" in missing["text"]
    failed = await slack.command(SUPERVISOR, "forecast billing")
    assert "too little history" in failed["text"]
    await slack.slack.context.settle()
    await slack.drain()
    assert len(slack.standin.calls_to("files.completeUploadExternal")) == 1


async def test_standin_checks_file_uploads_as_slack_does(slack: Harness) -> None:
    client = slack.slack.context.client
    with pytest.raises(SlackApiError) as empty:
        await client.files_getUploadURLExternal(filename="a.png", length=0)
    assert empty.value.response["error"] == "missing_argument"
    with pytest.raises(SlackApiError) as alt:
        await client.files_getUploadURLExternal(filename="a.png", length=3, alt_txt="x" * 1001)
    assert alt.value.response["error"] == "alt_txt_too_large"
    url = await client.files_getUploadURLExternal(filename="a.png", length=3)
    with pytest.raises(SlackApiError) as early:
        await client.files_completeUploadExternal(files=[{"id": url["file_id"]}])
    assert early.value.response["error"] == "file_not_found"
    with pytest.raises(SlackApiError) as nowhere:
        await client.files_upload_v2(channel="CNOWHERE", content=b"abc", filename="a.png")
    assert nowhere.value.response["error"] == "channel_not_found"
    private = await client.files_upload_v2(content=b"abc", filename="b.png")
    assert private["file"]["channels"] == []
    assert private["file"]["size"] == 3


async def test_report_counts_the_period(slack: Harness) -> None:
    ids = await seed(slack.pool, 5)
    lifecycle = Lifecycle(slack.pool)
    late = ids[1]
    expires = datetime.now(UTC) + timedelta(minutes=5)
    for task_id, agent in ((ids[0], "dana"), (late, "dana"), (ids[2], "ben"), (ids[3], "dana")):
        await lifecycle.offer(task_id, agent, expires, "test", [])
        await lifecycle.claim(task_id, agent)
        if task_id == late:
            await slack.pool.execute(
                "UPDATE tasks SET due_at = now() - interval '1 minute' WHERE id = $1", late
            )
        if task_id == ids[3]:
            await lifecycle.escalate(task_id, agent, "needs a manager")
        else:
            await lifecycle.complete(task_id, agent, "Resolved", None)
    await lifecycle.cancel(ids[4], "sam", "duplicate")

    denied = await slack.command(BEN, "report")
    assert "for supervisors" in denied["text"]
    reply = await slack.command(SUPERVISOR, "report today")
    assert reply.get("response_type", "ephemeral") == "ephemeral"
    text = str(reply["blocks"])
    assert reply["blocks"][0]["type"] == "header"
    assert "*Created*\\n5" in text
    assert "*Completed*\\n3" in text
    assert "*Escalated*\\n1" in text
    assert "*Cancelled*\\n1" in text
    assert "67% (2 of 3)" in text
    assert "1. Dana Levi: 2 done" in text
    assert "2. Ben Ito: 1 done" in text
    week = await slack.command(SUPERVISOR, "report week")
    assert "the last 7 days" in week["text"]
    assert "5 created, 3 completed" in week["text"]
    bad = await slack.command(SUPERVISOR, "report month")
    assert "Usage" in bad["text"]


async def test_pause_refuses_next_until_resume(slack: Harness) -> None:
    (task_id,) = await seed(slack.pool)
    denied = await slack.command(DANA, "pause")
    assert "for supervisors" in denied["text"]
    assert await slack.pool.fetchval("SELECT blending_on FROM blending_state")

    paused = await slack.command(SUPERVISOR, "pause month-end close")
    assert "Blending is paused" in paused["text"]
    again = await slack.command(SUPERVISOR, "pause")
    assert "already paused (by Sam Cho" in again["text"]

    refused = await slack.command(DANA, "next")
    assert "blending is paused by Sam Cho: calls come first" in refused["text"]
    response = await slack.client.post("/api/v1/agents/dana/next", headers=AUTH)
    assert response.status == 200
    body = await response.json()
    assert body["offer"] is None
    assert body["reason"] == "blending is paused by Sam Cho: calls come first"
    assert await slack.pool.fetchval("SELECT status FROM tasks WHERE id = $1", task_id) == "queued"

    opened = {"type": "app_home_opened", "user": SUPERVISOR, "channel": "D0SUP", "tab": "home"}
    assert (await slack.event(opened, "Ev0PAUSE01")).status == 200
    await slack.drain()
    assert "Blending: *paused* by Sam Cho" in str(slack.standin.homes[SUPERVISOR])

    resumed = await slack.command(SUPERVISOR, "resume")
    assert "Blending is on" in resumed["text"]
    offered = await slack.command(DANA, "next")
    assert f"Task #{task_id} is waiting" in offered["text"]

    changes = await slack.pool.fetch(
        "SELECT blending_on, changed_by, reason FROM blending_state_changes ORDER BY id"
    )
    assert [tuple(c) for c in changes] == [
        (False, "Sam Cho", "month-end close"),
        (True, "Sam Cho", None),
    ]
    audit = await slack.pool.fetch(
        "SELECT user_id, action, allowed FROM slack_audit WHERE action LIKE '/blend p%' "
        "OR action = '/blend resume' ORDER BY id"
    )
    assert [tuple(a) for a in audit] == [
        (DANA, "/blend pause", False),
        (SUPERVISOR, "/blend pause", True),
        (SUPERVISOR, "/blend pause", True),
        (SUPERVISOR, "/blend resume", True),
    ]

"""``/blend backlog``: open work by type and SLA risk, and a chart of it in the DM."""

from __future__ import annotations

import io

from matplotlib.image import imread

from queues.catalog import Catalog
from queues.models import TaskIn, TaskTypeIn
from queues.tasks import Tasks
from tests.support.slack import DANA, SUPERVISOR, Harness, seed

PNG = b"\x89PNG\r\n\x1a\n"


async def _backlog(slack: Harness) -> None:
    """billing: 4 open (1 past SLA, 1 due within 2 h, 2 later); cards: 1 past SLA; one done."""
    ids = await seed(slack.pool, 5)
    await Catalog(slack.pool).put("cards", TaskTypeIn(sla_minutes=60, handle_minutes=5))
    (card,) = await Tasks(slack.pool).create_many(
        [TaskIn(source="crm", external_id="C-1", type="cards", title="Dispute")], "test"
    )
    assert card.task is not None
    await slack.pool.execute(
        "UPDATE tasks SET due_at = now() - interval '5 minutes' WHERE id = ANY($1::bigint[])",
        [ids[0], card.task.id],
    )
    await slack.pool.execute(
        "UPDATE tasks SET due_at = now() + interval '1 hour' WHERE id = $1", ids[1]
    )
    await slack.pool.execute("UPDATE tasks SET status = 'done' WHERE id = $1", ids[4])


async def test_backlog_lists_sla_risk_and_sends_a_chart_to_the_dm(slack: Harness) -> None:
    await _backlog(slack)
    denied = await slack.command(DANA, "backlog")
    assert "for supervisors" in denied["text"]
    reply = await slack.command(SUPERVISOR, "backlog")
    assert reply.get("response_type", "ephemeral") == "ephemeral"
    text = str(reply["blocks"])
    assert "`billing` 4 open, 1 past SLA, 1 due within 2h" in text
    assert "`cards` 1 open, 1 past SLA, 0 due within 2h" in text
    assert "Chart in your DM with me" in text

    await slack.slack.context.settle()
    await slack.drain()
    (asked,) = slack.standin.calls_to("files.getUploadURLExternal", ok=True)
    assert asked.args["filename"] == "backlog.png"
    assert asked.args["alt_txt"] == (
        "Open tasks by type: billing 4 (1 past SLA, 1 due within 2 h, 2 later); "
        "cards 1 (1 past SLA, 0 due within 2 h, 0 later)"
    )
    (chart,) = slack.standin.files.values()
    assert chart.completed
    assert chart.channels == [slack.standin.dm_of(SUPERVISOR)]
    assert chart.title == "Backlog by SLA risk"
    assert chart.initial_comment is not None
    assert "past SLA, due within 2 h, later" in chart.initial_comment
    assert chart.data is not None
    assert chart.data.startswith(PNG)
    height, width, _ = imread(io.BytesIO(chart.data)).shape
    assert (width, height) == (900, 230)  # one bar per type


async def test_backlog_of_one_type_bad_input_and_nothing_open(slack: Harness) -> None:
    await _backlog(slack)
    one = await slack.command(SUPERVISOR, "backlog cards")
    assert "`cards` 1 open" in str(one["blocks"])
    assert "billing" not in str(one["blocks"])
    await slack.slack.context.settle()
    await slack.drain()
    (chart,) = slack.standin.files.values()
    assert (chart.filename, chart.title) == ("backlog-cards.png", "Backlog of cards by SLA risk")
    assert chart.alt_txt is not None
    assert "billing" not in chart.alt_txt

    bad = await slack.command(SUPERVISOR, "backlog Bad&Type")
    assert "Usage: `/blend backlog [task type]`" in bad["text"]
    none = await slack.command(SUPERVISOR, "backlog address_change")
    assert "No open work." in str(none["blocks"])
    assert "Chart" not in str(none["blocks"])
    await slack.slack.context.settle()
    await slack.drain()
    assert len(slack.standin.files) == 1
    assert await slack.pool.fetchval("SELECT count(*) FROM slack_outbox WHERE kind = 'file'") == 1

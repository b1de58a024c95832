"""The pure Block Kit module: sizes stay within Slack's limits whatever the data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.slack import blocks
from queues.models import TaskDetail, TaskOut

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _task(**overrides: object) -> TaskOut:
    values: dict[str, object] = {
        "id": 7,
        "source": "crm",
        "external_id": "X",
        "type": "billing",
        "title": "Refund",
        "customer_ref": "CUST-1",
        "customer_tier": "gold",
        "value": None,
        "payload": {},
        "status": "offered",
        "holder": "dana",
        "step": 1,
        "offer_expires_at": NOW + timedelta(seconds=90),
        "due_at": NOW + timedelta(hours=3),
        "created_at": NOW,
        "updated_at": NOW,
    }
    values.update(overrides)
    return TaskOut.model_validate(values)


def test_offer_says_what_why_and_until_when() -> None:
    message = blocks.offer(_task(), ["SLA in 3h00 +12", "gold +20"], NOW, 10)
    text = str(message["blocks"])
    assert "SLA in 3h00 +12; gold +20" in text
    assert "10 min" in text
    assert "Offer stands until" in text
    assert message["text"].startswith("Task #7")


def test_long_and_hostile_text_is_escaped_and_clipped() -> None:
    message = blocks.working(_task(title="<!channel> " + "x" * 5000), NOW)
    first = str(message["blocks"][1]["text"]["text"])
    assert "&lt;!channel&gt;" in first
    assert len(first) < 300


def test_tables_stay_within_the_block_limit() -> None:
    message = blocks.table("Many", [f"line {n}" for n in range(5000)])
    assert len(message["blocks"]) <= 50
    assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in message["blocks"])


def test_durations_read_as_people_say_them() -> None:
    assert blocks.minutes_words(200 * 60) == "3h20"
    assert blocks.minutes_words(45 * 60) == "45 min"
    assert blocks.minutes_words(-10 * 60) == "overdue 10 min"


def test_modals_and_home_are_valid_views() -> None:
    for build in (blocks.complete_modal, blocks.escalate_modal, blocks.skip_modal):
        view = build(_task(), blocks.metadata(7, None))
        assert view["type"] == "modal"
        assert len(view["title"]["text"]) <= 24
    home = blocks.home(blocks.HomeFacts(current=_task(status="in_progress")), NOW)
    assert home["type"] == "home"
    assert "Get next task" in str(home["blocks"])


def test_lookup_shows_at_most_ten_payload_fields_a_section() -> None:
    detail = TaskDetail.model_validate(
        {
            **_task(status="queued", holder=None).model_dump(),
            "priority": 1.0,
            "priority_reasons": [],
            "step_count": 1,
            "step_name": None,
            "progress": "queued",
            "eta": None,
            "eta_basis": "no estimate yet",
            "timeline": [],
        }
    )
    shared = [(f"k{n}", "x" * 400 if n == 0 else n) for n in range(25)]
    message = blocks.lookup(detail, None, NOW, shared)
    sections = [b["fields"] for b in message["blocks"][1:]]
    assert [len(s) for s in sections] == [10, 10]  # the first 20 a type may list
    assert sections[0][0]["text"] == "*k0*\n" + "x" * 299 + "…"

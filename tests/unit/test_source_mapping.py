"""Mappings: CEL per task field, checked with the field, line and column of an error."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from task_sources.errors import InvalidSource, MappingFailed
from task_sources.mapping import compile_mapping, merged
from task_sources.webhook import Webhook

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_a_source_overrides_and_drops_the_kinds_defaults() -> None:
    mapping = merged(Webhook.default_mapping, {"title": "event.subject", "payload": None})
    assert mapping["title"] == "event.subject"
    assert "payload" not in mapping
    assert mapping["type"] == "event.type"


@pytest.mark.parametrize(
    ("expressions", "field", "line", "column"),
    [
        ({"title": "event.subject +"}, "mapping.title", 1, 16),
        ({"title": "event.subject\n  + ticket.id"}, "mapping.title", 2, 5),
        ({"colour": '"red"'}, "mapping.colour", None, None),
        ({"external_id": None}, "mapping.external_id", None, None),
    ],
)
def test_errors_name_the_field_line_and_column(
    expressions: dict[str, str | None], field: str, line: int | None, column: int | None
) -> None:
    with pytest.raises(InvalidSource) as caught:
        compile_mapping(merged(Webhook.default_mapping, expressions))
    assert caught.value.field == field
    assert (caught.value.line, caught.value.column) == (line, column)


def test_a_delivery_becomes_a_task_validated_like_the_rest_intake() -> None:
    mapping = compile_mapping(
        merged(
            Webhook.default_mapping,
            {
                "external_id": "event.number",
                "value": "event.amount",
                "due_at": 'now + duration("4h")',
                "payload": '{"at": now, "n": event.number}',
            },
        )
    )
    event = {"number": 42, "type": "billing", "title": "x" * 900, "amount": 12}
    task = mapping.task(event, "crm", NOW)
    assert (task.source, task.external_id, task.value) == ("crm", "42", 12.0)
    assert len(task.title) == 500
    assert task.due_at == datetime(2026, 3, 2, 13, 0, tzinfo=UTC)
    assert task.payload == {"at": "2026-03-02T09:00:00+00:00", "n": 42}


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ({"id": "1", "title": "t"}, "type"),
        ({"id": "1", "type": "Not A Name", "title": "t"}, "type"),
        ({"id": {"nested": 1}, "type": "billing", "title": "t"}, "external_id"),
        ({"id": "1", "type": "billing", "title": "t", "value": "ten"}, "value"),
    ],
)
def test_what_cannot_be_mapped_names_the_field(event: dict[str, object], field: str) -> None:
    mapping = compile_mapping(dict(Webhook.default_mapping))
    with pytest.raises(MappingFailed) as caught:
        mapping.task(event, "crm", NOW)
    assert caught.value.field == field


def test_an_index_past_the_end_of_a_list_names_the_field() -> None:
    own = {**Webhook.default_mapping, "customer_ref": "event.refs[3]"}
    with pytest.raises(MappingFailed) as caught:
        compile_mapping(own).task(
            {"id": "1", "type": "billing", "title": "t", "refs": []}, "crm", NOW
        )
    assert caught.value.field == "customer_ref"

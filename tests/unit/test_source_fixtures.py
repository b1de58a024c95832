"""Each kind's default mapping on its vendor's documented payload (tests/fixtures, sources in
tests/fixtures/sources/SOURCES.md): read by the connector as delivered, made into the task the
README promises, without a mapping of the operator's own."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from task_sources.connector import SourceConfig
from task_sources.mapping import compile_mapping
from task_sources.registry import KINDS

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
JSON = "application/json"


def _mailgun_form() -> bytes:
    """The fields Mailgun posts, form-encoded as its route's ``forward()`` sends them."""
    return urlencode(json.loads((FIXTURES / "mailgun_inbound_message.json").read_text())).encode()


CASES: list[tuple[str, bytes, str, list[dict[str, Any]]]] = [
    (
        "zendesk",
        (FIXTURES / "sources" / "zendesk_ticket.json").read_bytes(),
        JSON,
        [
            {
                "type": "zendesk_ticket",
                "external_id": "35436",
                "title": "Refund not received for order 2231",
                "customer_ref": "20978392",
                "customer_tier": "high",
                "payload": {"ticket_id": "35436", "url": "example.zendesk.com/agent/tickets/35436"},
            }
        ],
    ),
    (
        "jira",
        (FIXTURES / "sources" / "jira_issue_created.json").read_bytes(),
        JSON,
        [
            {
                "type": "jira_issue",
                "external_id": "OPS-42",
                "title": "OPS-42: Backfill missing direct debit mandates",
                "customer_tier": "High",
                "payload": {"id": "10002", "key": "OPS-42", "project": "OPS"},
            }
        ],
    ),
    (
        "servicenow",
        (FIXTURES / "sources" / "servicenow_incident.json").read_bytes(),
        JSON,
        [
            {
                "type": "servicenow_incident",
                "external_id": "INC0010042",
                "title": "INC0010042: Customer address change not applied",
                "customer_ref": "CUST-5521",
                "payload": {
                    "table": "incident",
                    "number": "INC0010042",
                    "sys_id": "9d385017c611228701d22104cc95c371",
                },
            }
        ],
    ),
    (
        "salesforce",
        (FIXTURES / "salesforce_outbound_case.xml").read_bytes(),
        "text/xml",
        [
            {
                "type": "salesforce_case",
                "external_id": "5005e00000ABCdeAAF",
                "title": "Refund not received for order 4471",
                "customer_ref": "0015e00000ZkM3hAAF",
                "customer_tier": "High",
            },
            {
                "type": "salesforce_case",
                "external_id": "5005e00000ABCdfAAF",
                "title": "Change of address",
                "customer_ref": None,
                "customer_tier": "Medium",
            },
        ],
    ),
    (
        "mailgun",
        _mailgun_form(),
        "application/x-www-form-urlencoded",
        [
            {
                "type": "email",
                "external_id": "<517AC78B.5060404@mailgun.net>",
                "title": "Re: Sample POST request",
                "customer_ref": "bob@example.com",
            }
        ],
    ),
]


@pytest.mark.parametrize(
    ("kind", "body", "content_type", "expected"), CASES, ids=[c[0] for c in CASES]
)
def test_the_default_mapping_makes_the_documented_payload_a_task(
    kind: str, body: bytes, content_type: str, expected: list[dict[str, Any]]
) -> None:
    connector = KINDS[kind]
    config = SourceConfig(name=f"{kind}-main", kind=kind)
    mapping = compile_mapping(connector.default_mapping)
    deliveries = connector.deliveries(config, {"content-type": content_type}, body)
    assert [d.action for d in deliveries] == ["upsert"] * len(expected)
    for delivery, wanted in zip(deliveries, expected, strict=True):
        task = mapping.task(delivery.event, config.name, NOW).model_dump()
        assert {k: task[k] for k in wanted if k != "payload"} == {
            k: v for k, v in wanted.items() if k != "payload"
        }
        assert wanted.get("payload", {}).items() <= task["payload"].items()


def test_the_jira_due_date_is_the_end_of_the_documented_day() -> None:
    body = (FIXTURES / "sources" / "jira_issue_created.json").read_bytes()
    (delivery,) = KINDS["jira"].deliveries(SourceConfig(name="j", kind="jira"), {}, body)
    task = compile_mapping(KINDS["jira"].default_mapping).task(delivery.event, "j", NOW)
    assert task.due_at is not None
    assert task.due_at.date().isoformat() == "2026-03-06"

"""The vendors' documented sample payloads, read from ``tests/fixtures/vendor`` as published.

Some samples are not valid JSON as the vendor prints them (comments, trailing commas): they
are read with :func:`jsonc`, which drops exactly those, and tests say so where they do. Also
here: payloads built from the samples (a Twilio callback, an Amazon Connect contact record).
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SAMPLES = FIXTURES / "vendor"


def text(name: str) -> str:
    return (SAMPLES / name).read_text(encoding="utf-8")


def load(name: str) -> Any:
    return json.loads(text(name))


def strip_comments(source: str) -> str:
    """``source`` without ``//`` comments (outside strings) and trailing commas."""
    out: list[str] = []
    in_string = escaped = False
    index = 0
    while index < len(source):
        char = source[index]
        if in_string:
            out.append(char)
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
            out.append(char)
        elif source.startswith("//", index):
            while index < len(source) and source[index] != "\n":
                index += 1
            continue
        else:
            out.append(char)
        index += 1
    return re.sub(r",(\s*[}\]])", r"\1", "".join(out))


def jsonc(name: str) -> Any:
    return json.loads(strip_comments(text(name)))


def ami(name: str, **values: str) -> dict[str, str]:
    """A documented AMI event template with its ``<value>`` placeholders filled in."""
    out = {}
    for line in text(name).splitlines():
        key, _, value = line.partition(":")
        value = value.strip()
        out[key.strip()] = values.get(key.strip(), "" if value == "<value>" else value)
    return out


def twilio_callback(event: dict[str, Any], **extra: str) -> dict[str, str]:
    """The form parameters of an event callback, from a documented Events resource.

    Twilio documents the callback's parameters (EventType, ResourceSid, Timestamp, and each
    event's data with names in CamelCase) but prints no literal body; the values come from
    the documented Events list response, whose fields are the same in snake_case.
    """
    data = event["event_data"]
    form = {
        "EventType": event["event_type"],
        "AccountSid": event["account_sid"],
        "WorkspaceSid": data["workspace_sid"],
        "WorkspaceName": data["workspace_name"],
        "EventDescription": event["description"],
        "ResourceType": event["resource_type"],
        "ResourceSid": event["resource_sid"],
        "Sid": event["sid"],
        "Timestamp": str(int(datetime.fromisoformat(event["event_date"]).timestamp())),
    }
    for key, value in data.items():
        form["".join(part.capitalize() for part in key.split("_"))] = value
    form.update(extra)
    return form


# Contact records. AWS documents the record field by field, without a whole JSON example:
# https://docs.aws.amazon.com/connect/latest/adminguide/ctr-data-model.html
# The fixture is a voice contact record written from that data model (field names, nesting and
# types as documented there), for the same contact, queue and agent as the contact event sample
# ``amazon_connect_contact_event_connected_to_agent_detail.json``, with whole-second durations
# for talk, hold and after-contact work.
CONTACT_RECORD = FIXTURES / "amazon_connect_contact_record_voice.json"
CONTACT = "11111111-1111-1111-1111-111111111111"
QUEUE = "12345678-1234-1234-1234-123456789012"


def contact_record(**changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = json.loads(CONTACT_RECORD.read_text(encoding="utf-8"))
    record.update(changes)
    return record

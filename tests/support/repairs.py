"""The smallest repairs that make three documented samples parse, each stated and checked.

The published text is kept as the fixture; a test that needs the event shown there applies
exactly one of these, and the repair fails loudly if the sample ever changes.
"""

from __future__ import annotations

import json
from typing import Any

from tests.support.samples import strip_comments, text


def _replace_once(source: str, old: str, new: str) -> str:
    assert source.count(old) == 1, f"the sample changed: {old!r} is not there once"
    return source.replace(old, new)


def connect_heart_beat() -> Any:
    """The docs close CurrentAgentSnapshot right after NextAgentStatus, then close it again
    after Contacts; the first close is dropped."""
    source = strip_comments(text("amazon_connect_agent_event_heart_beat.jsonc"))
    return json.loads(_replace_once(source, "        }\n      } ,\n", "        },\n"))


def connect_connected_current() -> Any:
    """The current docs close ``detail`` again after agentInfo; that extra close is dropped."""
    source = strip_comments(
        text("amazon_connect_contact_event_connected_to_agent_current_docs.txt")
    )
    return json.loads(_replace_once(source, "            }\n        },\n", "            },\n"))


def genesys_activity() -> Any:
    """The blog post drops the opening of the ``routingStatus`` object."""
    source = text("genesys_notification_v2_users_activity.jsonc")
    return json.loads(
        _replace_once(
            source, '      "status": "OFF_QUEUE"', '"routingStatus": {"status": "OFF_QUEUE"'
        )
    )

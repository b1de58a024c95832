"""The feed routes are described in the OpenAPI document."""

from __future__ import annotations

from bot.http.feeds import FEED_OPERATIONS
from bot.http.openapi import build


def test_the_api_routes_have_an_openapi_description() -> None:
    document = build(FEED_OPERATIONS, title="blendbot", version="0")
    assert "/api/v1/queues/{queue}/intervals" in document["paths"]
    assert "/api/v1/agents/{agent_id}/schedule" in document["paths"]

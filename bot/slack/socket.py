"""Socket Mode: the same Bolt app over a websocket, when an app-level token is set."""

from __future__ import annotations

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from bot.slack.app import Slack


async def run_socket_mode(slack: Slack, app_token: str) -> None:
    """Serve Slack's events over Socket Mode until cancelled."""
    handler = AsyncSocketModeHandler(slack.bolt, app_token)
    try:
        await handler.start_async()  # type: ignore[no-untyped-call]
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]

"""Socket Mode: the same Bolt app over a websocket, when an app-level token is set.

The app connects out (``apps.connections.open`` with the app-level token, then the websocket
it names), so no public URL is needed. Envelopes reach the same listeners as HTTP requests;
each is acked after its listener ran, with a slash command's reply as the ack's payload.
"""

from __future__ import annotations

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from bot.slack.app import Slack


async def run_socket_mode(slack: Slack, app_token: str) -> None:
    """Serve Slack's events over Socket Mode until cancelled."""
    # The app's own Web API client: its base URL and retry handlers hold for the socket too.
    handler = AsyncSocketModeHandler(slack.bolt, app_token, web_client=slack.context.client)
    try:
        await handler.start_async()  # type: ignore[no-untyped-call]
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]

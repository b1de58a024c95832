"""Slack: the Bolt app, its listeners, Block Kit and the outbox."""

from bot.slack.app import SLACK, Slack, register_slack
from bot.slack.context import SlackConfig

__all__ = ["SLACK", "Slack", "SlackConfig", "register_slack"]

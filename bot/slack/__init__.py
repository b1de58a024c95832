"""Slack: the Bolt app (:mod:`bot.slack.app`), its listeners, Block Kit and the outbox."""

"""The running service's base exception; each package has one (``QueuesError``,
``BlendingError``, ``AdapterError``), and ``bot.http.errors`` and the CLI turn them into
HTTP statuses and messages in one place each."""

from __future__ import annotations


class ServiceError(Exception):
    """The service could not start or do its work: settings, database, migrations, Slack."""

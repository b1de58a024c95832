"""What the service does with the task sources' outcomes: count them, and tell people in Slack
(the holder of a task whose record was closed at its source)."""

from __future__ import annotations

from bot.metrics import Metrics
from bot.slack.notify import Notifier
from queues.db import Connection
from queues.models import TaskOut


class SourceEvents:
    """The task sources' hooks; ``notifier`` is set once Slack is mounted (none: nobody told)."""

    def __init__(self, metrics: Metrics, notifier: Notifier | None = None) -> None:
        self._metrics = metrics
        self.notifier = notifier

    async def closed_while_held(self, conn: Connection, source: str, task: TaskOut) -> None:
        if self.notifier is not None:
            await self.notifier.closed_at_source(conn, source, task)

"""What the service does with the task sources' outcomes: count them, and tell people in Slack
(the holder of a task whose record was closed at its source; the supervisors when a task's
outcome could not be written back)."""

from __future__ import annotations

from bot.metrics import Metrics
from bot.slack.notify import Notifier
from queues.db import Connection
from queues.models import TaskOut
from task_sources.outbox import Failure


class SourceEvents:
    """The task sources' hooks; ``notifier`` is set once Slack is mounted (none: nobody told)."""

    def __init__(self, metrics: Metrics, notifier: Notifier | None = None) -> None:
        self._metrics = metrics
        self.notifier = notifier

    async def closed_while_held(self, conn: Connection, source: str, task: TaskOut) -> None:
        if self.notifier is not None:
            await self.notifier.closed_at_source(conn, source, task)

    def sent(self, source: str, event: str) -> None:
        self._metrics.writebacks.labels(source, event, "sent").inc()

    def retried(self, source: str, event: str, throttled: bool) -> None:
        result = "throttled" if throttled else "retried"
        self._metrics.writebacks.labels(source, event, result).inc()

    async def failed(self, conn: Connection, failure: Failure) -> None:
        self._metrics.writebacks.labels(failure.source, failure.event, "failed").inc()
        if self.notifier is not None:
            await self.notifier.write_back_failed(
                conn,
                failure.task_id,
                failure.title,
                failure.source,
                failure.event,
                failure.external_id,
                failure.detail,
                str(failure.writeback_id),
            )

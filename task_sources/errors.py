"""The task sources' errors. Each carries what a caller needs to explain it."""

from __future__ import annotations


class SourcesError(Exception):
    """A request about a task source cannot be carried out."""


class SourceNotFound(SourcesError):
    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"source {name} not found")


class RejectNotFound(SourcesError):
    def __init__(self, source: str, reject_id: int) -> None:
        self.source = source
        self.reject_id = reject_id
        super().__init__(f"reject {reject_id} of source {source} not found")


class InvalidSource(SourcesError):
    """A source's configuration that cannot work; ``field`` names the offending part, and an
    expression's ``line`` and ``column`` (from 1) locate the error in it."""

    def __init__(
        self, field: str, message: str, line: int | None = None, column: int | None = None
    ) -> None:
        self.field = field
        self.message = message
        self.line = line
        self.column = column
        where = f" at line {line}, column {column}" if line is not None else ""
        super().__init__(f"{field}{where}: {message}")


class SourceAuthFailed(SourcesError):
    """A delivery that does not prove it comes from the source (forged, unsigned or stale
    signature, wrong credential): refused, and stored nowhere."""


class Unreadable(SourcesError):
    """A delivery that authenticated but cannot be read (not the vendor's format): kept as a
    reject, with this reason."""


class MappingFailed(SourcesError):
    """A delivery the mapping cannot make into a task; ``field`` is the task field whose
    expression failed, or whose value was refused."""

    def __init__(self, field: str | None, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}" if field else reason)


class WriteBackError(SourcesError):
    """A write-back the vendor did not take."""


class Retryable(WriteBackError):
    """Worth trying again: the vendor was unreachable, answered 5xx, or throttled (429) —
    then ``retry_after`` seconds, when it said, and ``throttled`` is set."""

    def __init__(
        self, message: str, retry_after: float | None = None, *, throttled: bool = False
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.throttled = throttled


class Permanent(WriteBackError):
    """The vendor refused it for good (unknown record, missing permission, bad request): not
    retried; the supervisors are told."""

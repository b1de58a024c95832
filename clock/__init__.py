"""The one source of "now": the service reads the system clock, a simulation its own time.

Everything that asks for the time is handed a :class:`Clock` by the composition root, so
that a simulated day runs the service's own code on simulated time and a test can stop or
move time without patching. ``datetime.now`` is called here and nowhere else (a test checks).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware."""
        ...


class SystemClock:
    """The wall clock, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that stands still until moved: for tests."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("a clock's time must be timezone-aware")
        self._at = at

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("a clock's time must be timezone-aware")
        self._at = at

    def advance(self, by: timedelta) -> None:
        self._at += by


class FunctionClock:
    """A clock read from a function: a simulation's clock over its simulated seconds."""

    def __init__(self, read: Callable[[], datetime]) -> None:
        self._read = read

    def now(self) -> datetime:
        return self._read()


SYSTEM = SystemClock()
"""The service's clock; a clock holds no state, so one is enough."""


def retry_after(value: str | None, date: str | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: seconds, or an HTTP date counted from
    the response's ``Date`` (the other side's own clock, so ours need not agree with it);
    ``None`` if unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    if not date:
        return None
    try:
        return max(
            0.0, (parsedate_to_datetime(value) - parsedate_to_datetime(date)).total_seconds()
        )
    except (TypeError, ValueError):
        return None

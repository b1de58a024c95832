"""What the HTTP control clients share: an HTTP answer turned into a control error."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from telephony_adapters.control import ControlError, Refused, Throttled, Unreachable

TIMEOUT_SECONDS = 10.0
"""How long one request may take before the platform counts as unreachable."""


def retry_after(value: str | None, now: datetime) -> float | None:
    """A ``Retry-After`` header's seconds (a number of seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def error_for(status: int, what: str, wait: float | None = None) -> ControlError | None:
    """The error an HTTP status means for a command, or ``None`` for a success."""
    if status < 300:
        return None
    if status == 429:
        return Throttled(f"{what}: throttled (HTTP 429)", wait)
    if status >= 500 or status == 408:
        return Unreachable(f"{what}: HTTP {status}")
    return Refused(f"{what}: HTTP {status}")

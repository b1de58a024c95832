"""Small helpers the adapters share for reading loosely typed vendor payloads."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from queues.bounds import in_window
from telephony_adapters.errors import MalformedPayload


def get(obj: Mapping[str, Any] | None, *names: str) -> Any:
    """The first of ``names`` present in ``obj`` (vendors are not consistent about case)."""
    if not isinstance(obj, Mapping):
        return None
    for name in names:
        if name in obj:
            return obj[name]
    lowered = {k.lower(): v for k, v in obj.items() if isinstance(k, str)}
    for name in names:
        if name.lower() in lowered:
            return lowered[name.lower()]
    return None


def timestamp(source: str, value: Any, what: str) -> datetime:
    """An ISO 8601 timestamp (``Z`` allowed); naive ones are taken as UTC."""
    if not isinstance(value, str) or not value:
        raise MalformedPayload(source, f"{what} is missing or not a timestamp")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise MalformedPayload(source, f"{what} is not an ISO 8601 timestamp: {value!r}") from None
    parsed = parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
    try:
        return in_window(parsed)
    except ValueError as exc:
        raise MalformedPayload(source, f"{what} {exc}: {value!r}") from None


def wall_timestamp(source: str, value: Any, what: str) -> datetime:
    """An ISO 8601 timestamp; a naive one stays naive, for the caller to read on a clock."""
    parsed = timestamp(source, value, what)
    naive = datetime.fromisoformat(value.replace("Z", "+00:00")).tzinfo is None
    return parsed.replace(tzinfo=None) if naive else parsed


def validation_reason(exc: ValidationError, prefix: str = "") -> str:
    """A validation error of the normalized events, in a line: the first three problems."""
    parts = []
    for error in exc.errors(include_url=False)[:3]:
        where = ".".join(str(p) for p in error["loc"])
        parts.append(f"{prefix}{where}: {error['msg']}" if where else str(error["msg"]))
    return "; ".join(parts)


def optional_timestamp(source: str, value: Any, what: str) -> datetime | None:
    return None if value in (None, "") else timestamp(source, value, what)


def text(source: str, value: Any, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise MalformedPayload(source, f"{what} is missing")
    return value


def seconds_between(start: datetime | None, end: datetime | None) -> float | None:
    """``end - start`` in seconds, or ``None`` when unknown or negative."""
    if start is None or end is None or end < start:
        return None
    return (end - start).total_seconds()

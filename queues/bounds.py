"""Bounds on what clients and feeds send, checked where it comes in, before it is used.

* **JSON** is read by one reader, :func:`loads` (pydantic-core's, which does not recurse on
  the Python stack): at most :data:`MAX_DEPTH` levels of nesting and integers of at most
  :data:`MAX_DIGITS` digits; no ``NaN`` or ``Infinity``, no lone surrogate, only UTF-8. The
  parser stops at the first bound it meets, so a body nested 100,000 deep costs no more than
  one nested 200 deep. What goes beyond is :class:`MalformedJson`, never a crash.
* **Time**: an :data:`Instant` is written as ISO 8601 text with its offset (a number is never
  taken for a time) and lies in [:data:`EARLIEST`, :data:`LATEST`).
* **Text** that PostgreSQL cannot store (a NUL, a lone surrogate) is refused by
  :func:`check_storable`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated, Any

import pydantic_core
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    GetJsonSchemaHandler,
    TypeAdapter,
    ValidationError,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

MAX_DEPTH = 200
"""Nesting levels of JSON arrays and objects (pydantic-core's own limit)."""
MAX_DIGITS = 4300
"""Digits of a JSON integer (pydantic-core's own limit, and Python's for ``int(str)``)."""
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
"""Instants lie in [EARLIEST, LATEST): from the Unix epoch up to, not including, 2100. The
start is before the shipped call-center history (1999, 2003) that the simulator and the
backtests replay through the service; the end is far beyond any SLA."""


class MalformedJson(ValueError):
    """A body or a record is not JSON within the bounds; ``detail`` says where and why."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


_WHY = {
    "recursion limit exceeded": f"nested deeper than {MAX_DEPTH} levels",
    "number out of range": f"an integer has more than {MAX_DIGITS} digits",
}


def loads(raw: bytes | str) -> Any:
    """One JSON document, within the bounds."""
    try:
        return pydantic_core.from_json(raw, allow_inf_nan=False, cache_strings=False)
    except ValueError as exc:
        detail = str(exc)
        for words, why in _WHY.items():
            if detail.startswith(words):
                detail = f"{why} ({detail})"
        raise MalformedJson(detail) from None


_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


def _documents(text: str) -> Iterator[str]:
    """The top-level arrays and objects of ``text``, found by their balanced brackets; only
    whitespace may lie between them."""
    depth = start = end = 0
    for match in _TOKEN.finditer(text):
        piece = match.group()
        if piece in ("[", "{"):
            if depth == 0:
                if text[end : match.start()].strip(" \t\r\n"):
                    raise MalformedJson(f"something other than JSON at character {end}")
                start = match.start()
            depth += 1
        elif piece in ("]", "}"):
            depth -= 1
            if depth == 0:
                end = match.end()
                yield text[start:end]
            elif depth < 0:
                raise MalformedJson(f"unbalanced {piece!r} at character {match.start()}")
    if depth or text[end:].strip(" \t\r\n"):
        raise MalformedJson(f"something other than JSON at character {end}")


def loads_many(text: str) -> list[Any]:
    """Several JSON objects or arrays written one after another (as some streams write
    records), each within the bounds; one document is read as it is."""
    try:
        return [loads(text)]
    except MalformedJson as exc:
        if not exc.detail.startswith("trailing characters"):
            raise
    return [loads(document) for document in _documents(text)]


def in_window(value: datetime) -> datetime:
    """``value`` if it lies in the window, else ``ValueError`` saying what the window is."""
    try:
        inside = EARLIEST <= value < LATEST
    except OverflowError:
        inside = False
    if not inside:
        raise ValueError(
            f"must lie between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d} (UTC), excluding the end"
        )
    return value


_WRITTEN = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")


_READ = TypeAdapter(datetime)
_WRITE_IT = "must be an ISO 8601 date and time with its offset, e.g. 2026-03-02T09:30:00Z"


def _written_as_text(value: Any) -> Any:
    """An instant is given as text (or, from Python, as a ``datetime``), never as a number;
    read here, so that strict validation takes it as it would from JSON."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and _WRITTEN.match(value):
        try:
            return _READ.validate_python(value)
        except ValidationError:
            raise ValueError(_WRITE_IT) from None
    raise ValueError(_WRITE_IT)


class _WindowSchema:
    """States the window in the JSON Schema of an :data:`Instant`."""

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        schema["formatMinimum"] = EARLIEST.isoformat().replace("+00:00", "Z")
        schema["formatExclusiveMaximum"] = LATEST.isoformat().replace("+00:00", "Z")
        return schema


Instant = Annotated[
    AwareDatetime,
    BeforeValidator(_written_as_text),
    AfterValidator(in_window),
    _WindowSchema(),
]
"""A timezone-aware instant in [EARLIEST, LATEST), written as ISO 8601 text."""


def _in_window_on_any_clock(value: datetime) -> datetime:
    in_window(value if value.tzinfo is not None else value.replace(tzinfo=UTC))
    return value


WallOrInstant = Annotated[
    datetime,
    BeforeValidator(_written_as_text),
    AfterValidator(_in_window_on_any_clock),
    _WindowSchema(),
]
"""An :data:`Instant`, or a wall-clock time written without an offset, which the caller reads
on a clock it knows (an agent's site)."""


def check_storable(value: Any) -> None:
    """Refuse what PostgreSQL ``text`` and ``jsonb`` cannot hold: the NUL character, lone
    surrogates, and numbers that are not finite; in a string, a list or a dict, keys too."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("text must not contain the NUL character (\\u0000)")
        if value.isascii():
            return
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("text must be valid Unicode (no lone surrogates)") from None
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("numbers must be finite")
    elif isinstance(value, dict):
        for key, item in value.items():
            check_storable(key)
            check_storable(item)
    elif isinstance(value, list | tuple):
        for item in value:
            check_storable(item)


def printable(text: str, limit: int = 500) -> str:
    """``text`` made storable and short, for a reason or a label that quotes a sender."""
    safe = text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")
    return safe if len(safe) <= limit else safe[: limit - 1] + "…"

"""The bounds on what comes in: JSON, instants, storable text."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from queues.bounds import (
    EARLIEST,
    LATEST,
    MAX_DEPTH,
    Instant,
    MalformedJson,
    check_storable,
    loads,
    loads_many,
    printable,
)


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("[" * 5000 + "]" * 5000, "nested deeper than 200"),
        ('{"a":' * 100_000 + "1" + "}" * 100_000, "nested deeper than 200"),
        ("9" * 5000, "more than 4300 digits"),
        ("NaN", "expected value"),
        ("[Infinity]", "expected value"),
        ('"\\ud800"', "hex escape"),
        (b'"\xff"', "unicode"),
        ("", "EOF"),
    ],
)
def test_json_beyond_the_bounds_is_malformed(raw: str | bytes, why: str) -> None:
    with pytest.raises(MalformedJson, match=why):
        loads(raw)


def test_the_depth_bound_costs_nothing_however_deep() -> None:
    started = time.perf_counter()
    with pytest.raises(MalformedJson):
        loads("[" * 1_000_000)
    assert time.perf_counter() - started < 0.1


def test_json_within_the_bounds_is_read() -> None:
    deep = "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)
    assert loads(deep) is not None
    assert loads("9" * 4300) == int("9" * 4300)
    assert loads('{"a": "x\\u0000"}') == {"a": "x\x00"}


def test_documents_one_after_another() -> None:
    assert loads_many('{"a": 1}\n{"b": "}{"}  [2]') == [{"a": 1}, {"b": "}{"}, [2]]
    assert loads_many('{"a": 1}') == [{"a": 1}]
    for bad in ('{"a": 1} x {}', "{}}", "{} {", "{} 5", "{} " + "[" * 300 + "]" * 300):
        with pytest.raises(MalformedJson):
            loads_many(bad)


class At(BaseModel):
    at: Instant


@pytest.mark.parametrize(
    "value",
    [
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59-23:59",
        "1969-12-31T23:59:59.999999Z",
        "2100-01-01T00:00:00Z",
        "1970-01-01T00:30:00+01:00",
        "0.5",
        "1772438400",
        1772438400,
        0,
        True,
        "2026-03-02",
        "2026-03-02T09:30:00",
        datetime(1, 1, 1, tzinfo=UTC),
    ],
)
def test_an_instant_outside_the_window_or_not_written_as_one_is_refused(value: Any) -> None:
    with pytest.raises(ValidationError):
        At.model_validate({"at": value})
    with pytest.raises(ValidationError):
        At.model_validate({"at": value}, strict=True)


@pytest.mark.parametrize(
    "value",
    [
        "1970-01-01T00:00:00Z",
        "1999-08-01T07:00:00Z",
        "2099-12-31T23:59:59.999999Z",
        "2099-12-31T23:59:59-00:00",
        "2026-03-02 09:30:00+05:30",
        datetime(2026, 3, 2, tzinfo=timezone(timedelta(hours=-5))),
    ],
)
def test_an_instant_inside_the_window_is_read(value: Any) -> None:
    at = At.model_validate({"at": value}).at
    assert EARLIEST <= at < LATEST


def test_the_window_is_in_the_json_schema() -> None:
    schema = At.model_json_schema()["properties"]["at"]
    assert schema["format"] == "date-time"
    assert schema["formatMinimum"] == "1970-01-01T00:00:00Z"
    assert schema["formatExclusiveMaximum"] == "2100-01-01T00:00:00Z"


@pytest.mark.parametrize(
    "value", ["a\x00", "\ud800", {"k\x00": 1}, [["\udfff"]], float("nan"), {"x": [float("inf")]}]
)
def test_what_postgres_cannot_store_is_refused(value: Any) -> None:
    with pytest.raises(ValueError, match=r"NUL|Unicode|finite"):
        check_storable(value)


def test_printable_makes_any_text_storable() -> None:
    text = printable("a\x00\ud800" + "x" * 1000, 50)
    check_storable(text)
    assert len(text) == 50
    assert text.startswith("a\\x00\\ud800")

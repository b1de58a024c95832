"""The vendors' documented sample payloads, read from ``tests/fixtures/vendor`` as published.

Some samples are not valid JSON as the vendor prints them (comments, trailing commas): they
are read with :func:`jsonc`, which drops exactly those, and tests say so where they do.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SAMPLES = FIXTURES / "vendor"


def text(name: str) -> str:
    return (SAMPLES / name).read_text(encoding="utf-8")


def load(name: str) -> Any:
    return json.loads(text(name))


def strip_comments(source: str) -> str:
    """``source`` without ``//`` comments (outside strings) and trailing commas."""
    out: list[str] = []
    in_string = escaped = False
    index = 0
    while index < len(source):
        char = source[index]
        if in_string:
            out.append(char)
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
            out.append(char)
        elif source.startswith("//", index):
            while index < len(source) and source[index] != "\n":
                index += 1
            continue
        else:
            out.append(char)
        index += 1
    return re.sub(r",(\s*[}\]])", r"\1", "".join(out))


def jsonc(name: str) -> Any:
    return json.loads(strip_comments(text(name)))


def ami(name: str, **values: str) -> dict[str, str]:
    """A documented AMI event template with its ``<value>`` placeholders filled in."""
    out = {}
    for line in text(name).splitlines():
        key, _, value = line.partition(":")
        value = value.strip()
        out[key.strip()] = values.get(key.strip(), "" if value == "<value>" else value)
    return out

"""Scripted answers of the vendor stand-ins: what the next requests get instead of success."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Answer:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""

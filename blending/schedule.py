"""Where an agent's schedule stands at a moment: on shift or not, on a break or not, and
when the shift ends and the next break begins. Pure: the entries and ``now`` are passed in."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class ScheduleRow:
    agent_id: str
    kind: str
    """``shift`` or ``break``."""
    start: datetime
    end: datetime


@dataclass(frozen=True)
class ShiftNow:
    shift_end: datetime | None = None
    """When the shift covering now ends; None when no shift covers now."""
    next_break: datetime | None = None
    """When the next break within that shift begins."""
    break_until: datetime | None = None
    """On a break now: when it ends."""

    @property
    def working(self) -> bool:
        """On shift and not on a break."""
        return self.shift_end is not None and self.break_until is None


def shift_now(entries: Sequence[ScheduleRow], now: datetime) -> ShiftNow:
    """The schedule at ``now`` from one agent's entries around it (none: it says nothing)."""
    shifts = [e for e in entries if e.kind == "shift" and e.start <= now < e.end]
    end = max((e.end for e in shifts), default=None)
    breaks = [e for e in entries if e.kind == "break" and e.end > now]
    if end is not None:
        breaks = [b for b in breaks if b.start < end]
    current = [b.end for b in breaks if b.start <= now]
    later = [b.start for b in breaks if b.start > now]
    return ShiftNow(
        shift_end=end,
        next_break=min(later, default=None) if end is not None else None,
        break_until=max(current, default=None),
    )

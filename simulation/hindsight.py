"""The hindsight bound: how much agent time could have been lent had the calls been known.

Interval by interval, the realized arrivals and their handle times give, through Erlang A (the
run's service target and the callers' patience), the agents those calls needed; every agent
staffed beyond that could have worked the back office for the whole interval. No policy that
decides before the calls arrive can lend more without missing the target somewhere, so a
policy's back-office agent-hours over this bound (its ``hindsight_share``) says how much of
what was possible it used.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from blending.staffing import agents_needed
from simulation.center import CallStream


@dataclass(frozen=True)
class Hindsight:
    needed: list[int]
    """Agents the realized calls of each interval needed."""
    spare: list[int]
    """Agents staffed beyond that, each interval (never below zero)."""
    interval_minutes: float

    @property
    def hours(self) -> float:
        """The agent-hours that could have been lent."""
        return sum(self.spare) * self.interval_minutes / 60

    def share(self, lent_hours: float) -> float | None:
        """``lent_hours`` as a share of the bound (None when nothing could be lent)."""
        return lent_hours / self.hours if self.hours > 0 else None


def hindsight(
    calls: Sequence[float],
    aht_seconds: Sequence[float],
    staffed: Sequence[int],
    *,
    interval_minutes: float,
    target_sl: float,
    target_seconds: float,
    patience_seconds: float | None,
) -> Hindsight:
    """The bound over intervals of ``calls`` arrivals with mean handle ``aht_seconds`` and
    ``staffed`` agents on shift (breaks excluded)."""
    needed = [
        agents_needed(
            n, interval_minutes, aht, target_sl, target_seconds, patience_seconds=patience_seconds
        ).agents
        if n > 0
        else 0
        for n, aht in zip(calls, aht_seconds, strict=True)
    ]
    spare = [max(0, s - n) for s, n in zip(staffed, needed, strict=True)]
    return Hindsight(needed, spare, interval_minutes)


def realized(
    stream: CallStream, slots: int, interval_minutes: float, default_aht: float
) -> tuple[list[float], list[float]]:
    """The calls that arrived in each interval, and their mean handle time (``default_aht``
    where none arrived)."""
    seconds = interval_minutes * 60
    slot = np.minimum((stream.arrivals // seconds).astype(int), slots - 1)
    counts = np.bincount(slot, minlength=slots).astype(float)
    handle = np.bincount(slot, weights=stream.handle, minlength=slots)
    aht = np.where(counts > 0, handle / np.maximum(counts, 1), default_aht)
    return counts[:slots].tolist(), aht[:slots].tolist()

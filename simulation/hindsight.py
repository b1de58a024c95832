"""The hindsight bound: how much agent time could have been lent had the arrivals been known.

Interval by interval, the realized calls and their handle times give, through Erlang A (the
run's service target and the callers' patience), the agents those calls needed; every agent
staffed beyond that is spare for the whole interval. Spare time is back-office time only where
there is back-office work to do: the bound spends each interval's spare hours on the work that
has arrived by then and is not done yet, as early as it can (which is the most any order can
do when work only has to wait for its arrival). No policy can lend more useful time without
missing the target somewhere, so a policy's back-office agent-hours over this bound (its
``hindsight_share``) says how much of what was possible it used.

The bound is generous where it cannot know better: work arriving in an interval counts as
there for the whole interval, and any spare agent may do any task (skills are not matched).
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
    usable: list[float]
    """Hours of each interval's spare time that had back-office work to do."""

    @property
    def spare_hours(self) -> float:
        """The agent-hours beyond the calls' need, whether or not there was work for them."""
        return sum(self.spare) * self.interval_minutes / 60

    @property
    def hours(self) -> float:
        """The agent-hours that could have been lent to work that was there."""
        return sum(self.usable)

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
    work_hours: Sequence[float] | None = None,
) -> Hindsight:
    """The bound over intervals of ``calls`` arrivals with mean handle ``aht_seconds`` and
    ``staffed`` agents on shift (breaks excluded); ``work_hours`` is the back-office work
    arriving in each interval, in agent-hours (None: work never runs out)."""
    needed = [
        agents_needed(
            n, interval_minutes, aht, target_sl, target_seconds, patience_seconds=patience_seconds
        ).agents
        if n > 0
        else 0
        for n, aht in zip(calls, aht_seconds, strict=True)
    ]
    spare = [max(0, s - n) for s, n in zip(staffed, needed, strict=True)]
    hours = [n * interval_minutes / 60 for n in spare]
    if work_hours is None:
        return Hindsight(needed, spare, interval_minutes, hours)
    usable, waiting = [], 0.0
    for free, arrived in zip(hours, work_hours, strict=True):
        waiting += arrived
        used = min(free, waiting)
        usable.append(used)
        waiting -= used
    return Hindsight(needed, spare, interval_minutes, usable)


def work_by_interval(
    arrivals: Sequence[float], seconds: Sequence[float], slots: int, interval_minutes: float
) -> list[float]:
    """Back-office work (``seconds`` of agent time each) by the interval it arrived in, in
    hours; work waiting before the first interval counts in it, work after the last is left
    out."""
    out = [0.0] * slots
    for at, work in zip(arrivals, seconds, strict=True):
        slot = max(0, int(at // (interval_minutes * 60)))
        if slot < slots:
            out[slot] += work / 3600
    return out


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

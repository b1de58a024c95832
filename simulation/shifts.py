"""Shifts that cover a day's staffing need, as a workforce-management tool plans them.

Pure. The need is agents per slot; each candidate shift (a template at a start time) covers
the slots it spans. Shifts are chosen by greedy set covering, and each break is then placed,
within an hour of its nominal time, where cover is most to spare. Whole shifts never fit the
need exactly: the over-cover that results, on top of the lulls, is what blending lends.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from simulation.center import Shift

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Template:
    hours: float
    breaks: tuple[tuple[float, float], ...]
    """(hours after the start, minutes long) of each break."""


FULL_DAY = Template(8.5, ((2.0, 15), (4.25, 30), (6.5, 15)))
SIX_HOURS = Template(6.0, ((2.0, 15), (4.0, 15)))
FOUR_HOURS = Template(4.0, ((2.0, 15),))
TEMPLATES = (FULL_DAY, SIX_HOURS, FOUR_HOURS)


def _span(t: Template, start: int, slots: int, slot_minutes: int) -> tuple[int, int]:
    return start, min(slots, start + round(t.hours * 60 / slot_minutes))


def _cover_options(
    templates: Sequence[Template], slots: int, slot_minutes: int, step: int
) -> list[tuple[Template, int, IntArray]]:
    options = []
    for t in templates:
        length = round(t.hours * 60 / slot_minutes)
        for start in range(0, max(1, slots - length + 1), step):
            cover = np.zeros(slots, dtype=np.int64)
            lo, hi = _span(t, start, slots, slot_minutes)
            cover[lo:hi] = 1
            options.append((t, start, cover))
    return options


def _greedy(
    deficit: IntArray, options: list[tuple[Template, int, IntArray]]
) -> list[tuple[Template, int]]:
    """Greedy set covering: the shift covering most still-uncovered agent-slots per paid
    hour, until none is left; then the shifts the others make redundant are dropped."""
    covers = np.stack([o[2] for o in options])
    paid = np.array([o[0].hours for o in options])
    deficit = deficit.copy()
    chosen: list[int] = []
    while (deficit > 0).any():
        gain = (covers * (deficit > 0)).sum(axis=1) / paid
        best = int(np.argmax(gain))
        if gain[best] <= 0:
            break  # a slot no shift can cover
        chosen.append(best)
        deficit -= covers[best]
    surplus = -np.minimum(deficit, 0)
    kept = list(chosen)
    for i in sorted(chosen, key=lambda i: -paid[i]):
        if (surplus - covers[i] >= 0).all():
            surplus = surplus - covers[i]
            kept.remove(i)
    return [options[i][:2] for i in kept]


def _place_breaks(
    shifts: list[tuple[Template, int]], need: IntArray, slots: int, slot_minutes: int
) -> tuple[list[list[tuple[int, int]]], IntArray]:
    """Each break where cover is most to spare, within an hour of its nominal time."""
    cover = np.zeros(slots, dtype=np.int64)
    for t, start in shifts:
        lo, hi = _span(t, start, slots, slot_minutes)
        cover[lo:hi] += 1
    reach = max(1, 60 // slot_minutes)
    placed = []
    for t, start in shifts:
        lo, hi = _span(t, start, slots, slot_minutes)
        mine = []
        for after, minutes in t.breaks:
            width = max(1, round(minutes / slot_minutes))
            nominal = start + round(after * 60 / slot_minutes)
            first = max(lo + 1, nominal - reach)
            last = min(hi - width - 1, nominal + reach)
            candidates = range(first, last + 1) if last >= first else range(nominal, nominal + 1)
            best = max(
                candidates,
                key=lambda b: (int((cover - need)[b : b + width].min()), -abs(b - nominal)),
            )
            cover[best : best + width] -= 1
            mine.append((best, best + width))
        placed.append(mine)
    return placed, cover


def plan_shifts(
    need: Sequence[int],
    slot_minutes: int,
    *,
    day_start: float = 0.0,
    templates: Sequence[Template] = TEMPLATES,
    start_every_minutes: int = 30,
) -> list[Shift]:
    """Shifts (in seconds on ``day_start``'s clock) that meet ``need`` in every slot, breaks
    taken. Shifts are chosen to cover the need, their breaks placed where cover is to spare,
    and where the breaks leave a slot short, the shortfall is added and the cover planned
    again."""
    slots = len(need)
    target = np.asarray(need, dtype=np.int64)
    wanted = target.copy()
    options = _cover_options(
        templates, slots, slot_minutes, max(1, start_every_minutes // slot_minutes)
    )
    if not options or not (target > 0).any():
        return []
    for _ in range(20):
        shifts = _greedy(wanted, options)
        breaks, cover = _place_breaks(shifts, target, slots, slot_minutes)
        short = np.maximum(target - cover, 0)
        if not short.any():
            break
        wanted = wanted + short
    seconds = slot_minutes * 60
    out = []
    for (t, start), mine in sorted(zip(shifts, breaks, strict=True), key=lambda x: x[0][1]):
        lo, hi = _span(t, start, slots, slot_minutes)
        out.append(
            Shift(
                day_start + lo * seconds,
                day_start + hi * seconds,
                tuple((day_start + b * seconds, day_start + e * seconds) for b, e in mine),
            )
        )
    return out


def free_longest(booked: Mapping[str, Sequence[Shift]], shift: Shift) -> str | None:
    """Who takes ``shift``: of the agents with no shift overlapping it, the one whose last
    shift ended longest ago (by id on a tie); ``None`` when everyone is busy."""
    free = [
        agent
        for agent, shifts in booked.items()
        if all(s.end <= shift.start or s.start >= shift.end for s in shifts)
    ]
    if not free:
        return None
    return min(free, key=lambda a: (max((s.end for s in booked[a]), default=-86400.0), a))

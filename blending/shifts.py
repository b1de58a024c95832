"""Shifts that cover a day's staffing need, as a workforce-management tool plans them.

Pure. The need is agents per slot; each candidate shift (a template at a start time) covers
the slots it spans except its breaks. Greedy set covering: add the shift that covers the most
still-uncovered agent-slots per paid hour, until the need is met. Whole shifts never fit the
need exactly, and breaks take agents away: the over-cover that results, on top of the lulls,
is what blending lends.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from blending.center import Shift

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


def _coverage(t: Template, start_slot: int, slots: int, slot_minutes: int) -> IntArray:
    cover = np.zeros(slots, dtype=np.int64)
    end = min(slots, start_slot + round(t.hours * 60 / slot_minutes))
    cover[start_slot:end] = 1
    for after, minutes in t.breaks:
        b = start_slot + round(after * 60 / slot_minutes)
        cover[b : min(end, b + max(1, round(minutes / slot_minutes)))] = 0
    return cover


def _prune(
    chosen: list[tuple[Template, int]],
    covers: IntArray,
    options: list[tuple[Template, int, IntArray]],
    deficit: IntArray,
) -> list[tuple[Template, int]]:
    """Drop shifts the others make redundant, longest first (greedy covering over-covers)."""
    index = {(id(o[0]), o[1]): i for i, o in enumerate(options)}
    surplus = -np.minimum(deficit, 0)
    kept = list(chosen)
    for shift in sorted(chosen, key=lambda c: -c[0].hours):
        cover = covers[index[(id(shift[0]), shift[1])]]
        if (surplus - cover >= 0).all():
            surplus = surplus - cover
            kept.remove(shift)
    return kept


def plan_shifts(
    need: Sequence[int],
    slot_minutes: int,
    *,
    day_start: float = 0.0,
    templates: Sequence[Template] = TEMPLATES,
    start_every_minutes: int = 30,
) -> list[Shift]:
    """Shifts (in seconds from ``day_start``'s clock) that meet ``need`` in every slot."""
    slots = len(need)
    deficit = np.asarray(need, dtype=np.int64).copy()
    step = max(1, start_every_minutes // slot_minutes)
    options: list[tuple[Template, int, IntArray]] = []
    for t in templates:
        length = round(t.hours * 60 / slot_minutes)
        for start in range(0, max(1, slots - length + 1), step):
            options.append((t, start, _coverage(t, start, slots, slot_minutes)))
    if not options:
        return []
    covers = np.stack([o[2] for o in options])
    paid = np.array([o[0].hours for o in options])
    chosen: list[tuple[Template, int]] = []
    while (deficit > 0).any():
        gain = (covers * (deficit > 0)).sum(axis=1) / paid
        best = int(np.argmax(gain))
        if gain[best] <= 0:
            break  # a slot no shift can cover (none is short enough)
        chosen.append(options[best][:2])
        deficit -= covers[best]
    chosen = _prune(chosen, covers, options, deficit)
    out = []
    seconds = slot_minutes * 60
    for index, (t, start) in enumerate(sorted(chosen, key=lambda c: (c[1], -c[0].hours))):
        begin = day_start + start * seconds
        # Breaks of shifts starting together are staggered by a slot, so that not everyone
        # leaves the phones at once.
        stagger = (index % 3 - 1) * seconds
        breaks = tuple(
            (begin + after * 3600 + stagger, begin + after * 3600 + stagger + minutes * 60)
            for after, minutes in t.breaks
        )
        out.append(Shift(begin, min(day_start + slots * seconds, begin + t.hours * 3600), breaks))
    return out

"""Shift planning: every slot's need is met, breaks are taken away from cover."""

from __future__ import annotations

import numpy as np
import pytest

from simulation.shifts import FULL_DAY, plan_shifts


def cover(shifts: list, slots: int, minutes: int) -> np.ndarray:  # type: ignore[type-arg]
    out = np.zeros(slots, dtype=int)
    for s in shifts:
        for i in range(slots):
            at = i * minutes * 60
            if s.start <= at < s.end and not any(b <= at < e for b, e in s.breaks):
                out[i] += 1
    return out


@pytest.mark.parametrize("minutes", [15, 30])
def test_every_slot_is_covered_and_breaks_are_off_the_phones(minutes: int) -> None:
    slots = 1440 // minutes
    hours = np.arange(slots) * minutes / 60
    need = np.round(np.clip(8 * np.sin((hours - 6) / 16 * np.pi), 0, None) + 1).astype(int)
    shifts = plan_shifts(list(need), minutes)
    assert (cover(shifts, slots, minutes) >= need).all()
    assert all(s.end <= 86400 for s in shifts)
    full = [s for s in shifts if s.end - s.start == FULL_DAY.hours * 3600]
    assert full
    assert all(len(s.breaks) == 3 for s in full)


def test_no_need_no_shifts_and_paid_hours_stay_near_the_need() -> None:
    assert plan_shifts([0] * 96, 15) == []
    need = [6] * 96
    shifts = plan_shifts(need, 15)
    paid = sum(s.end - s.start for s in shifts) / 3600
    assert paid < 6 * 24 * 1.5

"""Surge days: the calls of a day run over what the forecast and the roster expect."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from simulation.profile import load_profile
from simulation.world import WorldSpec, build_world, need_of_day

DAY = 86400.0


def calls_per_day(spec: WorldSpec, seed: int = 1) -> list[int]:
    world = build_world(load_profile(), spec, seed)
    counts = np.bincount((world.calls.arrivals // DAY).astype(int), minlength=spec.days)
    return [int(c) for c in counts]


def test_a_surge_day_has_its_share_more_calls_and_the_others_are_unchanged() -> None:
    plain = calls_per_day(WorldSpec(days=3))
    surged = calls_per_day(WorldSpec(days=3, surge_days=(1,), surge=1.3))
    assert 1.2 < surged[1] / plain[1] < 1.4
    assert surged[0] == pytest.approx(plain[0], rel=0.05)


def test_the_roster_and_the_history_do_not_know_of_the_surge() -> None:
    profile = load_profile()
    plain = build_world(profile, WorldSpec(days=2), 1)
    surged = build_world(profile, WorldSpec(days=2, surge_days=(0, 1)), 1)
    assert surged.history == plain.history
    target = (0.8, 20.0, 0.9)
    assert need_of_day(surged, 0, target) == need_of_day(plain, 0, target)


def test_surge_days_must_be_simulated_days() -> None:
    with pytest.raises(ValidationError, match="surge days"):
        WorldSpec(days=2, surge_days=(2,))

"""The hindsight bound on a case worked by hand."""

from __future__ import annotations

import numpy as np
import pytest

from simulation.center import CallStream
from simulation.hindsight import hindsight, realized


def test_spare_agents_beyond_the_erlang_need_are_the_bound() -> None:
    # Quarter hours: nobody calls (all 3 agents spare); one one-minute call (one agent
    # answers it at once with probability 14/15, over the 80% target: 1 needed, 1 spare);
    # 600 calls of 3 minutes, 120 Erlang, more than the 5 staffed (none spare, never below).
    bound = hindsight(
        [0, 1, 600],
        [180, 60, 180],
        [3, 2, 5],
        interval_minutes=15,
        target_sl=0.8,
        target_seconds=20,
        patience_seconds=120,
    )
    assert bound.needed[:2] == [0, 1]
    assert bound.needed[2] > 5
    assert bound.spare == [3, 1, 0]
    assert bound.hours == pytest.approx(1.0)  # 4 agents x 15 minutes
    assert bound.share(0.5) == pytest.approx(0.5)


def test_nothing_spare_has_no_share() -> None:
    bound = hindsight(
        [0],
        [180],
        [0],
        interval_minutes=15,
        target_sl=0.8,
        target_seconds=20,
        patience_seconds=None,
    )
    assert bound.hours == 0
    assert bound.share(1.0) is None


def test_realized_calls_and_handle_times_per_interval() -> None:
    stream = CallStream(np.array([10.0, 20.0, 1000.0]), np.array([100.0, 200.0, 60.0]), None)
    calls, aht = realized(stream, 3, 15, 180.0)
    assert calls == [2.0, 1.0, 0.0]
    assert aht == [150.0, 60.0, 180.0]

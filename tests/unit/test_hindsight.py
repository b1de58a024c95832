"""The hindsight bound on a case worked by hand."""

from __future__ import annotations

import numpy as np
import pytest

from simulation.center import CallStream
from simulation.hindsight import hindsight, realized, work_by_interval


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


def test_spare_time_counts_only_where_work_was_waiting() -> None:
    # Four quarter hours, nobody calls, 4 agents spare in each (1 agent-hour an interval).
    # Work: 0.5 h arrives in the first, nothing in the second, 3 h in the third. The first
    # interval uses 0.5 h, the second has nothing to do, the third 1 h, the fourth the next
    # 1 h of what is left: 2.5 h of the 4 spare; 1 h of work is still waiting at the end.
    bound = hindsight(
        [0, 0, 0, 0],
        [180] * 4,
        [4, 4, 4, 4],
        interval_minutes=15,
        target_sl=0.8,
        target_seconds=20,
        patience_seconds=None,
        work_hours=[0.5, 0.0, 3.0, 0.0],
    )
    assert bound.spare_hours == pytest.approx(4.0)
    assert bound.usable == pytest.approx([0.5, 0.0, 1.0, 1.0])
    assert bound.hours == pytest.approx(2.5)
    assert bound.share(2.0) == pytest.approx(0.8)


def test_work_counts_in_the_interval_it_arrived_in() -> None:
    # Waiting before the first interval counts in it; after the last, nowhere.
    work = work_by_interval([-500.0, 100.0, 1000.0, 5000.0], [3600, 1800, 900, 3600], 3, 15)
    assert work == pytest.approx([1.5, 0.25, 0.0])

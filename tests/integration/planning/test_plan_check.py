"""The back-office plan against the simulated center (``blendbot simulate --plan-check``).

The plan is made after the first days of a simulated month, on the engine's own reading of the
database; the rest of the days are run as they are and again with the plan's extra hours as
dedicated back-office agents (the hours at the arrivals' upper 80% bound). Every type's backlog
is measured against its band each day after the plan, and the added hours must lift the
back-office SLA attainment from well under the target to it. The work waiting at the start of
the first day came before it: the plan learns it as the arrivals of the days before, not of the
first day (counted so, it had widened the bands threefold and made their coverage worthless).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli.plan_check import plan_check
from bot.settings import Settings
from simulation.world import WorldSpec

pytestmark = [pytest.mark.timeout(900), pytest.mark.simulation]
TARGET = 0.9


async def test_the_plan_holds_against_the_simulator_and_its_hours_reach_the_target(
    server_url: str, tmp_path: Path
) -> None:
    settings = Settings(database_url=server_url, data_dir=tmp_path)
    result = await plan_check(
        settings, WorldSpec(days=5), 2, plan_after=2, hours="80", target=TARGET
    )

    # The days before the plan: the arrivals it learnt from are the world's, day by day.
    assert [(a.counted, a.drawn) for a in result.arrivals] == [
        (a.drawn, a.drawn) for a in result.arrivals
    ]
    assert len(result.arrivals) == 2
    # Every type on every day after the plan was measured against its band, and the bands
    # hold: measured 12 of 15 inside for this seed with the live rule lending (the default).
    assert len(result.checks) == 5 * 3
    assert result.coverage_80 >= 0.75
    assert result.extra_hours > 0
    without, with_extra = result.without.sla_attainment, result.with_extra.sla_attainment
    assert without is not None
    assert with_extra is not None
    assert without < TARGET  # the lulls alone leave work late (87.7%): hours to add
    # The plan's hours reach the target: measured 93.9% with its 49.5 hours against 87.7%
    # without. Its hours at the mean arrivals fall short: the README says why.
    assert with_extra >= TARGET
    assert with_extra - without >= 0.05
    assert result.with_extra.due == result.without.due

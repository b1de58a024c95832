"""The back-office plan against the simulated center (``blendbot simulate --plan-check``).

The plan is made after the first days of a simulated month, on the engine's own reading of the
database; the rest of the days are run as they are and again with the plan's extra hours as
dedicated back-office agents. Every type's backlog is measured against its band each day after
the plan, and the added hours must lift the back-office SLA attainment from well under the
target to near it. (The band coverage and the exact target are reported, not asserted here:
the README says why the coverage figure is not yet a fair one and by how much the target is
missed in some runs.)
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
    result = await plan_check(settings, WorldSpec(days=5), 1, plan_after=2, target=TARGET)

    # Every type on every day after the plan was measured against its band.
    assert len(result.checks) == 5 * 3
    assert result.extra_hours > 0
    without, with_extra = result.without.sla_attainment, result.with_extra.sla_attainment
    assert without is not None
    assert with_extra is not None
    assert without < TARGET - 0.2  # the lulls alone leave much work late: hours to add
    # The plan's hours close most of the gap: measured 87.8% to 90.5% against 48.5% without.
    assert with_extra >= TARGET - 0.05
    assert with_extra - without >= 0.3
    assert result.with_extra.due == result.without.due

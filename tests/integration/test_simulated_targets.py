"""The default policy spends the slack it is given (two simulated days of the default center,
a fixed seed): the phones keep their target and at most half a point more abandonment than
with no blending, and the back office gets a fifth more than the forecast's surplus alone
gives, mostly within its SLA."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from blending.policy_names import PolicyName
from bot.cli.simulate import policies_of
from bot.cli.simulated_days import prepared_world, run_on_clone
from bot.cli.what_if import engine_settings, settings_with
from bot.settings import Settings
from simulation.world import WorldSpec

pytestmark = pytest.mark.timeout(900)
SEED = 1
FIGURES = (
    "service_level",
    "abandon_rate",
    "backoffice_completed",
    "backoffice_sla_attainment",
    "hindsight_share",
)


@pytest.fixture
def env(server_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", server_url)
    monkeypatch.setenv("BLENDBOT_DATA_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)  # no .env of the developer's


async def test_the_default_policy_meets_the_targets_on_two_days(env: None) -> None:
    settings = settings_with({})
    base = engine_settings(settings)
    surplus_only = settings_with({"live_extra": "0", "live_recall_waiting": "0"})
    async with prepared_world(settings, WorldSpec(days=2), SEED, base) as prepared:
        runs = {}
        cases: tuple[tuple[str, Settings, PolicyName], ...] = (
            ("none", settings, "none"),
            ("default", settings, "forecast_guard"),
            ("surplus only", surplus_only, "forecast_guard"),
        )
        for name, s, policy in cases:
            engine = replace(engine_settings(s), policy=policies_of(s)(policy, None))
            runs[name] = (await run_on_clone(prepared, engine)).figures
    none, new, old = (
        {k: _number(f[k]) for k in FIGURES}
        for f in (runs["none"], runs["default"], runs["surplus only"])
    )
    assert new["service_level"] >= 0.8
    assert new["abandon_rate"] <= none["abandon_rate"] + 0.005
    assert new["backoffice_completed"] >= 1.2 * old["backoffice_completed"]
    assert new["backoffice_sla_attainment"] >= 0.8
    assert new["hindsight_share"] > old["hindsight_share"]


def _number(value: object) -> float:
    assert isinstance(value, int | float)
    return float(value)

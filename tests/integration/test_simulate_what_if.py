"""The simulator is a what-if tool: the service's settings change what the simulated engine
does (one simulated day, a fixed seed)."""

from __future__ import annotations

import json
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from bot.cli.simulate import policies_of, sweep_runs
from bot.cli.simulated_days import prepared_world, run_on_clone
from bot.cli.what_if import Sweep, engine_settings, settings_with, used
from simulation.world import WorldSpec
from tests.support.cli import blendbot

pytestmark = [pytest.mark.timeout(600), pytest.mark.simulation]
SURPLUS = {"live_extra": "0", "live_recall_waiting": "0", "live_recall_share": "0"}
"""The forecast's surplus alone: the live rule (the default) off."""
SEED = 2
SPEC = WorldSpec(days=1)


@pytest.fixture
def env(server_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", server_url)
    monkeypatch.setenv("BLENDBOT_DATA_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)  # no .env of the developer's


async def test_the_target_the_guard_and_the_bound_each_change_the_run(env: None) -> None:
    # The target shapes the first forecast too: each value gets a world of its own.
    # The forecast's surplus alone (the live rule off), so that the target alone changes.
    target = Sweep("target_service_level", ("0.8", "0.5"))
    rows = await sweep_runs(dict(SURPLUS), target, SPEC, SEED, ["forecast_guard"], None)
    at_80, at_50 = (r["figures"] for r in rows)
    assert rows[1]["settings"]["BLENDBOT_TARGET_SERVICE_LEVEL"] == 0.5
    assert at_50 != at_80
    assert at_50["backoffice_completed"] > at_80["backoffice_completed"]  # fewer kept back

    base_settings = settings_with({})
    base = engine_settings(base_settings)
    async with prepared_world(base_settings, SPEC, SEED, base) as prepared:
        figures = {}
        for name, overrides in {
            "surplus": SURPLUS,
            "guard": {**SURPLUS, "guard_hold_waiting": "8", "guard_recall_waiting": "8"},
            "bound": {**SURPLUS, "blending_bound": "mean"},
            "live": {},
            "none": {"blending_policy": "none"},
        }.items():
            settings = settings_with(overrides)
            policy = policies_of(settings)(settings.blending_policy, None)
            engine = replace(engine_settings(settings), policy=policy)
            figures[name] = (await run_on_clone(prepared, engine)).figures
    # The same seed in a world prepared again: the very same run, with the live rule and
    # without (the order of offers made together no longer follows the table statistics).
    assert figures["surplus"] == at_80
    again = settings_with({})
    async with prepared_world(again, SPEC, SEED, engine_settings(again)) as other:
        policy = policies_of(again)("forecast_guard", None)
        rerun = await run_on_clone(other, replace(engine_settings(again), policy=policy))
    assert rerun.figures == figures["live"]
    assert figures["guard"] != figures["surplus"]
    assert figures["bound"] != figures["surplus"]
    done = {name: f["backoffice_completed"] for name, f in figures.items()}
    assert isinstance(done["bound"], int)
    assert isinstance(done["surplus"], int)
    assert isinstance(done["live"], int)
    assert done["bound"] > done["surplus"]
    # The live rule spends the slack the live queue shows, within the limits: the service
    # level at least the target, abandonment at most half a point over no blending, a fifth
    # more back-office work than the forecast's surplus alone, in its SLA, and more of what
    # the hindsight bound says was possible. (On this one day the work never runs out, so the
    # bound is all the spare time; over the README's weeks the rule reaches 80% of it.)
    live, none = figures["live"], figures["none"]
    assert done["live"] >= 1.2 * done["surplus"]
    assert float(live["service_level"] or 0) >= 0.8
    assert float(live["abandon_rate"] or 0) <= float(none["abandon_rate"] or 0) + 0.005
    assert float(live["backoffice_sla_attainment"] or 0) >= 0.8
    assert float(live["hindsight_share"] or 0) >= 0.65
    assert float(live["hindsight_share"] or 0) > float(figures["surplus"]["hindsight_share"] or 0)


def test_a_sweep_prints_a_row_per_value(cli_env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "sweep.json"
    result: subprocess.CompletedProcess[str] = blendbot(
        {**cli_env, "COLUMNS": "200", "BLENDBOT_MAX_WINDOW_MINUTES": "60"},
        "simulate",
        "--policy",
        "reserve_k",
        "--set",
        "BLENDBOT_GUARD_CALM_SECONDS=60",
        "--sweep",
        "BLENDBOT_RESERVE_K=1,3",
        "--json",
        str(out),
        timeout=500,
    )
    assert result.returncode == 0, result.stderr
    body = json.loads(out.read_text())
    sweep = body["sweep"]
    assert sweep["key"] == "BLENDBOT_RESERVE_K"
    assert [(r["value"], r["policy"]) for r in sweep["rows"]] == [
        ("1", "reserve_k"),
        ("3", "reserve_k"),
    ]
    low, high = (r["figures"] for r in sweep["rows"])
    assert low["backoffice_completed"] > high["backoffice_completed"]
    for row in sweep["rows"]:
        # the environment, --set and the swept value, all in what the run used
        assert row["settings"]["BLENDBOT_MAX_WINDOW_MINUTES"] == 60
        assert row["settings"]["BLENDBOT_GUARD_CALM_SECONDS"] == 60
        assert row["settings"]["BLENDBOT_RESERVE_K"] == int(row["value"])
    assert body["backoffice_arrived"] > 0
    assert "BLENDBOT_RESERVE_K=1 reserve_k" in result.stdout
    assert "BLENDBOT_RESERVE_K=3 reserve_k" in result.stdout


def test_used_names_every_engine_setting(env: None) -> None:
    shown = used(settings_with({"acd_mode": "control"}))
    assert shown["BLENDBOT_ACD_MODE"] == "control"
    assert shown["BLENDBOT_FORECAST_MINUTES"] == 120  # the simulation's refresh, unless set

"""``blendbot simulate`` on simulated days and ``blendbot demo``, from the command line."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.support.cli import blendbot

pytestmark = pytest.mark.simulation

KEYS = {
    "service_level",
    "asa_seconds",
    "abandon_rate",
    "utilization",
    "backoffice_completed",
    "backoffice_sla_attainment",
    "backlog_end",
    "recall_delay_seconds",
    "hindsight_hours",
    "hindsight_spare_hours",
    "hindsight_share",
}
SCENARIO_KEYS = KEYS - {
    "recall_delay_seconds",
    "hindsight_hours",
    "hindsight_spare_hours",
    "hindsight_share",
}
"""A scenario file runs the policy code alone: no phone system to recall through, and no
realized center to measure a hindsight bound on."""


def _wide(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return blendbot({**env, "COLUMNS": "160"}, *args, timeout=600)


@pytest.mark.timeout(300)
def test_same_seed_same_numbers(cli_env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "run.json"
    args = ("simulate", "--days", "1", "--seed", "4", "--policy", "forecast_guard")
    first = _wide(cli_env, *args, "--json", str(out))
    assert first.returncode == 0, first.stderr
    body = json.loads(out.read_text())
    assert set(body["policies"]) == {"forecast_guard"}
    figures = body["policies"]["forecast_guard"]
    assert set(figures) == KEYS
    # The bound counts spare time only where there was back-office work for it.
    assert 0 < figures["hindsight_hours"] <= figures["hindsight_spare_hours"]
    again = _wide(cli_env, *args, "--json", str(out))
    assert again.returncode == 0, again.stderr
    assert json.loads(out.read_text()) == body
    assert "forecast_guard" in first.stdout


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--days", "0"), "--days"),
        (("--k", "-1"), "--k"),
        (("--scale", "0"), "scale"),
        (("--start", "1999-13-01"), "start"),
    ],
)
def test_bad_options_are_explained(
    cli_env: dict[str, str], args: tuple[str, ...], words: str
) -> None:
    result = _wide(cli_env, "simulate", *args)
    assert result.returncode in (1, 2)
    assert words in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--acd-mode", "manual"), "--acd-mode"),
        (("--set", "BLENDBOT_NO_SUCH=1"), "BLENDBOT_NO_SUCH"),
        (("--set", "BLENDBOT_PORT=8081"), "does not read it"),
        (("--set", "BLENDBOT_TARGET_SERVICE_LEVEL=1.5"), "BLENDBOT_TARGET_SERVICE_LEVEL"),
        (("--set", "BLENDBOT_GUARD_HOLD_WAITING=8"), "BLENDBOT_GUARD_RECALL_WAITING"),
        (("--set", "BLENDBOT_ACD_MODE=manual"), "BLENDBOT_ACD_MODE"),
        (("--set", "target_service_level"), "KEY=VALUE"),
        (("--sweep", "BLENDBOT_RESERVE_K=1,x"), "BLENDBOT_RESERVE_K"),
        (("--sweep", "BLENDBOT_RESERVE_K="), "KEY=v1,v2"),
    ],
)
def test_bad_settings_are_named_and_nothing_runs(
    cli_env: dict[str, str], args: tuple[str, ...], words: str
) -> None:
    result = _wide(cli_env, "simulate", *args)
    assert result.returncode == 2
    assert words in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.timeout(600)
def test_the_demo_reaches_the_targets_through_slack(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    report, out = tmp_path / "demo.html", tmp_path / "demo.json"
    result = _wide(cli_env, "demo", "--report", str(report), "--json", str(out))
    assert result.returncode == 0, result.stderr
    body = json.loads(out.read_text())
    p = body["policies"]
    assert set(p) == {"none", "reserve_k", "forecast", "forecast_guard"}
    assert all(set(f) == KEYS for f in p.values())
    none, guard, tuned = p["none"], p["forecast_guard"], p["reserve_k"]
    assert guard["utilization"] >= 1.17 * none["utilization"]
    assert guard["service_level"] >= 0.8
    assert guard["abandon_rate"] <= none["abandon_rate"] + 0.005
    assert tuned["service_level"] >= guard["service_level"]
    assert guard["backoffice_completed"] >= tuned["backoffice_completed"]
    slack = body["slack"]
    assert slack["posted"] > 0
    assert slack["clicks"] >= guard["backoffice_completed"] * 2
    assert slack["refused"] == 0
    modes = body["acd_modes"]
    assert set(modes) == {"advisory", "control", "interruptible"}
    assert modes["advisory"] == guard  # the run through Slack
    assert modes["interruptible"]["backoffice_completed"] > guard["backoffice_completed"]
    assert body["backoffice_arrived"] > 0
    assert body["settings"]["BLENDBOT_ACD_MODE"] == "advisory"
    html = report.read_text()
    assert len(re.findall(r'src="data:image/png;base64,', html)) == 4
    assert "forecast_guard" in html
    assert "forecast_guard in each ACD mode" in html
    # The plan for the days after, made on the run's database once its task history is in.
    assert "Back-office plan for the next 7 days" in html
    assert "Hours per skill set" in html
    assert "billing: extra needed" in html

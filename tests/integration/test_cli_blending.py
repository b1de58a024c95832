"""``blendbot staffing`` and ``blendbot backtest`` from the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.integration.test_cli_simulate import SCENARIO_KEYS
from tests.support.call_center_data import SHARED_DATA, bank_arrivals

ARRIVALS = SHARED_DATA / "anonymous_bank_1999_6min_arrivals.csv"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli.main", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "COLUMNS": "120"},
    )


def test_staffing_json_has_the_documented_keys() -> None:
    result = _run(
        "staffing",
        "--calls",
        "100",
        "--interval-minutes",
        "30",
        "--aht-seconds",
        "180",
        "--target-sl",
        "0.8",
        "--target-seconds",
        "20",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert set(body) == {"agents", "service_level", "asa_seconds", "occupancy", "abandon_rate"}
    assert body["agents"] == 14
    assert body["service_level"] == pytest.approx(0.8884, abs=1e-4)
    assert body["abandon_rate"] is None


@pytest.mark.parametrize(
    "args",
    [
        ("--calls", "-5", "--interval-minutes", "30", "--aht-seconds", "180"),
        ("--calls", "100", "--interval-minutes", "0", "--aht-seconds", "180"),
        (
            "--calls",
            "100",
            "--interval-minutes",
            "30",
            "--aht-seconds",
            "180",
            "--target-sl",
            "1.0",
            "--target-seconds",
            "0",
        ),
    ],
)
def test_staffing_bad_input_is_one_clear_line(args: tuple[str, ...]) -> None:
    result = _run("staffing", *args)
    assert result.returncode == 1
    assert result.stderr.startswith("error: ")
    assert "Traceback" not in result.stderr


def test_backtest_refuses_an_empty_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    result = _run("backtest", "--csv", str(empty))
    assert result.returncode == 1
    assert result.stderr.startswith("error: ")
    assert "Traceback" not in result.stderr


def test_backtest_on_the_real_arrivals_writes_json_and_plot(tmp_path: Path) -> None:
    if not ARRIVALS.exists():
        pytest.skip(f"the shared call-center data is not here: {ARRIVALS}")
    out, plot = tmp_path / "result.json", tmp_path / "last_fold.png"
    result = _run(
        "backtest", "--csv", str(ARRIVALS), "--folds", "3", "--json", str(out), "--plot", str(plot)
    )
    assert result.returncode == 0, result.stderr
    body = json.loads(out.read_text())
    assert {"interval_minutes", "folds", "baseline", "models", "best", "best_vs_baseline"} <= set(
        body
    )
    assert body["interval_minutes"] == 6
    assert body["baseline"] == "seasonal_naive"
    assert body["best_vs_baseline"] < 1
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "best:" in result.stdout


def test_backtest_on_generated_arrivals_writes_json_and_plot(tmp_path: Path) -> None:
    """The same command on eight weeks of arrivals in the bank's format, drawn from the
    shipped profile."""
    arrivals = bank_arrivals(tmp_path / "arrivals.csv", weeks=8)
    out, plot = tmp_path / "result.json", tmp_path / "last_fold.png"
    result = _run(
        "backtest", "--csv", str(arrivals), "--folds", "3", "--json", str(out), "--plot", str(plot)
    )
    assert result.returncode == 0, result.stderr
    body = json.loads(out.read_text())
    assert {"interval_minutes", "folds", "baseline", "models", "best", "best_vs_baseline"} <= set(
        body
    )
    assert (body["interval_minutes"], body["folds"]) == (6, 3)
    assert body["baseline"] == "seasonal_naive"
    assert body["best_vs_baseline"] < 1
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "best:" in result.stdout


def test_simulate_a_scenario_file(tmp_path: Path) -> None:
    scenario = {
        "hours": 30,
        "agents": 14,
        "arrivals": {"per_hour": 200},
        "handle_seconds": {"dist": "exponential", "mean": 180},
        "patience_seconds": None,
        "backoffice": {
            "backlog": "unlimited",
            "task_seconds": {"dist": "exponential", "mean": 180},
        },
        "policy": {"name": "reserve_k", "k": 4},
        "target": {"service_level": 0.8, "seconds": 20},
        "seed": 1,
    }
    path, out = tmp_path / "scenario.json", tmp_path / "out.json"
    path.write_text(json.dumps(scenario))
    first = _run("simulate", "--scenario", str(path), "--json", str(out))
    assert first.returncode == 0, first.stderr
    body = json.loads(out.read_text())["policies"]["reserve_k"]
    assert set(body) == SCENARIO_KEYS
    again = _run("simulate", "--scenario", str(path), "--json", str(out))
    assert again.returncode == 0
    assert json.loads(out.read_text())["policies"]["reserve_k"] == body
    path.write_text(json.dumps({**scenario, "agents": 0}))
    bad = _run("simulate", "--scenario", str(path))
    assert bad.returncode == 1
    assert bad.stderr.startswith("error: ")
    assert "agents" in bad.stderr
    assert "Traceback" not in bad.stderr

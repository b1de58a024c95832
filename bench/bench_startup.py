"""How long a ``blendbot`` command takes to start and answer, next to an empty interpreter.

    .venv/bin/python -m bench.bench_startup [--runs 15]

Each command runs as a fresh process, interleaved with the others so that a busy moment of
the shared machine falls on all of them alike; medians are reported. ``migrate`` runs
against an up-to-date database on the server ``BLENDBOT_BENCH_DATABASE_URL`` names (the
embedded one otherwise, started once beforehand so that its start is not counted).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from bench.common import drop_database, fresh_database, median, server_url

BIN = Path(sys.executable).parent
TARGET_SECONDS = 0.5
STAFFING = ["staffing", "--calls", "100", "--interval-minutes", "15", "--aht-seconds", "180"]
ONE_LINE = (
    "from blending.staffing import agents_needed; "
    "print(agents_needed(100, 15, 180, 0.8, 20, 1.0, None).agents)"
)


def _commands() -> dict[str, list[str]]:
    blendbot = str(BIN / "blendbot")
    return {
        "baseline: `python -c pass`": [sys.executable, "-c", "pass"],
        "baseline: a one-line Erlang C script": [sys.executable, "-c", ONE_LINE],
        "`blendbot --help`": [blendbot, "--help"],
        "`blendbot staffing ...`": [blendbot, *STAFFING],
        "`blendbot migrate` (up to date)": [blendbot, "migrate"],
    }


def _time(command: Sequence[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def measure(runs: int, database_url: str) -> dict[str, list[float]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BLENDBOT_")}
    env["DATABASE_URL"] = database_url
    commands = _commands()
    subprocess.run(commands["`blendbot migrate` (up to date)"], env=env, check=True)
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            times[name].append(_time(command, env))
    return times


def section(runs: int = 15) -> str:
    with server_url() as url:
        db_url = asyncio.run(fresh_database(url))
        try:
            times = measure(runs, db_url)
        finally:
            asyncio.run(drop_database(url, db_url))
    lines = [
        "## Command start-up",
        "",
        f"`.venv/bin/python -m bench.bench_startup --runs {runs}`: each command a fresh "
        f"process, {runs} interleaved runs, medians; `migrate` against an up-to-date database.",
        "",
        "| command | median (s) | fastest (s) |",
        "|---|---|---|",
    ]
    for name, values in times.items():
        lines.append(f"| {name} | {median(values):.3f} | {min(values):.3f} |")
    slow = [
        name
        for name, values in times.items()
        if name.startswith("`") and median(values) >= TARGET_SECONDS
    ]
    verdict = "all under it" if not slow else "over it: " + ", ".join(slow)
    lines += ["", f"Target: each command under {TARGET_SECONDS} s ({verdict}).", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    print(section(args.runs))


if __name__ == "__main__":
    main()

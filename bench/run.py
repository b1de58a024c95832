"""Run every benchmark and write ``docs/benchmarks.md``.

    .venv/bin/python -m bench.run [--quick] [--only NAME ...]

Each section names the command that produced it; figures are medians of several runs, next to
a baseline measured in the same run, because the machine is shared and noisy. With ``--only``
(api, import, queues, next, forecast, forecast_cluster, feeds, slack, blending, startup,
faults, eta, sources, plan, reports, console, large), just those sections are run again and
replaced in ``docs/benchmarks.md``; the others stay as they were.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import platform
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bench import (
    bench_api,
    bench_blending,
    bench_eta,
    bench_forecast,
    bench_import,
    bench_next,
    bench_queues,
    bench_startup,
)

ROOT = Path(__file__).resolve().parent.parent


def _large(quick: bool) -> str:
    """The large center once (it takes tens of minutes); quick: a tenth of it for 2 minutes."""
    large = importlib.import_module("bench.bench_large")
    shape = large.Shape(1_000, 50, 100_000, 2) if quick else large.Shape(10_000, 500, 1_000_000, 15)
    text: str = asyncio.run(large.main_async(shape))
    return text


SECTIONS: dict[str, Callable[[bool, int], str]] = {
    "api": lambda quick, runs: asyncio.run(bench_api.main_async(5 if quick else 10, 32, runs)),
    "import": lambda quick, runs: asyncio.run(bench_import.main_async(100_000, runs)),
    "queues": lambda quick, runs: asyncio.run(bench_queues.main_async(100_000, runs)),
    "next": lambda quick, runs: asyncio.run(bench_next.main_async(10_000, runs)),
    "forecast": lambda quick, runs: bench_forecast.section(quick=quick),
    "forecast_cluster": lambda quick, runs: bench_forecast.cluster_section(quick=quick),
    "feeds": lambda quick, runs: importlib.import_module("bench.bench_feeds").section(quick=quick),
    "slack": lambda quick, runs: importlib.import_module("bench.bench_slack").section(quick=quick),
    "blending": lambda quick, runs: bench_blending.section(quick=quick),
    "startup": lambda quick, runs: bench_startup.section(5 if quick else 15),
    "faults": lambda quick, runs: asyncio.run(
        importlib.import_module("bench.bench_faults").main_async(runs)
    ),
    "eta": lambda quick, runs: asyncio.run(bench_eta.main_async(100_000, runs)),
    "sources": lambda quick, runs: importlib.import_module("bench.bench_sources").section(
        quick=quick
    ),
    "plan": lambda quick, runs: asyncio.run(
        importlib.import_module("bench.bench_plan").main_async(runs)
    ),
    "reports": lambda quick, runs: asyncio.run(
        importlib.import_module("bench.bench_reports").main_async(
            20_000 if quick else 100_000, 10 if quick else 90, runs
        )
    ),
    "console": lambda quick, runs: asyncio.run(
        importlib.import_module("bench.bench_console").main_async(
            20_000 if quick else 100_000,
            10 if quick else 90,
            10 if quick else 20 * runs,
            3 if quick else 5,
            100,
            16,
        )
    ),
    "large": lambda quick, runs: _large(quick),
}


def _split(text: str) -> dict[str, str]:
    """The sections of a written file, by their heading."""
    parts = re.split(r"^(?=## )", text, flags=re.MULTILINE)
    return {p.splitlines()[0]: p.rstrip() + "\n" for p in parts if p.startswith("## ")}


def _rerun(before: str, names: list[str]) -> list[str]:
    """The sections rerun today: those the file already lists for today, and these."""
    today = f"on {datetime.now(UTC):%Y-%m-%d} "
    found = re.search(r"Sections rerun that day: ([^.]*)\.", before)
    listed = found.group(1).split(", ") if found and today in before else []
    return list(dict.fromkeys([*listed, *names]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="one short run of each")
    parser.add_argument("--only", nargs="+", choices=list(SECTIONS), help="just these sections")
    args = parser.parse_args()
    runs = 1 if args.quick else 3
    out = ROOT / "docs" / "benchmarks.md"
    names = args.only or list(SECTIONS)
    fresh = [SECTIONS[name](args.quick, runs) for name in names]
    before = out.read_text() if args.only and out.exists() else ""
    kept = _split(before)
    for section in fresh:
        kept[section.splitlines()[0]] = section.rstrip() + "\n"
    header = [
        "# Benchmarks",
        "",
        f"Written by `.venv/bin/python -m bench.run` on {datetime.now(UTC):%Y-%m-%d} "
        f"({platform.machine()}, {platform.python_implementation()} "
        f"{platform.python_version()}, 2 cores shared with other work). Benchmarks are not "
        "tests: run them by hand on a quiet machine and commit the result."
        + (f" Sections rerun that day: {', '.join(_rerun(before, names))}." if args.only else ""),
        "",
    ]
    text = "\n".join(header) + "\n".join(kept.values() if args.only else fresh)
    (ROOT / "docs").mkdir(exist_ok=True)
    out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()

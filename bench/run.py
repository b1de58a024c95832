"""Run every benchmark and write ``docs/benchmarks.md``.

    .venv/bin/python -m bench.run [--quick]

Each section names the command that produced it; figures are medians of several runs, next to
a baseline measured in the same run, because the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import platform
from datetime import UTC, datetime
from pathlib import Path

from bench import bench_api, bench_forecast, bench_import, bench_queues

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="one short run of each")
    args = parser.parse_args()
    runs = 1 if args.quick else 3
    sections = [
        asyncio.run(bench_api.main_async(5 if args.quick else 10, 32, runs)),
        asyncio.run(bench_import.main_async(100_000, runs)),
        asyncio.run(bench_queues.main_async(100_000, runs)),
        bench_forecast.section(quick=args.quick),
    ]
    for name in ("bench_feeds", "bench_slack"):
        try:
            module = importlib.import_module(f"bench.{name}")
        except ImportError:
            continue
        sections.append(module.section(quick=args.quick))
    header = [
        "# Benchmarks",
        "",
        f"Written by `.venv/bin/python -m bench.run` on {datetime.now(UTC):%Y-%m-%d} "
        f"({platform.machine()}, {platform.python_implementation()} "
        f"{platform.python_version()}, 2 cores shared with other work). Benchmarks are not "
        "tests: run them by hand on a quiet machine and commit the result.",
        "",
    ]
    text = "\n".join(header + sections)
    (ROOT / "docs").mkdir(exist_ok=True)
    (ROOT / "docs" / "benchmarks.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()

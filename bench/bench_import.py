"""CSV import rate: ``blendbot import tasks`` on a 100,000-row file.

Each run imports the file into a fresh database. The baseline, measured in the same run, is
PostgreSQL's own ``COPY`` of the same file into a plain table with no checks: the ceiling.

    .venv/bin/python -m bench.bench_import [--rows 100000] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import tempfile
import time
from pathlib import Path

from bench.common import drop_database, fresh_database, median, server_url
from bot.database import open_pool
from bot.migrate import migrate_url
from queues.catalog import Catalog
from queues.importer import TASK_COLUMNS, import_tasks
from queues.models import TaskTypeIn

TYPES = ("billing_correction", "account_opening", "mortgage_document_check", "card_dispute")


def write_file(path: Path, rows: int) -> None:
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(TASK_COLUMNS)
        for n in range(rows):
            writer.writerow(
                [
                    f"system-{n % 7}",
                    f"EXT-{n:08d}",
                    TYPES[n % len(TYPES)],
                    f"Back-office item {n}",
                    f"CUST-{n % 20000}",
                    ("gold", "silver", "", "platinum")[n % 4],
                    f"{n % 997}.5",
                    "2026-12-01T10:00:00Z" if n % 3 == 0 else "",
                    json.dumps({"branch": n % 40, "channel": "mail"}) if n % 2 == 0 else "",
                ]
            )


async def one_run(url: str, path: Path) -> tuple[float, float]:
    db_url = await fresh_database(url)
    try:
        await migrate_url(db_url)
        async with open_pool(db_url) as pool:
            for name in TYPES:
                body = TaskTypeIn(skills=[], sla_minutes=1440, handle_minutes=10)
                await Catalog(pool).put(name, body)
            with path.open(newline="") as stream:
                report = await import_tasks(pool, stream, actor="bench")
            assert not report.errors, report.errors[:3]
            async with pool.acquire() as conn:
                await conn.execute(
                    "CREATE TABLE raw_copy (" + ", ".join(f"{c} text" for c in TASK_COLUMNS) + ")"
                )
                started = time.perf_counter()
                with path.open("rb") as raw:
                    await conn.copy_to_table("raw_copy", source=raw, format="csv", header=True)
                copy_seconds = time.perf_counter() - started
        return report.rate, report.rows / copy_seconds
    finally:
        await drop_database(url, db_url)


async def main_async(rows: int, runs: int) -> str:
    with tempfile.TemporaryDirectory() as folder, server_url() as url:
        path = Path(folder) / "tasks.csv"
        write_file(path, rows)
        results = [await one_run(url, path) for _ in range(runs)]
    rates = [r[0] for r in results]
    lines = [
        "## CSV import of tasks",
        "",
        f"`.venv/bin/python -m bench.bench_import --rows {rows} --runs {runs}`: {rows:,} rows "
        f"(half with a JSON payload), each run into a fresh database, {runs} runs, medians.",
        "",
        "| measure | rows per second |",
        "|---|---|",
        f"| `blendbot import tasks` (validated, idempotent, with events) | {median(rates):,.0f} |",
        f"| baseline: plain `COPY` into an unchecked table | "
        f"{median([r[1] for r in results]):,.0f} |",
        "",
        "Target: at least 20,000 rows per second. Runs: "
        + ", ".join(f"{r:,.0f}/s" for r in rates)
        + ".",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(asyncio.run(main_async(args.rows, args.runs)))


if __name__ == "__main__":
    main()

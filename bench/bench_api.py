"""Sustained ``POST /api/v1/tasks`` rate and latency on one instance.

Starts ``blendbot serve`` (one process) on a fresh database and drives it from this process
with a fixed number of concurrent connections, each creating new tasks. A baseline of
``GET /healthz`` (one database round trip, no write) is measured in the same run, so that a
busy machine shows in both numbers.

    .venv/bin/python -m bench.bench_api [--seconds 10] [--concurrency 32] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass

import aiohttp

from bench.common import ROOT, drop_database, fresh_database, median, percentile, server_url

TOKEN = "bench-token-0123456789abcdef"


@dataclass
class Run:
    rate: float
    p50_ms: float
    p99_ms: float
    errors: int


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _drive(base: str, seconds: float, concurrency: int, write: bool) -> Run:
    counter = itertools.count()
    latencies: list[float] = []
    errors = 0
    headers = {"Authorization": f"Bearer {TOKEN}"}
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:
        deadline = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                if write:
                    n = next(counter)
                    body = {
                        "source": "bench",
                        "external_id": f"{os.getpid()}-{time.time_ns()}-{n}",
                        "type": "billing_correction",
                        "title": f"Refund {n}",
                        "customer_ref": f"CUST-{n % 5000}",
                        "customer_tier": "gold",
                        "value": 12.5,
                        "payload": {"n": n},
                    }
                    response = await session.post(f"{base}/api/v1/tasks", json=body)
                else:
                    response = await session.get(f"{base}/healthz")
                await response.read()
                if response.status not in (200, 201):
                    errors += 1
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    ms = [x * 1000 for x in latencies]
    return Run(len(latencies) / elapsed, percentile(ms, 50), percentile(ms, 99), errors)


async def _wait_ready(base: str) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(300):
            try:
                async with session.get(f"{base}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("the server did not become ready")


async def main_async(seconds: float, concurrency: int, runs: int) -> str:
    with server_url() as url:
        db_url = await fresh_database(url)
        port = _free_port()
        env = {
            **os.environ,
            "DATABASE_URL": db_url,
            "BLENDBOT_API_TOKENS": TOKEN,
            "BLENDBOT_LOG_LEVEL": "WARNING",
            "BLENDBOT_DB_POOL_MAX": "20",
        }
        server = subprocess.Popen(
            [sys.executable, "-m", "bot.cli.main", "serve", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            await _wait_ready(base)
            async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {TOKEN}"}) as s:
                body = {"skills": ["billing"], "sla_minutes": 1440, "handle_minutes": 7}
                await s.put(f"{base}/api/v1/task-types/billing_correction", json=body)
            await _drive(base, 2, concurrency, write=True)  # warm-up
            writes, health = [], []
            for _ in range(runs):
                health.append(await _drive(base, seconds / 2, concurrency, write=False))
                writes.append(await _drive(base, seconds, concurrency, write=True))
        finally:
            server.terminate()
            server.wait(timeout=30)
            await drop_database(url, db_url)
    rate = median([r.rate for r in writes])
    lines = [
        "## Task intake API",
        "",
        f"`.venv/bin/python -m bench.bench_api --seconds {seconds:g} --concurrency "
        f"{concurrency} --runs {runs}`: one `blendbot serve` process, {concurrency} concurrent "
        f"connections from a client process on the same machine, {runs} runs, medians.",
        "",
        "| measure | POST /api/v1/tasks | baseline: GET /healthz |",
        "|---|---|---|",
        f"| requests per second | {rate:,.0f} | {median([r.rate for r in health]):,.0f} |",
        f"| p50 latency (ms) | {median([r.p50_ms for r in writes]):.1f} | "
        f"{median([r.p50_ms for r in health]):.1f} |",
        f"| p99 latency (ms) | {median([r.p99_ms for r in writes]):.1f} | "
        f"{median([r.p99_ms for r in health]):.1f} |",
        f"| errors | {sum(r.errors for r in writes)} | {sum(r.errors for r in health)} |",
        "",
        "Target: at least 1,000 task creations per second. Runs: "
        + ", ".join(f"{r.rate:,.0f}/s" for r in writes)
        + ".",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(asyncio.run(main_async(args.seconds, args.concurrency, args.runs)))


if __name__ == "__main__":
    main()

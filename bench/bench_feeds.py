"""Sustained telephony events per second through the generic feed and the Firehose endpoint,
and how far behind the interval statistics run.

A server process (this module with ``--serve``: the HTTP app with the feeds registered, on a
fresh migrated database) takes batched pushes from concurrent client connections in this
process: the generic feed with JSON lists of normalized events, Firehose with requests of
base64 records (Amazon Connect contact events and agent events). Each call is three events
(arrived, answered, ended) over ten queues, with agent state changes mixed in. Statistics are
written in the same transaction that accepts a request, so they are current when it returns;
the lag probe measures it from outside: it pushes one call and times until
``GET /api/v1/queues/probe/intervals`` counts it.

    .venv/bin/python -m bench.bench_feeds [--seconds 10] [--concurrency 8] [--batch 500]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import itertools
import json
import os
import socket
import subprocess
import sys
import time
import uuid
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp

from bench.common import ROOT, drop_database, fresh_database, median, percentile, server_url

TOKEN = "bench-token-0123456789abcdef"
KEY = "bench-firehose-key-0123456789"
QUEUES = [f"queue-{n}" for n in range(10)]
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@dataclass
class Run:
    events_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def generic_batch(prefix: str, size: int) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for n in itertools.count():
        if len(events) >= size:
            break
        call = f"{prefix}-{n}"
        queue = QUEUES[n % len(QUEUES)]
        at = START + timedelta(seconds=(zlib.crc32(call.encode()) % 36_000))
        if n % 10 == 9:
            events.append(
                {
                    "type": "agent_state",
                    "event_id": f"{call}-s",
                    "at": at.isoformat(),
                    "agent_id": f"agent-{n % 200}",
                    "state": "available",
                }
            )
            continue
        answered = at + timedelta(seconds=n % 40)
        events += [
            {
                "type": "call_arrived",
                "event_id": f"{call}-a",
                "at": at.isoformat(),
                "queue": queue,
                "call_id": call,
            },
            {
                "type": "call_answered",
                "event_id": f"{call}-b",
                "at": answered.isoformat(),
                "queue": queue,
                "call_id": call,
                "agent_id": f"agent-{n % 200}",
            },
            {
                "type": "call_ended",
                "event_id": f"{call}-c",
                "at": (answered + timedelta(seconds=200)).isoformat(),
                "queue": queue,
                "call_id": call,
                "agent_id": f"agent-{n % 200}",
                "talk_seconds": 200,
            },
        ]
    return events[:size]


def firehose_records(prefix: str, size: int) -> list[dict[str, Any]]:
    """Contact events as EventBridge delivers them, with an agent event every tenth record."""
    records: list[dict[str, Any]] = []
    for n in itertools.count():
        if len(records) >= size:
            break
        contact = f"{prefix}-{n}"
        queue_arn = f"arn:aws:connect:eu-west-1:1:instance/i/queue/{QUEUES[n % len(QUEUES)]}"
        agent_arn = f"arn:aws:connect:eu-west-1:1:instance/i/agent/agent-{n % 200}"
        at = START + timedelta(seconds=(zlib.crc32(contact.encode()) % 36_000))
        queue_info = {"queueArn": queue_arn, "enqueueTimestamp": at.isoformat()}
        connected = (at + timedelta(seconds=n % 40)).isoformat()
        agent_info = {"agentArn": agent_arn, "connectedToAgentTimestamp": connected}
        for kind, extra in (
            ("QUEUED", {}),
            ("CONNECTED_TO_AGENT", {"agentInfo": agent_info}),
            (
                "DISCONNECTED",
                {
                    "agentInfo": agent_info,
                    "disconnectTimestamp": (at + timedelta(seconds=300)).isoformat(),
                },
            ),
        ):
            detail = {
                "eventType": kind,
                "contactId": contact,
                "channel": "VOICE",
                "queueInfo": queue_info,
                **extra,
            }
            records.append(
                {
                    "detail-type": "Amazon Connect Contact Event",
                    "source": "aws.connect",
                    "time": at.isoformat(),
                    "detail": detail,
                }
            )
        if n % 10 == 9:
            records.append(
                {
                    "AgentARN": agent_arn,
                    "EventId": f"{contact}-agent",
                    "EventType": "HEART_BEAT",
                    "EventTimestamp": at.isoformat(),
                    "CurrentAgentSnapshot": {"AgentStatus": {"Name": "Available"}, "Contacts": []},
                }
            )
    return records[:size]


def firehose_body(records: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "requestId": str(uuid.uuid4()),
        "timestamp": int(time.time() * 1000),
        "records": [{"data": base64.b64encode(json.dumps(r).encode()).decode()} for r in records],
    }


async def _drive(base: str, seconds: float, concurrency: int, batch: int, kind: str) -> Run:
    latencies: list[float] = []
    errors = 0
    events = 0
    headers = {"Authorization": f"Bearer {TOKEN}"}
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        deadline = time.perf_counter() + seconds

        async def worker(index: int) -> None:
            nonlocal errors, events
            for n in itertools.count():
                if time.perf_counter() >= deadline:
                    return
                prefix = f"{kind}-{os.getpid()}-{index}-{n}-{time.time_ns()}"
                if kind == "generic":
                    body: Any = generic_batch(prefix, batch)
                    url, extra = f"{base}/feeds/generic/events", headers
                else:
                    body = firehose_body(firehose_records(prefix, batch))
                    url = f"{base}/feeds/amazon-connect/firehose"
                    extra = {
                        "X-Amz-Firehose-Access-Key": KEY,
                        "X-Amz-Firehose-Request-Id": body["requestId"],
                    }
                payload = json.dumps(body).encode()
                started = time.perf_counter()
                async with session.post(
                    url, data=payload, headers={**extra, "Content-Type": "application/json"}
                ) as response:
                    await response.read()
                    if response.status != 200:
                        errors += 1
                    else:
                        events += batch
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(worker(i) for i in range(concurrency)))
        elapsed = time.perf_counter() - started
    ms = [x * 1000 for x in latencies]
    return Run(events / elapsed, percentile(ms, 50), percentile(ms, 99), errors)


async def _lag(base: str, seconds: float) -> list[float]:
    """Push one call to queue ``probe`` every 100 ms, time until the statistics count it."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    lags: list[float] = []
    window = "from=2026-03-02T00:00:00Z&to=2026-03-03T00:00:00Z"
    async with aiohttp.ClientSession(headers=headers) as session:
        deadline = time.perf_counter() + seconds
        for n in itertools.count(1):
            if time.perf_counter() >= deadline:
                break
            event = {
                "type": "call_arrived",
                "event_id": f"probe-{n}-{time.time_ns()}",
                "at": (START + timedelta(minutes=30)).isoformat(),
                "queue": "probe",
                "call_id": f"probe-{n}-{time.time_ns()}",
            }
            started = time.perf_counter()
            async with session.post(f"{base}/feeds/generic/events", json=[event]) as response:
                await response.read()
            while True:
                url = f"{base}/api/v1/queues/probe/intervals?{window}"
                async with session.get(url) as response:
                    items = (await response.json())["items"]
                if sum(i["offered"] for i in items) >= n:
                    break
            lags.append(time.perf_counter() - started)
            await asyncio.sleep(0.1)
    return lags


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


async def serve(db_url: str, port: int) -> None:
    """The server side: the app with the feeds registered, as ``blendbot serve`` will run it."""
    from aiohttp import web

    from bot import root
    from bot.database import open_pool
    from bot.http.feeds import FeedConfig
    from bot.migrate import migrate_url

    await migrate_url(db_url)
    async with open_pool(db_url, min_size=4, max_size=20) as pool:
        wired = root.Parts(feeds=FeedConfig(firehose_access_key=KEY))
        app = root.http_app(pool, wired, tokens=[TOKEN], max_body_bytes=16 * 1024 * 1024)
        runner = web.AppRunner(app.web, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        await asyncio.Event().wait()


async def main_async(seconds: float, concurrency: int, batch: int, runs: int) -> str:
    with server_url() as url:
        db_url = await fresh_database(url)
        port = _free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "bench.bench_feeds", "--serve", db_url, str(port)],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            await _wait_ready(base)
            await _drive(base, 2, concurrency, batch, "generic")  # warm-up
            generic_runs, firehose_runs = [], []
            for _ in range(runs):
                generic_runs.append(await _drive(base, seconds, concurrency, batch, "generic"))
                firehose_runs.append(await _drive(base, seconds, concurrency, batch, "firehose"))
            load = asyncio.create_task(_drive(base, seconds, concurrency, batch, "generic"))
            lags = await _lag(base, seconds)
            under_load = await load
        finally:
            server.terminate()
            server.wait(timeout=30)
            await drop_database(url, db_url)
    lag_ms = [x * 1000 for x in lags]

    def row(name: str, values: list[Run]) -> str:
        return (
            f"| {name} | {median([r.events_per_second for r in values]):,.0f} | "
            f"{median([r.p50_ms for r in values]):.0f} | "
            f"{median([r.p99_ms for r in values]):.0f} | {sum(r.errors for r in values)} |"
        )

    lines = [
        "## Telephony feeds",
        "",
        f"`.venv/bin/python -m bench.bench_feeds --seconds {seconds:g} --concurrency "
        f"{concurrency} --batch {batch} --runs {runs}`: one server process, {concurrency} "
        f"concurrent connections each pushing {batch} events (or Firehose records) per "
        f"request, {runs} runs, medians.",
        "",
        "| endpoint | events per second | p50 request (ms) | p99 request (ms) | errors |",
        "|---|---|---|---|---|",
        row("POST /feeds/generic/events", generic_runs),
        row("POST /feeds/amazon-connect/firehose", firehose_runs),
        "",
        f"Statistics lag (one pushed call until `GET /api/v1/queues/probe/intervals` counts it, "
        f"while the generic feed runs at {under_load.events_per_second:,.0f} events/s): "
        f"p50 {percentile(lag_ms, 50):.0f} ms, p99 {percentile(lag_ms, 99):.0f} ms, "
        f"max {max(lag_ms):.0f} ms over {len(lag_ms)} probes. The statistics are written in "
        "the transaction that accepts a push, so they are current as soon as it is answered.",
        "",
        "Target: at least 5,000 events per second on one instance, statistics current within 1 s.",
        "",
    ]
    return "\n".join(lines)


def section(quick: bool) -> str:
    return asyncio.run(main_async(5 if quick else 10, 8, 500, 1 if quick else 3))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--serve", nargs=2, metavar=("DATABASE_URL", "PORT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.serve[0], int(args.serve[1])))
        return
    print(asyncio.run(main_async(args.seconds, args.concurrency, args.batch, args.runs)))


if __name__ == "__main__":
    main()

"""Task sources: signed deliveries taken per second on one instance, and the write-back held to
a vendor's rate limit without loss.

**Intake.** ``blendbot serve`` (one process) on a fresh database; concurrent connections from
this process each ``POST /sources/{name}/events`` one new record per request, signed as the
vendor signs it: the generic webhook (``X-Blendbot-Signature``, HMAC-SHA256 of the timestamp
and the body) and Zendesk (``X-Zendesk-Webhook-Signature``, base64 HMAC-SHA256 of the
timestamp and the body, with an invocation id). Every delivery must come back ``created``.
Baseline in the same run: ``POST /api/v1/tasks`` with one task per request, the REST intake
whose code the sources reuse.

**Write-back.** Zendesk tickets are delivered, and their tasks claimed and completed (two
write-backs each: the claim sets the ticket open, the completion solves it, each with an
internal comment), against the Zendesk stand-in limited to ``limit`` requests per ``window``
seconds (Zendesk's per-minute account limit, scaled down so that a run takes seconds), which
answers the rest 429 with ``Retry-After``. Measured: that each write-back arrived exactly once,
the rate achieved against the limit, the 429s, and the time from the first claim until the
last write-back arrived.

    .venv/bin/python -m bench.bench_sources [--seconds 10] [--concurrency 32] [--runs 3]
        [--tickets 300] [--limit 100] [--window 5]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import itertools
import json
import math
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from aiohttp import web

from bench.bench_api import _free_port, _wait_ready
from bench.common import ROOT, drop_database, fresh_database, median, percentile, server_url
from bot.database import open_pool
from queues.lifecycle import Lifecycle
from queues.models import AgentIn
from queues.roster import Roster
from standins.zendesk import Zendesk
from task_sources import webhook, zendesk

TOKEN = "bench-token-0123456789abcdef"
SECRET = "bench-source-secret-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
KINDS = ("webhook", "zendesk", "rest")
AGENTS = 10


@dataclass
class Run:
    rate: float
    p50_ms: float
    p99_ms: float
    errors: int
    cpu_us: float = math.nan
    """The server process's CPU time per request (user + system), in microseconds: what a
    request costs the service whatever else the shared machine is running."""


@dataclass
class Drain:
    tickets: int
    expected: int
    arrived: int
    duplicates: int
    missing: int
    throttled: int
    failed: int
    drain_seconds: float
    used: float
    """The median share of the limit used in each window but the last."""
    windows: int
    limit_rate: float


def _request(kind: str, key: str, n: int) -> tuple[str, bytes, dict[str, str]]:
    """The path, body and headers of one new record, signed as ``kind`` signs it."""
    json_type = {"Content-Type": "application/json"}
    if kind == "webhook":
        record = {
            "id": key,
            "type": "billing_correction",
            "title": f"Refund {n}",
            "customer_ref": f"CUST-{n % 5000}",
            "customer_tier": "gold",
            "value": 12.5,
            "payload": {"n": n},
        }
        body = json.dumps(record).encode()
        headers = {**json_type, **webhook.signed_headers(SECRET, body)}
        headers[webhook.DELIVERY_HEADER] = key
        return "/sources/bench-webhook/events", body, headers
    if kind == "zendesk":
        return "/sources/bench-zendesk/events", *_zendesk_delivery(key, n)
    task = {
        "source": "bench",
        "external_id": key,
        "type": "billing_correction",
        "title": f"Refund {n}",
        "customer_ref": f"CUST-{n % 5000}",
        "customer_tier": "gold",
        "value": 12.5,
        "payload": {"n": n},
    }
    return "/api/v1/tasks", json.dumps(task).encode(), {**json_type, **AUTH}


def _zendesk_delivery(ticket_id: str, n: int) -> tuple[bytes, dict[str, str]]:
    """A trigger's webhook for a new ticket, as the README's JSON template makes it."""
    ticket = {
        "id": ticket_id,
        "title": f"Refund not received for order {n}",
        "status": "new",
        "priority": "normal",
        "requester_id": str(20_000_000 + n % 5000),
        "organization": "Acme Retail",
        "due_date": "",
        "url": f"example.zendesk.com/agent/tickets/{ticket_id}",
        "tags": "refund billing",
        "updated_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    body = json.dumps({"ticket": ticket}).encode()
    stamp = zendesk.timestamp_header(datetime.now(UTC))
    headers = {
        "Content-Type": "application/json",
        zendesk.TIMESTAMP_HEADER: stamp,
        zendesk.SIGNATURE_HEADER: zendesk.signature(SECRET, stamp, body),
        zendesk.INVOCATION_HEADER: f"inv-{ticket_id}",
    }
    return body, headers


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux); NaN elsewhere."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return math.nan
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _drive(
    base: str, seconds: float, concurrency: int, kind: str, server: int | None = None
) -> Run:
    counter = itertools.count()
    latencies: list[float] = []
    errors = 0
    prefix = f"{kind}-{os.getpid()}-{time.time_ns()}"
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        deadline = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                n = next(counter)
                path, body, headers = _request(kind, f"{prefix}-{n}", n)
                started = time.perf_counter()
                async with session.post(base + path, data=body, headers=headers) as response:
                    answer = await response.read()
                latencies.append(time.perf_counter() - started)
                if kind == "rest":
                    ok = response.status == 201
                else:
                    ok = response.status == 200 and all(
                        d["outcome"] == "created" for d in json.loads(answer)["deliveries"]
                    )
                errors += not ok

        cpu = _cpu_seconds(server) if server else math.nan
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
        cpu = (_cpu_seconds(server) - cpu) if server else math.nan
    ms = [x * 1000 for x in latencies]
    rate = len(latencies) / elapsed
    per = cpu / len(latencies) * 1e6 if latencies else math.nan
    return Run(rate, percentile(ms, 50), percentile(ms, 99), errors, per)


async def _setup(base: str, standin_url: str) -> None:
    async with aiohttp.ClientSession(headers=AUTH) as s:

        async def put(path: str, body: dict[str, Any]) -> None:
            async with s.put(base + path, json=body) as response:
                if response.status not in (200, 201):
                    raise RuntimeError(f"PUT {path}: {response.status} {await response.text()}")

        task_type = {"skills": ["billing"], "sla_minutes": 1440, "handle_minutes": 7}
        await put("/api/v1/task-types/billing_correction", task_type)
        await put("/api/v1/task-types/zendesk_ticket", task_type)
        await put("/api/v1/sources/bench-webhook", {"kind": "webhook", "secret": SECRET})
        await put("/api/v1/sources/bench-zendesk", {"kind": "zendesk", "secret": SECRET})
        await put(
            "/api/v1/sources/zendesk-limited",
            {
                "kind": "zendesk",
                "secret": SECRET,
                "api_url": standin_url,
                "credentials": {"email": "agent@example.com", "api_token": "zd-token"},
                "write_back": {"events": ["claimed", "completed"]},
            },
        )


async def _write_back(
    base: str, db_url: str, api: Zendesk, tickets: int, limit: int, window: float
) -> Drain:
    """Deliver ``tickets`` Zendesk tickets, claim and complete their tasks, and wait until the
    rate-limited stand-in has every write-back (or two minutes past the ideal drain)."""
    ids = [str(900_000 + n) for n in range(tickets)]
    for ticket_id in ids:
        api.tickets[ticket_id] = {"status": "new"}
    task_ids: list[int] = []
    async with aiohttp.ClientSession() as s:
        for n, ticket_id in enumerate(ids):
            body, headers = _zendesk_delivery(ticket_id, n)
            url = f"{base}/sources/zendesk-limited/events"
            async with s.post(url, data=body, headers=headers) as response:
                (delivery,) = (await response.json())["deliveries"]
                if delivery["outcome"] != "created":
                    raise RuntimeError(f"ticket {ticket_id}: {delivery}")
                task_ids.append(int(delivery["task_id"]))
    expected = 2 * tickets
    async with open_pool(db_url, min_size=2, max_size=AGENTS) as pool:
        roster = Roster(pool)
        for a in range(AGENTS):
            await roster.put(f"bench-agent-{a}", AgentIn(name=f"Agent {a}", skills={"billing": 3}))
        lifecycle = Lifecycle(pool)
        started = time.monotonic()

        async def agent(a: int) -> None:
            who = f"bench-agent-{a}"
            for task_id in task_ids[a::AGENTS]:
                expires = datetime.now(UTC) + timedelta(minutes=5)
                await lifecycle.offer(task_id, who, expires, "bench", [])
                await lifecycle.claim(task_id, who)
                await lifecycle.complete(task_id, who, "resolved", "refund issued")

        await asyncio.gather(*(agent(a) for a in range(AGENTS)))
        ideal = expected / limit * window
        deadline = time.monotonic() + ideal + 120
        while time.monotonic() < deadline:
            pending = await pool.fetchval(
                "SELECT count(*) FROM source_writebacks WHERE status = 'pending'"
            )
            if len(api.taken) >= expected and pending == 0:
                break
            await asyncio.sleep(0.2)
        failed = int(
            await pool.fetchval("SELECT count(*) FROM source_writebacks WHERE status = 'failed'")
        )
    seen = collections.Counter(
        (t.path.rsplit("/", 1)[-1], t.body["ticket"].get("status")) for t in api.taken
    )
    wanted = {(i, s) for i in ids for s in ("open", "solved")}
    duplicates = sum(c - 1 for c in seen.values() if c > 1)
    missing = len(wanted - set(seen))
    last = max(api.taken_at) if api.taken_at else started
    windows = _windows(sorted(api.taken_at), window)
    return Drain(
        tickets=tickets,
        expected=expected,
        arrived=len(api.taken),
        duplicates=duplicates,
        missing=missing,
        throttled=api.throttled,
        failed=failed,
        drain_seconds=last - started,
        used=median([n / limit for n in windows[:-1]]) if len(windows) > 1 else 0.0,
        windows=len(windows),
        limit_rate=limit / window,
    )


def _windows(times: list[float], window: float) -> list[int]:
    """Requests taken per window of the stand-in's limit (a window starts with the first
    request taken after the previous one ended)."""
    counts: list[int] = []
    start = None
    for t in times:
        if start is None or t - start >= window:
            start = t
            counts.append(0)
        counts[-1] += 1
    return counts


async def main_async(
    seconds: float, concurrency: int, runs: int, tickets: int, limit: int, window: float
) -> str:
    api = Zendesk(rate_limit=limit, rate_window=window)
    standin = web.AppRunner(api.app(), access_log=None)
    await standin.setup()
    standin_port = _free_port()
    await web.TCPSite(standin, "127.0.0.1", standin_port).start()
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
            await _setup(base, f"http://127.0.0.1:{standin_port}")
            for kind in KINDS:
                await _drive(base, 1, concurrency, kind)  # warm-up
            found: dict[str, list[Run]] = {kind: [] for kind in KINDS}
            for _ in range(runs):
                for kind in KINDS:
                    found[kind].append(await _drive(base, seconds, concurrency, kind, server.pid))
            drain = await _write_back(base, db_url, api, tickets, limit, window)
        finally:
            server.terminate()
            server.wait(timeout=30)
            await drop_database(url, db_url)
            await standin.cleanup()
    return _section(seconds, concurrency, runs, tickets, limit, window, found, drain)


def _section(
    seconds: float,
    concurrency: int,
    runs: int,
    tickets: int,
    limit: int,
    window: float,
    found: dict[str, list[Run]],
    drain: Drain,
) -> str:
    def cells(pick: Any, fmt: str) -> str:
        return " | ".join(format(median([pick(r) for r in found[k]]), fmt) for k in KINDS)

    def ratio(kind: str) -> str:
        rate = median([r.rate for r in found[kind]])
        return f"{rate / median([r.rate for r in found['rest']]):.2f} times"

    errors = " | ".join(str(sum(r.errors for r in found[k])) for k in KINDS)
    each = "; ".join(f"{k}: " + ", ".join(f"{r.rate:,.0f}/s" for r in found[k]) for k in KINDS)
    exact = drain.arrived == drain.expected and not drain.duplicates and not drain.missing
    lines = [
        "## Task sources: signed intake and rate-limited write-back",
        "",
        f"`.venv/bin/python -m bench.bench_sources --seconds {seconds:g} --concurrency "
        f"{concurrency} --runs {runs} --tickets {tickets} --limit {limit} --window {window:g}`: "
        f"one `blendbot serve` process, {concurrency} concurrent connections from a client "
        "process on the same machine, each request one new record signed as its vendor signs "
        f"it, {runs} runs, medians.",
        "",
        "| measure | POST /sources/{name}/events, generic webhook | ... Zendesk | "
        "baseline: POST /api/v1/tasks |",
        "|---|---|---|---|",
        f"| tasks per second | {cells(lambda r: r.rate, ',.0f')} |",
        f"| p50 latency (ms) | {cells(lambda r: r.p50_ms, '.1f')} |",
        f"| p99 latency (ms) | {cells(lambda r: r.p99_ms, '.1f')} |",
        f"| server CPU per request (µs) | {cells(lambda r: r.cpu_us, ',.0f')} |",
        f"| errors (not created) | {errors} |",
        "",
        f"Target: at least 1,000 signed deliveries made into tasks per second. Runs: {each}. "
        f"Signed intake against the baseline (medians): webhook {ratio('webhook')}, Zendesk "
        f"{ratio('zendesk')}. The server's CPU per request is what a delivery costs the "
        "service alone; the rate also depends on what else the shared machine runs (the "
        "client, PostgreSQL and other work share its cores).",
        "",
        f"Write-back at the vendor's rate limit: {tickets} Zendesk tickets delivered, their "
        f"tasks claimed and completed by {AGENTS} agents at once; the Zendesk stand-in takes "
        f"{limit} requests per {window:g} s ({drain.limit_rate:g}/s, Zendesk's per-minute "
        "account limit scaled down) and answers the rest 429 with `Retry-After`.",
        "",
        "| measure | value |",
        "|---|---|",
        f"| write-backs owed (claimed + completed) | {drain.expected:,} |",
        f"| arrived at the stand-in | {drain.arrived:,} |",
        f"| duplicates / missing / failed | {drain.duplicates} / {drain.missing} / "
        f"{drain.failed} |",
        f"| 429 answers waited out | {drain.throttled:,} |",
        f"| share of the limit used per window (median, all windows but the last) | "
        f"{drain.used:.0%} |",
        f"| time from the first claim to the last write-back (s) | "
        f"{drain.drain_seconds:.1f} over {drain.windows} windows (the limit allows no less "
        f"than {(math.ceil(drain.expected / limit) - 1) * window:.1f}) |",
        "",
        (
            "Every write-back arrived exactly once."
            if exact
            else "NOT every write-back arrived exactly once: see the counts above."
        ),
        "",
    ]
    return "\n".join(lines)


def section(quick: bool) -> str:
    if quick:
        return asyncio.run(main_async(4, 32, 1, 100, 50, 5))
    return asyncio.run(main_async(10, 32, 3, 300, 100, 5))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tickets", type=int, default=300)
    parser.add_argument("--limit", type=int, default=100, help="requests per window")
    parser.add_argument("--window", type=float, default=5, help="seconds")
    parser.add_argument("--quick", action="store_true", help="one short run")
    args = parser.parse_args()
    if args.quick:
        print(section(quick=True))
        return
    print(
        asyncio.run(
            main_async(
                args.seconds, args.concurrency, args.runs, args.tickets, args.limit, args.window
            )
        )
    )


if __name__ == "__main__":
    main()

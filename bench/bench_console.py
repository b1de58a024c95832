"""The console on a large center: each page's first byte, and the API beside 100 live consoles.

    .venv/bin/python -m bench.bench_console [--tasks 100000] [--days 90] [--requests 20]
        [--seconds 5] [--consoles 100] [--concurrency 16] [--runs 1]

The center of ``bench_reports`` (1,000 agents, the tasks, the days of history), served as the
root builds the service (``bot.root.http_app`` with a console) by a process of its own on a
real port. A client signs in with the API token through the console's sign-in form, keeping
the session cookie and the form's CSRF token as a browser does, then:

* times each console page's first byte (the response's headers) and whole body, ``requests``
  times each, next to ``GET /healthz`` as the baseline;
* drives ``GET /api/v1/tasks/{id}`` at a fixed concurrency for ``seconds``, once with no
  console open and once with ``consoles`` streams open on ``/console/now/live``, while a feed
  event changing an agent's state is posted twice a second in both runs (so the live board is
  rendered and pushed only in the second); it counts the board updates the consoles received
  (the whole board, ``now``, or what changed, ``patch``). With ``runs`` above one, the runs
  with and without consoles take turns that many times and the medians are reported, so that
  they share the machine's load; ``--requests 0`` skips the pages.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import multiprocessing
import os
import re
import socket
import statistics
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from aiohttp import web

from bench.bench_queues import fill
from bench.bench_reports import AGENTS, history
from bench.common import drop_database, fresh_database, median, percentile, server_url
from bot import root
from bot.console.config import ConsoleConfig
from bot.database import open_pool
from bot.migrate import migrate_url

TOKEN = "bench-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PAGES = (
    "/console/now",
    "/console/decisions",
    "/console/tasks",
    "/console/tasks?q=1234",
    "/console/tasks/1234",
    "/console/people",
    "/console/people?page=10",
    "/console/costs",
    "/console/costs?candidates=50",
    "/console/trends",
    "/console/trends?days=90",
    "/console/me",
)
FRESH = "`/console/now`, asked 0.6 s apart (the board rendered afresh each time)"
FEED_EVERY = 0.5
STATES = ("available", "on_call", "after_call_work", "break")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(db_url: str, port: int) -> None:
    """The service in a process of its own, so the clients' work is not counted as its own."""

    async def serve() -> None:
        async with open_pool(db_url, min_size=2, max_size=10) as pool:
            app = root.http_app(
                pool, root.Parts(), tokens=[TOKEN], console=ConsoleConfig(supervisors=frozenset())
            )
            runner = web.AppRunner(app.web)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", port).start()
            await asyncio.Event().wait()

    asyncio.run(serve())


async def _ready(base: str, process: multiprocessing.process.BaseProcess) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(600):
            if not process.is_alive():
                raise RuntimeError("the service stopped before it listened")
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(base + "/healthz") as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.1)
    raise RuntimeError("the service did not listen")


async def sign_in(base: str) -> aiohttp.ClientSession:
    """A session signed in as a browser is: the form's CSRF token, the cookie kept."""
    session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    async with session.get(base + "/console/sign-in") as response:
        found = re.search(r'name="csrf" value="([^"]+)"', await response.text())
    if found is None:
        raise RuntimeError("the sign-in form has no CSRF token")
    form = {"csrf": found.group(1), "token": TOKEN}
    async with session.post(
        base + "/console/sign-in", data=form, allow_redirects=False
    ) as response:
        if response.status != 303:
            raise RuntimeError(f"sign-in refused: {response.status}")
    return session


@dataclass
class Timed:
    status: int
    first_byte: list[float]
    whole: list[float]


async def time_page(
    session: aiohttp.ClientSession, url: str, requests: int, apart: float = 0.0
) -> Timed:
    """The page ``requests`` times in turn; ``apart`` seconds between them (none: back to
    back, as a person clicking does not, so a cached rendering may be shared)."""
    first: list[float] = []
    whole: list[float] = []
    status = 0
    for _ in range(requests):
        started = time.perf_counter()
        async with session.get(url, allow_redirects=False) as response:
            first.append(time.perf_counter() - started)
            await response.read()
            status = response.status
        whole.append(time.perf_counter() - started)
        await asyncio.sleep(apart)
    return Timed(status, first, whole)


@dataclass
class Load:
    rate: float
    p50_ms: float
    p95_ms: float
    errors: int


async def drive(base: str, seconds: float, concurrency: int, tasks: int) -> Load:
    latencies: list[float] = []
    errors = 0
    ids = itertools.count(7)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, headers=AUTH) as session:
        deadline = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                task_id = 1 + (next(ids) * 7919) % tasks
                started = time.perf_counter()
                async with session.get(f"{base}/api/v1/tasks/{task_id}") as response:
                    await response.read()
                    if response.status != 200:
                        errors += 1
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return Load(
        len(latencies) / elapsed,
        median(latencies) * 1000,
        percentile(latencies, 95) * 1000,
        errors,
    )


async def feeder(base: str, stop: asyncio.Event, counter: itertools.count[int]) -> int:
    """A feed event changing an agent's state every ``FEED_EVERY`` seconds: the live board's
    reason to render and push."""
    posted = 0
    async with aiohttp.ClientSession(headers=AUTH) as session:
        while not stop.is_set():
            n = next(counter)
            event = {
                "type": "agent_state",
                "event_id": f"bench-{n}",
                "at": datetime.now(UTC).isoformat(),
                "agent_id": f"agent{n % AGENTS:04d}",
                "state": STATES[n % len(STATES)],
            }
            async with session.post(base + "/feeds/generic/events", json=[event]) as response:
                await response.read()
                if response.status != 200:
                    raise RuntimeError(f"feed refused: {response.status}")
            posted += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), FEED_EVERY)
    return posted


@dataclass
class Streamed:
    updates: int = 0
    """Events of either kind: the whole board (``now``) or what changed (``patch``)."""
    wholes: int = 0
    received_bytes: int = 0


WHOLE = b"event: now"
PATCH = b"event: patch"


def _count(marker: bytes, tail: bytes, chunk: bytes) -> int:
    """The markers in ``chunk``, with those cut by the chunk's start (``tail`` is the end of
    the chunk before)."""
    return (tail + chunk[: len(marker) - 1]).count(marker) + chunk.count(marker)


async def console_stream(session: aiohttp.ClientSession, base: str, into: Streamed) -> None:
    """One open console: the Now page's stream, counting the board updates it receives (in
    whole chunks, so that the counting costs the client little of the shared machine)."""
    timeout = aiohttp.ClientTimeout(total=None, sock_read=None)
    tail = b""
    async with session.get(base + "/console/now/live", timeout=timeout) as response:
        if response.status != 200:
            raise RuntimeError(f"live stream refused: {response.status}")
        async for chunk in response.content.iter_any():
            into.received_bytes += len(chunk)
            wholes = _count(WHOLE, tail, chunk)
            into.wholes += wholes
            into.updates += wholes + _count(PATCH, tail, chunk)
            tail = chunk[-(len(PATCH) - 1) :]


@dataclass
class Run:
    consoles: int
    load: Load
    posted: int
    received: list[Streamed]
    """What each console received while the API was driven."""
    service_cpu: float
    client_cpu: float


def cpu_seconds(pid: int) -> float:
    """The service process's CPU time (user and system), from ``/proc``: how much of the
    shared machine it took, apart from the clients'."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def under_load(
    base: str,
    session: aiohttp.ClientSession,
    seconds: float,
    concurrency: int,
    tasks: int,
    consoles: int,
    counter: itertools.count[int],
    pid: int,
) -> Run:
    received = [Streamed() for _ in range(consoles)]
    streams = [asyncio.create_task(console_stream(session, base, into)) for into in received]
    # The streams open and each has its first board before the clock starts (a board sent
    # on opening is not counted), or 30 s went by.
    for _ in range(300 if consoles else 0):
        if all(into.updates for into in received):
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(1.0 if consoles else 0)
    for into in received:
        into.updates = into.wholes = into.received_bytes = 0
    stop = asyncio.Event()
    feeding = asyncio.create_task(feeder(base, stop, counter))
    try:
        service_cpu, client_cpu = cpu_seconds(pid), time.process_time()
        load = await drive(base, seconds, concurrency, tasks)
        cpu = (cpu_seconds(pid) - service_cpu, time.process_time() - client_cpu)
    finally:
        stop.set()
        posted = await feeding
        await asyncio.sleep(1.0 if consoles else 0)  # the last event's board arrives
        for stream in streams:
            stream.cancel()
        await asyncio.gather(*streams, return_exceptions=True)
    for stream in streams:
        if not stream.cancelled() and stream.exception() is not None:
            raise RuntimeError("a console's stream failed") from stream.exception()
    return Run(consoles, load, posted, received, *cpu)


@dataclass
class Figures:
    pages: dict[str, Timed]
    runs: list[Run]
    """The median run of each number of consoles, fewest first."""
    turns: dict[int, list[Run]]
    """Every run, by the number of consoles open, in the order they were made."""


def median_run(runs: list[Run]) -> Run:
    """One run standing for several: each figure the median of the runs'."""
    loads = [r.load for r in runs]
    return Run(
        runs[0].consoles,
        Load(
            median([x.rate for x in loads]),
            median([x.p50_ms for x in loads]),
            median([x.p95_ms for x in loads]),
            sum(x.errors for x in loads),
        ),
        round(median([r.posted for r in runs])),
        [x for r in runs for x in r.received],
        median([r.service_cpu for r in runs]),
        median([r.client_cpu for r in runs]),
    )


async def measure(
    base: str,
    pid: int,
    tasks: int,
    requests: int,
    seconds: float,
    consoles: int,
    concurrency: int,
    turns: int = 1,
) -> Figures:
    session = await sign_in(base)
    sse = await sign_in(base)
    try:
        pages: dict[str, Timed] = {}
        if requests:
            async with aiohttp.ClientSession() as plain:
                pages["baseline: `GET /healthz`"] = await time_page(
                    plain, base + "/healthz", requests
                )
        for path in PAGES if requests else ():
            await time_page(session, base + path, 1)  # a first visit warms the caches
            pages[f"`{path}`"] = await time_page(session, base + path, requests)
        if requests:
            pages[FRESH] = await time_page(session, base + "/console/now", requests, apart=0.6)
        counter = itertools.count()
        made: dict[int, list[Run]] = {n: [] for n in sorted({0, 1, consoles})}
        for _ in range(turns):
            for n, runs in made.items():
                runs.append(
                    await under_load(base, sse, seconds, concurrency, tasks, n, counter, pid)
                )
    finally:
        await session.close()
        await sse.close()
    return Figures(pages, [median_run(runs) for runs in made.values()], made)


async def main_async(
    tasks: int,
    days: int,
    requests: int,
    seconds: float,
    consoles: int,
    concurrency: int,
    runs: int = 1,
) -> str:
    with server_url() as url:
        db_url = await fresh_database(url)
        process: multiprocessing.process.BaseProcess | None = None
        try:
            await migrate_url(db_url)
            async with open_pool(db_url, min_size=2, max_size=8) as pool:
                await fill(pool, tasks, AGENTS)
                await history(pool, days, tasks)
            port = _free_port()
            base = f"http://127.0.0.1:{port}"
            process = multiprocessing.get_context("spawn").Process(
                target=_serve, args=(db_url, port), daemon=True
            )
            process.start()
            await _ready(base, process)
            assert process.pid is not None
            figures = await measure(
                base, process.pid, tasks, requests, seconds, consoles, concurrency, runs
            )
        finally:
            if process is not None:
                process.terminate()
                process.join(10)
            await drop_database(url, db_url)
    return report(tasks, days, requests, seconds, consoles, concurrency, figures, runs)


def report(
    tasks: int,
    days: int,
    requests: int,
    seconds: float,
    consoles: int,
    concurrency: int,
    figures: Figures,
    runs: int = 1,
) -> str:
    lines = [
        "## Console",
        "",
        f"`.venv/bin/python -m bench.bench_console --tasks {tasks} --days {days} "
        f"--requests {requests} --seconds {seconds:g} --consoles {consoles} "
        f"--concurrency {concurrency}{f' --runs {runs}' if runs > 1 else ''}`: the center of "
        f"the reports section ({AGENTS:,} agents, {tasks:,} tasks, {days} days of history), "
        "the service as the root builds it in a "
        "process of its own on a real port, signed in with the API token through the "
        "console's form (session cookie and CSRF token kept). Each page is asked for "
        f"{requests} times after a first visit; first byte is the time to the response's "
        "headers.",
        "",
    ]
    if figures.pages:
        lines += [
            "| page | status | first byte p50 | first byte p95 | whole page p95 | target |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
    for name, timed in figures.pages.items():
        target = "" if name.startswith("baseline") else "first byte p95 < 300 ms"
        if timed.status == 404:
            target = "not for an API token (no agent on the roster)"
        lines.append(
            f"| {name} | {timed.status} | {median(timed.first_byte) * 1000:.0f} ms "
            f"| {percentile(timed.first_byte, 95) * 1000:.0f} ms "
            f"| {percentile(timed.whole, 95) * 1000:.0f} ms | {target} |"
        )
    quiet = figures.runs[0].load
    lines += [
        "",
        f"`GET /api/v1/tasks/{{id}}` at {concurrency} connections for {seconds:g} s, with a "
        f"feed event changing an agent's state posted every {FEED_EVERY:g} s in every run "
        "(with no console open, no board is rendered); CPU is what the service's process and "
        f"this one (the clients) took in those {seconds:g} s, of the 2 cores:",
        "",
        "| open consoles on `/console/now/live` | requests/s | of the baseline's | p50 | p95 "
        "| errors | feed events | board updates received (per console: min / median / max) "
        "| of them whole boards | bytes per update | service CPU | clients' CPU |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for run in figures.runs:
        load = run.load
        per = [r.updates for r in run.received]
        updates = sum(per)
        sent = sum(r.received_bytes for r in run.received)
        label = f"{run.consoles}" + (" (baseline)" if run.consoles == 0 else "")
        spread = (
            f"{updates:,} ({min(per)} / {statistics.median(per):g} / {max(per)})" if per else "-"
        )
        size = f"{sent / updates / 1024:.0f} kB" if updates else "-"
        lines.append(
            f"| {label} | {load.rate:.0f} | {load.rate / quiet.rate:.0%} | {load.p50_ms:.1f} ms "
            f"| {load.p95_ms:.1f} ms | {load.errors} | {run.posted} | {spread} "
            f"| {sum(r.wholes for r in run.received):,} | {size} "
            f"| {run.service_cpu:.1f} s | {run.client_cpu:.1f} s |"
        )
    busy = figures.runs[-1].load
    if runs > 1:
        lines += [
            "",
            f"Medians of {runs} turns (updates: every console of every turn); requests/s and "
            "p95 in each turn:",
            "",
        ]
        lines += [
            f"- {n} consoles: "
            + ", ".join(f"{r.load.rate:.0f}/s {r.load.p95_ms:.1f} ms" for r in made)
            for n, made in figures.turns.items()
        ]
    lines += [
        "",
        f"With {figures.runs[-1].consoles} consoles open, the API keeps "
        f"{busy.rate / quiet.rate:.0%} of its rate with none, and its p95 is "
        f"{busy.p95_ms / quiet.p95_ms:.1f} times as long. Events closer together than a "
        "rendering reach the consoles as one update.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--consoles", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    print(
        asyncio.run(
            main_async(
                args.tasks,
                args.days,
                args.requests,
                args.seconds,
                args.consoles,
                args.concurrency,
                args.runs,
            )
        )
    )


if __name__ == "__main__":
    main()

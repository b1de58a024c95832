"""The console on a large center: each page's first byte, and the API beside 100 live consoles.

    .venv/bin/python -m bench.bench_console [--tasks 100000] [--days 90] [--requests 20]
        [--seconds 5] [--consoles 100] [--concurrency 16]

The center of ``bench_reports`` (1,000 agents, the tasks, the days of history), served as the
root builds the service (``bot.root.http_app`` with a console) by a process of its own on a
real port. A client signs in with the API token through the console's sign-in form, keeping
the session cookie and the form's CSRF token as a browser does, then:

* times each console page's first byte (the response's headers) and whole body, ``requests``
  times each, next to ``GET /healthz`` as the baseline;
* drives ``GET /api/v1/tasks/{id}`` at a fixed concurrency for ``seconds``, once with no
  console open and once with ``consoles`` streams open on ``/console/now/live``, while a feed
  event changing an agent's state is posted twice a second in both runs (so the live board is
  rendered and pushed only in the second); it counts the board updates the consoles received.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import multiprocessing
import re
import socket
import statistics
import time
from dataclasses import dataclass
from datetime import UTC, datetime

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
    "/console/costs",
    "/console/trends",
    "/console/me",
)
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


async def time_page(session: aiohttp.ClientSession, url: str, requests: int) -> Timed:
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


async def console_stream(
    session: aiohttp.ClientSession, base: str, received: list[int], index: int
) -> None:
    """One open console: the Now page's stream, counting the board updates it receives."""
    timeout = aiohttp.ClientTimeout(total=None, sock_read=None)
    async with session.get(base + "/console/now/live", timeout=timeout) as response:
        if response.status != 200:
            raise RuntimeError(f"live stream refused: {response.status}")
        async for line in response.content:
            if line.startswith(b"event: now"):
                received[index] += 1


async def under_load(
    base: str,
    session: aiohttp.ClientSession,
    seconds: float,
    concurrency: int,
    tasks: int,
    consoles: int,
    counter: itertools.count[int],
) -> tuple[Load, int, list[int]]:
    received = [0] * consoles
    streams = [
        asyncio.create_task(console_stream(session, base, received, i)) for i in range(consoles)
    ]
    await asyncio.sleep(1.0 if consoles else 0)  # the streams open before the clock starts
    opened = list(received)
    stop = asyncio.Event()
    feeding = asyncio.create_task(feeder(base, stop, counter))
    try:
        load = await drive(base, seconds, concurrency, tasks)
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
    return load, posted, [r - o for r, o in zip(received, opened, strict=True)]


@dataclass
class Figures:
    pages: dict[str, Timed]
    quiet: Load
    busy: Load
    posted_quiet: int
    posted: int
    received: list[int]
    """Board updates each console received while the API was driven."""


async def measure(
    base: str, tasks: int, requests: int, seconds: float, consoles: int, concurrency: int
) -> Figures:
    session = await sign_in(base)
    sse = await sign_in(base)
    try:
        pages: dict[str, Timed] = {}
        async with aiohttp.ClientSession() as plain:
            pages["baseline: `GET /healthz`"] = await time_page(plain, base + "/healthz", requests)
        for path in PAGES:
            await time_page(session, base + path, 1)  # a first visit warms the caches
            pages[path] = await time_page(session, base + path, requests)
        counter = itertools.count()
        quiet, posted_quiet, _ = await under_load(
            base, sse, seconds, concurrency, tasks, 0, counter
        )
        busy, posted, received = await under_load(
            base, sse, seconds, concurrency, tasks, consoles, counter
        )
    finally:
        await session.close()
        await sse.close()
    return Figures(pages, quiet, busy, posted_quiet, posted, received)


async def main_async(
    tasks: int, days: int, requests: int, seconds: float, consoles: int, concurrency: int
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
            figures = await measure(base, tasks, requests, seconds, consoles, concurrency)
        finally:
            if process is not None:
                process.terminate()
                process.join(10)
            await drop_database(url, db_url)
    return report(tasks, days, requests, seconds, consoles, concurrency, figures)


def report(
    tasks: int,
    days: int,
    requests: int,
    seconds: float,
    consoles: int,
    concurrency: int,
    figures: Figures,
) -> str:
    quiet, busy, posted, per = figures.quiet, figures.busy, figures.posted, figures.received
    lines = [
        "## Console",
        "",
        f"`.venv/bin/python -m bench.bench_console --tasks {tasks} --days {days} "
        f"--requests {requests} --seconds {seconds:g} --consoles {consoles} "
        f"--concurrency {concurrency}`: the center of the reports section ({AGENTS:,} agents, "
        f"{tasks:,} tasks, {days} days of history), the service as the root builds it in a "
        "process of its own on a real port, signed in with the API token through the "
        "console's form (session cookie and CSRF token kept). Each page is asked for "
        f"{requests} times after a first visit; first byte is the time to the response's "
        "headers.",
        "",
        "| page | status | first byte p50 | first byte p95 | whole page p95 | target |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, timed in figures.pages.items():
        label = name if name.startswith("baseline") else f"`{name}`"
        target = "" if name.startswith("baseline") else "first byte p95 < 300 ms"
        if timed.status == 404:
            target = "not for an API token (no agent on the roster)"
        lines.append(
            f"| {label} | {timed.status} | {median(timed.first_byte) * 1000:.0f} ms "
            f"| {percentile(timed.first_byte, 95) * 1000:.0f} ms "
            f"| {percentile(timed.whole, 95) * 1000:.0f} ms | {target} |"
        )
    lines += [
        "",
        f"`GET /api/v1/tasks/{{id}}` at {concurrency} connections for {seconds:g} s, with a "
        f"feed event changing an agent's state posted every {FEED_EVERY:g} s in both runs "
        f"({figures.posted_quiet} and {posted} events):",
        "",
        "| open consoles on `/console/now/live` | requests/s | p50 | p95 | errors |",
        "| --- | --- | --- | --- | --- |",
        f"| 0 (baseline) | {quiet.rate:.0f} | {quiet.p50_ms:.1f} ms | {quiet.p95_ms:.1f} ms "
        f"| {quiet.errors} |",
        f"| {consoles} | {busy.rate:.0f} | {busy.p50_ms:.1f} ms | {busy.p95_ms:.1f} ms "
        f"| {busy.errors} |",
        "",
        f"With {consoles} consoles open the API keeps {busy.rate / quiet.rate:.0%} of its rate "
        f"(p95 {busy.p95_ms / quiet.p95_ms:.2f} times the baseline's). The consoles received "
        f"{sum(per):,} board updates in all for the {posted} feed events "
        f"(per console: min {min(per, default=0)}, "
        f"median {statistics.median(per) if per else 0:g}, max {max(per, default=0)}); "
        "events closer together than a rendering are sent as one.",
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
            )
        )
    )


if __name__ == "__main__":
    main()

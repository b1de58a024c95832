"""Claim clicks at a fixed rate against one instance: how fast is the ack?

Starts one server process (the app as ``bot.root.http_app`` builds it with Slack, its outbox
sending to the Web API stand-in, which runs in a process of its own), offers one task per
click and posts the offer cards, then sends signed ``block_actions`` Claim clicks at a fixed
arrival rate (open loop: a slow answer does not slow the clicks down). One click in ten comes
from an agent the task was not offered to, and is told who has it. The ack is the HTTP
response; the state change is committed before it.

    .venv/bin/python -m bench.bench_slack [--rate 200] [--seconds 30]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import aiohttp
import asyncpg
from slack_sdk.signature import SignatureVerifier

from bench.common import ROOT, drop_database, fresh_database, percentile, server_url

SECRET = "bench-signing-secret-0123456789"
BOT_TOKEN = "xoxb-bench-0000"
AGENTS = 300


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(port: int, db_url: str, api_url: str) -> None:
    """The server process: one instance with Slack mounted and its outbox running."""
    from aiohttp import web

    from bot import root
    from bot.database import open_pool
    from bot.slack.context import SlackConfig

    async def app() -> web.Application:
        stack = open_pool(db_url, min_size=5, max_size=20)
        pool = await stack.__aenter__()
        application = root.http_app(
            pool,
            tokens=["bench-token-0123456789abcdef"],
            max_body_bytes=1 << 20,
            slack=SlackConfig(bot_token=BOT_TOKEN, signing_secret=SECRET, api_url=api_url),
        ).web

        async def close(_: web.Application) -> None:
            await stack.__aexit__(None, None, None)

        application.on_cleanup.append(close)
        return application

    web.run_app(app(), host="127.0.0.1", port=port, print=None, access_log=None)


@dataclass
class Result:
    sent: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    errors: int
    claimed: int
    lost_told: int
    drain_s: float


async def _prepare(db_url: str, clicks: int) -> list[tuple[int, str, str, str]]:
    """Agents, tasks, and one offer per click; returns (task, agent's Slack id, ts, clicker)."""
    from bot.database import open_pool
    from bot.slack import blocks
    from bot.slack.context import card_ref
    from bot.slack.store import SlackStore
    from queues.catalog import Catalog
    from queues.lifecycle import Lifecycle
    from queues.models import AgentIn, TaskIn, TaskTypeIn
    from queues.roster import Roster
    from queues.tasks import Tasks

    async with open_pool(db_url, min_size=1, max_size=4) as pool:
        await Catalog(pool).put("billing", TaskTypeIn(skills=[], sla_minutes=600, handle_minutes=5))
        for n in range(AGENTS):
            await Roster(pool).put(f"a{n}", AgentIn(name=f"Agent {n}", slack_user_id=f"UB{n:06d}"))
        items = [
            TaskIn(
                source="bench",
                external_id=str(n),
                type="billing",
                title=f"Refund {n}",
                customer_ref=f"C{n}",
            )
            for n in range(clicks)
        ]
        ids = [r.task.id for r in await Tasks(pool).create_many(items, "bench") if r.task]
        expires = datetime.now(UTC) + timedelta(hours=1)
        offers = [(t, f"a{i % AGENTS}", ["bench"]) for i, t in enumerate(ids)]
        offered = await Lifecycle(pool).offer_many(offers, expires, "bench")
        now = datetime.now(UTC)
        async with pool.acquire() as conn, conn.transaction():
            for task in offered:
                user = f"UB{int(str(task.holder)[1:]):06d}"
                await SlackStore(conn).card(
                    card_ref(task.id, user), user, blocks.offer(task, ["bench"], now, 5)
                )
        for _ in range(600):
            if not await pool.fetchval("SELECT count(*) FROM slack_outbox WHERE sent_at IS NULL"):
                break
            await asyncio.sleep(0.2)
        rows = await pool.fetch("SELECT ref, ts FROM slack_messages")
        where = {r["ref"]: r["ts"] for r in rows}
    plan = []
    for n, task in enumerate(offered):
        user = f"UB{int(str(task.holder)[1:]):06d}"
        clicker = user if n % 10 else f"UB{(int(str(task.holder)[1:]) + 1) % AGENTS:06d}"
        plan.append((task.id, user, where.get(card_ref(task.id, user), "1.000001"), clicker))
    return plan


def _body(task_id: int, user: str, ts: str) -> str:
    payload = {
        "type": "block_actions",
        "team": {"id": "T0BENCH", "domain": "bench"},
        "user": {"id": user, "username": user.lower(), "team_id": "T0BENCH"},
        "api_app_id": "A0BENCH",
        "container": {
            "type": "message",
            "message_ts": ts,
            "channel_id": "D" + user[1:],
            "is_ephemeral": False,
        },
        "trigger_id": "1.2.bench",
        "channel": {"id": "D" + user[1:], "name": "directmessage"},
        "message": {"type": "message", "ts": ts, "text": "offer"},
        "actions": [
            {
                "action_id": "claim",
                "block_id": f"offer:{task_id}",
                "type": "button",
                "value": str(task_id),
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)})


async def _drive(base: str, plan: list[tuple[int, str, str, str]], rate: float) -> list[float]:
    verifier = SignatureVerifier(SECRET)
    latencies: list[float] = []
    errors = 0
    connector = aiohttp.TCPConnector(limit=256)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(task_id: int, ts: str, clicker: str) -> None:
            nonlocal errors
            body = _body(task_id, clicker, ts)
            stamp = str(int(time.time()))
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Slack-Request-Timestamp": stamp,
                "X-Slack-Signature": str(verifier.generate_signature(timestamp=stamp, body=body)),
            }
            started = time.perf_counter()
            try:
                async with session.post(f"{base}/slack/events", data=body, headers=headers) as r:
                    await r.read()
                    if r.status != 200:
                        errors += 1
            except aiohttp.ClientError:
                errors += 1
            latencies.append(time.perf_counter() - started)

        start = time.perf_counter()
        pending = []
        for n, (task_id, _, ts, clicker) in enumerate(plan):
            delay = start + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            pending.append(asyncio.create_task(one(task_id, ts, clicker)))
        await asyncio.gather(*pending)
    latencies.append(-float(errors))  # the last entry carries the error count
    return latencies


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


async def run(rate: float, seconds: float) -> Result:
    clicks = int(rate * seconds)
    with server_url() as url:
        db_url = await fresh_database(url)
        api_port, port = _free_port(), _free_port()
        standin = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "standins.slack",
                "--port",
                str(api_port),
                "--token",
                BOT_TOKEN,
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        server = None
        try:
            from bot.migrate import migrate_url

            await migrate_url(db_url)
            await asyncio.sleep(1)
            api_url = f"http://127.0.0.1:{api_port}/api/"
            server = subprocess.Popen(
                [sys.executable, "-m", "bench.bench_slack", "--serve", str(port), db_url, api_url],
                cwd=ROOT,
                env={**os.environ, "PYTHONWARNINGS": "ignore"},
                stdout=subprocess.DEVNULL,
            )
            base = f"http://127.0.0.1:{port}"
            await _wait_ready(base)
            plan = await _prepare(db_url, clicks)
            latencies = await _drive(base, plan, rate)
            errors = int(-latencies.pop())
            started = time.perf_counter()
            conn = await asyncpg.connect(db_url)
            try:
                for _ in range(1200):
                    left = await conn.fetchval(
                        "SELECT count(*) FROM slack_outbox WHERE sent_at IS NULL"
                    )
                    if not left:
                        break
                    await asyncio.sleep(0.1)
                drain = time.perf_counter() - started
                claimed = await conn.fetchval(
                    "SELECT count(*) FROM task_events WHERE event = 'claimed'"
                )
                told = await conn.fetchval(
                    "SELECT count(*) FROM slack_outbox WHERE body->>'text' LIKE '%has this task%'"
                )
            finally:
                await conn.close()
        finally:
            for process in (server, standin):
                if process is not None:
                    process.terminate()
                    process.wait(timeout=30)
            await drop_database(url, db_url)
    ms = sorted(x * 1000 for x in latencies)
    return Result(
        len(ms), percentile(ms, 50), percentile(ms, 99), ms[-1], errors, claimed, told, drain
    )


async def main_async(rate: float = 200, seconds: float = 30) -> str:
    r = await run(rate, seconds)
    verdict = "met" if r.p99_ms < 500 and r.errors == 0 else "NOT met"
    lines = [
        "## Slack button clicks",
        "",
        f"`.venv/bin/python -m bench.bench_slack --rate {rate:g} --seconds {seconds:g}`: one "
        "server process (aiohttp + Bolt, outbox sending to the Web API stand-in in its own "
        f"process), signed Claim clicks at {rate:g} per second for {seconds:g} s (open loop), "
        "from a client process on the same machine; one click in ten loses the race.",
        "",
        "| measure | value |",
        "|---|---|",
        f"| clicks sent | {r.sent:,} |",
        f"| ack p50 (ms) | {r.p50_ms:.1f} |",
        f"| ack p99 (ms) | {r.p99_ms:.1f} |",
        f"| ack max (ms) | {r.max_ms:.1f} |",
        f"| errors | {r.errors} |",
        f"| tasks claimed / losers told who has it | {r.claimed:,} / {r.lost_told:,} |",
        f"| outbox empty after the last click (s) | {r.drain_s:.1f} |",
        "",
        f"Target: ack p99 under 500 ms and no errors: {verdict}.",
        "",
    ]
    return "\n".join(lines)


def section(quick: bool) -> str:
    return asyncio.run(main_async(200, 5 if quick else 30))


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--serve":
        serve(int(sys.argv[2]), sys.argv[3], sys.argv[4])
        return
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--seconds", type=float, default=30)
    args = parser.parse_args()
    print(asyncio.run(main_async(args.rate, args.seconds)))


if __name__ == "__main__":
    main()

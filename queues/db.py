"""Database plumbing shared by the stores: named SQL blocks and connection handling."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources

import asyncpg
from asyncpg.pool import PoolConnectionProxy

Connection = asyncpg.Connection | PoolConnectionProxy
Executor = Connection | asyncpg.Pool
"""What a store is given: a pool, or a connection (inside the caller's transaction)."""

_HEADER = re.compile(r"^--\s*name:\s*([a-z_][a-z0-9_]*)\s*$", re.MULTILINE)


def load_queries(package: str, filename: str) -> dict[str, str]:
    """Split a file into blocks headed ``-- name: <name>``; each block is one statement."""
    text = resources.files(package).joinpath(filename).read_text(encoding="utf-8")
    parts = _HEADER.split(text)
    queries: dict[str, str] = {}
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        if name in queries:
            raise ValueError(f"{filename}: query {name!r} is defined twice")
        queries[name] = body.strip().rstrip(";")
    return queries


@asynccontextmanager
async def connection(db: Executor) -> AsyncIterator[Connection]:
    """One connection for a run of statements: acquired once from a pool, or ``db`` itself.
    A request that reads several things in turn then waits for the pool once, not at every
    statement behind whatever else holds the pool's connections."""
    if isinstance(db, asyncpg.Pool):
        async with db.acquire() as conn:
            yield conn
    else:
        yield db


@asynccontextmanager
async def transaction(db: Executor) -> AsyncIterator[Connection]:
    """A transaction on ``db``: nested (a savepoint) when ``db`` is already a connection."""
    if isinstance(db, asyncpg.Pool):
        async with db.acquire() as conn, conn.transaction():
            yield conn
    else:
        async with db.transaction():
            yield db

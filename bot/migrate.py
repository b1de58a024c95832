"""Apply the numbered SQL files of the ``migrations`` package, once, in order.

Each file runs in its own transaction together with its record in ``schema_migrations``; the
whole run holds a session advisory lock, so that any number of processes starting at once
migrate exactly once. A file that was applied and has changed since is refused.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources

import asyncpg

from bot.database import connect
from bot.errors import ServiceError

# An arbitrary constant: the advisory lock key of the migration runner ("blendbot" in ASCII).
LOCK_KEY = 0x626C656E64626F74
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


class MigrationError(ServiceError):
    """The migrations cannot be applied; the message says why and what to do."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def available() -> list[Migration]:
    """The migration files shipped with this build, in order."""
    found: dict[int, Migration] = {}
    for entry in resources.files("migrations").iterdir():
        match = _NAME.match(entry.name)
        if not match:
            continue
        version = int(match.group(1))
        if version in found:
            raise MigrationError(f"two migrations are numbered {version:04d}")
        found[version] = Migration(version, entry.name, entry.read_text(encoding="utf-8"))
    return [found[v] for v in sorted(found)]


_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


async def migrate(conn: asyncpg.Connection, migrations: list[Migration] | None = None) -> list[str]:
    """Bring the database up to date; return the names of the files applied by this call."""
    todo = available() if migrations is None else migrations
    applied_now: list[str] = []
    await conn.execute("SELECT pg_advisory_lock($1)", LOCK_KEY)
    try:
        await conn.execute(_TABLE)
        rows = await conn.fetch("SELECT version, name, checksum FROM schema_migrations")
        recorded = {row["version"]: row for row in rows}
        known = {m.version for m in todo}
        unknown = sorted(set(recorded) - known)
        if unknown:
            raise MigrationError(
                f"the database has migration {recorded[unknown[-1]]['name']} that this build "
                "does not know: run a newer blendbot against it"
            )
        for migration in todo:
            row = recorded.get(migration.version)
            if row is not None:
                if row["checksum"] != migration.checksum:
                    raise MigrationError(
                        f"migration {migration.name} was changed after it was applied "
                        f"(recorded checksum {row['checksum'][:12]}, file now "
                        f"{migration.checksum[:12]}): restore the file and put the change "
                        "in a new numbered migration"
                    )
                continue
            try:
                async with conn.transaction():
                    await conn.execute(migration.sql)
                    await conn.execute(
                        "INSERT INTO schema_migrations (version, name, checksum) "
                        "VALUES ($1, $2, $3)",
                        migration.version,
                        migration.name,
                        migration.checksum,
                    )
            except asyncpg.PostgresError as exc:
                raise MigrationError(f"migration {migration.name} failed: {exc}") from exc
            applied_now.append(migration.name)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", LOCK_KEY)
    return applied_now


async def migrate_url(url: str) -> list[str]:
    conn = await connect(url)
    try:
        return await migrate(conn)
    finally:
        await conn.close()

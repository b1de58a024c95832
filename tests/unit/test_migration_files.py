"""The shipped migration files."""

from __future__ import annotations

from bot.migrate import available


def test_shipped_migrations_are_numbered_in_order() -> None:
    versions = [m.version for m in available()]
    assert versions == sorted(versions)
    assert versions[0] == 1

"""The unit ring is pure: no database, no service subprocess, no network server.

A unit test that asks for a database fixture, directly or through another fixture, fails
before any fixture is set up (so before the embedded PostgreSQL server would start); it
belongs in ``tests/integration`` or ``tests/scenario``.
"""

from __future__ import annotations

import pytest

DATABASE_FIXTURES = frozenset(
    {"pool", "db_url", "empty_db_url", "server_url", "template_db", "client", "cli_env", "slack"}
)


def pytest_runtest_setup(item: pytest.Item) -> None:
    requested = DATABASE_FIXTURES.intersection(getattr(item, "fixturenames", ()))
    if requested:
        pytest.fail(
            f"{item.nodeid} asks for {', '.join(sorted(requested))}: unit tests are pure; "
            "move it to tests/integration or tests/scenario",
            pytrace=False,
        )

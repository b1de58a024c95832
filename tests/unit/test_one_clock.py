"""One clock: outside the ``clock`` package, the source never reads the time for itself.

Everything that asks for the time is handed a :class:`clock.Clock` (or the time itself), so
that a simulation can run the service's code on simulated time and a test can fix the time.
This scans the source for the calls that read the system's date and time directly.
"""

from __future__ import annotations

import ast
import importlib.util
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from clock import SYSTEM, FixedClock, FunctionClock

PACKAGES = ("bot", "queues", "blending", "telephony_adapters", "simulation", "standins")
READS = frozenset({"now", "utcnow", "today"})
"""What ``datetime.datetime`` and ``datetime.date`` read the system's time with."""
CLASSES = frozenset({"datetime", "date"})


def _datetime_names(tree: ast.Module) -> tuple[set[str], set[str]]:
    """The names bound to ``datetime.datetime``/``datetime.date``, and to the module itself."""
    classes, modules = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "datetime":
            classes |= {a.asname or a.name for a in node.names if a.name in CLASSES}
        elif isinstance(node, ast.Import):
            modules |= {a.asname or a.name for a in node.names if a.name == "datetime"}
    return classes, modules


def clock_reads(source: str, filename: str = "<source>") -> list[int]:
    """The lines that read the system's time: ``datetime.now``, ``utcnow``, ``today`` and
    ``date.today``, called or not (``default_factory=datetime.now`` reads it too)."""
    tree = ast.parse(source, filename)
    classes, modules = _datetime_names(tree)
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute) or node.attr not in READS:
            continue
        owner = node.value
        if (isinstance(owner, ast.Name) and owner.id in classes) or (
            isinstance(owner, ast.Attribute)
            and owner.attr in CLASSES
            and isinstance(owner.value, ast.Name)
            and owner.value.id in modules
        ):
            lines.append(node.lineno)
    return sorted(lines)


def _package_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    assert spec is not None, package
    assert spec.submodule_search_locations, package
    return Path(next(iter(spec.submodule_search_locations)))


def test_only_the_clock_reads_the_time() -> None:
    found = []
    for package in PACKAGES:
        where = _package_dir(package)
        files = sorted(where.rglob("*.py"))
        assert files, f"no source found for {package}"
        for path in files:
            for line in clock_reads(path.read_text(encoding="utf-8"), str(path)):
                found.append(f"{path.relative_to(where.parent)}:{line}")
    assert found == [], "read the time from a Clock handed in, not directly: " + ", ".join(found)


def test_the_scan_sees_every_way_of_reading_the_time() -> None:
    source = """
import datetime
import datetime as dt
from datetime import UTC, date, datetime as DT
from datetime import datetime

a = datetime.now(UTC)
b = DT.utcnow()
c = date.today()
d = dt.datetime.now()
e = datetime.date.today()
f = datetime.today()
g = DT.now
"""
    assert clock_reads(source) == [7, 8, 9, 10, 11, 12, 13]


def test_the_scan_leaves_other_nows_alone() -> None:
    source = """
from datetime import datetime
from clock import SYSTEM

a = SYSTEM.now()
b = ctx.now()
c = datetime.fromisoformat("2026-01-01T00:00:00+00:00")
d = world.clock(0).date()
"""
    assert clock_reads(source) == []


def test_a_fixed_clock_stands_still_until_moved() -> None:
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    clock = FixedClock(start)
    assert clock.now() == clock.now() == start
    clock.advance(timedelta(minutes=5))
    assert clock.now() == start + timedelta(minutes=5)
    with pytest.raises(ValueError, match="timezone-aware"):
        clock.set(datetime(2026, 3, 2, 9, 0))
    assert FunctionClock(lambda: start).now() == start
    assert SYSTEM.now().tzinfo is not None

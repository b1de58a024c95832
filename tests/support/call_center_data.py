"""Call-center data for the tests: the shared real data when it is there, and generated files
in the same formats, so that no behaviour is tested on the real data alone.

The real data (``../shared/data`` beside the repository; see its README) stays out of the
repository for its licence. A test that reads it calls :func:`require` first and is skipped,
naming the file, when the file is absent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd  # type: ignore[import-untyped]
import pytest

from simulation.profile import load_profile

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def require(path: Path) -> Path:
    """``path``, or skip the test when the shared data file is not there."""
    if not path.exists():
        pytest.skip(f"the shared call-center data is not here: {path}")
    return path


def bank_arrivals(path: Path, weeks: int, seed: int = 1, start: str = "2024-01-01") -> Path:
    """``weeks`` of 6-minute arrivals, 24 hours a day, in the format of the "Anonymous Bank"
    series (``interval_start,calls,imputed``): Poisson calls around the shipped profile's
    weekday means, each day scaled by a lognormal level of the profile's day-to-day spread."""
    profile = load_profile()
    rng = np.random.default_rng(seed)
    frames = []
    for day in pd.date_range(start, periods=weeks * 7, freq="D"):
        means = np.asarray(profile.weekday_slots[day.weekday()], dtype=float)
        level = float(np.exp(rng.normal(0.0, profile.day_level_sd)))
        stamps = day + pd.to_timedelta(np.arange(len(means)) * profile.interval_minutes, "min")
        calls = rng.poisson(means * level).astype(float)
        frames.append(pd.DataFrame({"interval_start": stamps, "calls": calls, "imputed": False}))
    frame = pd.concat(frames, ignore_index=True)
    frame["interval_start"] = frame["interval_start"].dt.strftime("%Y-%m-%d %H:%M")
    frame.to_csv(path, index=False)
    return path


def weekday_calls(
    path: Path,
    weeks: int,
    seed: int = 1,
    holidays: Iterable[int] = (),
    start: str = "2024-01-01",
) -> Path:
    """``weeks`` of 5-minute calls on weekdays 07:00-21:05, in the format of the US bank
    series (``interval_start,calls``): a late-morning peak, busier Mondays, each day scaled
    by a lognormal level (spread 0.10), and the weekdays numbered in ``holidays`` missing."""
    rng = np.random.default_rng(seed)
    skip = set(holidays)
    days = [d for d in pd.date_range(start, periods=weeks * 7, freq="D") if d.weekday() < 5]
    frames = []
    for index, day in enumerate(days):
        if index in skip:
            continue
        stamps = day + pd.Timedelta(hours=7) + pd.to_timedelta(np.arange(170) * 5, "min")
        hours = stamps.hour + stamps.minute / 60
        means = 110 * np.exp(-0.5 * ((hours - 11.5) / 3.5) ** 2) + 15
        means *= 1.15 if day.weekday() == 0 else 1.0
        level = float(np.exp(rng.normal(0.0, 0.10)))
        frames.append(pd.DataFrame({"interval_start": stamps, "calls": rng.poisson(means * level)}))
    frame = pd.concat(frames, ignore_index=True)
    frame["interval_start"] = frame["interval_start"].dt.strftime("%Y-%m-%d %H:%M")
    frame.to_csv(path, index=False)
    return path


def call_records(path: Path, calls: Iterable[Mapping[str, object]]) -> Path:
    """Call-by-call records in the format of the bank's August 1999 records: each call gives
    ``outcome``, ``q_time`` and ``ser_time`` (seconds) and any other column it wants."""
    rows = []
    for n, call in enumerate(calls):
        row: dict[str, object] = {
            "vru+line": "AA0101",
            "call_id": 10000 + n,
            "customer_id": 0,
            "priority": 0,
            "type": "PS",
            "date": "1999-08-02",
            "vru_entry": "9:00:00",
            "vru_exit": "9:00:10",
            "vru_time": 10,
            "q_start": "0:00:00",
            "q_exit": "0:00:00",
            "q_time": 0,
            "outcome": "AGENT",
            "ser_start": "0:00:00",
            "ser_exit": "0:00:00",
            "ser_time": 0,
            "server": "NO_SERVER",
        }
        row.update(call)
        rows.append(row)
    pd.DataFrame(rows).to_csv(path, index=False)
    return path

"""The shipped profile is what the bank's data says."""

from __future__ import annotations

from pathlib import Path

import pandas as pd  # type: ignore[import-untyped]
import pytest

from simulation.profile import DAY_LEVEL_SD, derive_profile, load_profile
from tests.support.call_center_data import SHARED_DATA, call_records, require

DATA = SHARED_DATA


def test_the_shipped_figures_are_derived_from_the_real_data() -> None:
    require(DATA / "anonymous_bank_1999_6min_arrivals.csv")
    require(DATA / "anonymous_bank_1999-08_call_records.csv")
    derived = derive_profile(
        DATA / "anonymous_bank_1999_6min_arrivals.csv",
        DATA / "anonymous_bank_1999-08_call_records.csv",
    )
    shipped = load_profile()
    assert shipped == derived
    assert sum(shipped.weekday_slots[6]) == pytest.approx(1644, abs=1)  # Sundays: the busiest
    assert shipped.handle_mean == pytest.approx(178.2, abs=0.1)
    assert shipped.patience_mean == pytest.approx(415.4, abs=0.1)


def test_the_shipped_profile_has_the_banks_figures() -> None:
    shipped = load_profile()
    assert shipped.interval_minutes == 6
    assert [len(day) for day in shipped.weekday_slots] == [240] * 7
    assert shipped.day_level_sd == DAY_LEVEL_SD
    assert sum(shipped.weekday_slots[6]) == pytest.approx(1644, abs=1)  # Sundays: the busiest
    assert shipped.handle_mean == pytest.approx(178.2, abs=0.1)
    assert shipped.patience_mean == pytest.approx(415.4, abs=0.1)
    assert shipped.per_minute(6).sum() == pytest.approx(sum(shipped.weekday_slots[6]))


def test_the_profile_is_derived_from_files_in_the_banks_formats(tmp_path: Path) -> None:
    """Two weeks of 6-minute arrivals (slot ``s`` of weekday ``d`` gets ``d + s % 5`` calls in
    the first week and two more in the second) and a repaired day that must not count; call
    records whose served, over-long, queued and abandoned calls give round figures."""
    stamps = pd.date_range("1999-01-04", periods=15 * 240, freq="6min")  # from a Monday
    slot = (stamps.hour * 60 + stamps.minute) // 6
    week = (stamps.normalize() - stamps[0]).days // 7
    calls = stamps.dayofweek + slot % 5 + 2 * week
    imputed = week == 2  # the third Monday, repaired: its huge counts are left out
    arrivals = tmp_path / "arrivals.csv"
    pd.DataFrame(
        {
            "interval_start": stamps.strftime("%Y-%m-%d %H:%M"),
            "calls": calls.astype(float).where(~imputed, 1000.0),
            "imputed": imputed,
        }
    ).to_csv(arrivals, index=False)
    records = call_records(
        tmp_path / "records.csv",
        [
            {"outcome": "AGENT", "ser_time": 100},
            {"outcome": "AGENT", "ser_time": 300, "q_time": 30},
            {"outcome": "AGENT", "ser_time": 4000},  # over an hour: left out
            {"outcome": "AGENT", "ser_time": 0},  # no service time: left out
            {"outcome": "HANG", "q_time": 50},
            {"outcome": "HANG"},  # hung up in the voice menu, never queued
            {"outcome": "HANG", "q_time": 70},
            {"outcome": "PHANTOM", "q_time": 10},
        ],
    )
    profile = derive_profile(arrivals, records)
    assert profile.interval_minutes == 6
    assert profile.weekday_slots == [[float(d + s % 5 + 1) for s in range(240)] for d in range(7)]
    assert profile.day_level_sd == DAY_LEVEL_SD
    assert profile.handle_mean == 200.0
    assert profile.handle_sd == pytest.approx(141.42)
    assert profile.patience_mean == 80.0  # 160 s queued in all, over the 2 who hung up

"""Regularising real exports: interval lengths, gaps, and refused input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd  # type: ignore[import-untyped]
import pytest

from blending.errors import (
    BadColumns,
    BlendingError,
    DuplicateTimestamps,
    EmptySeries,
    IrregularIntervals,
    NegativeCounts,
)
from blending.intervals import infer_interval_minutes, read_arrivals_csv, regularise


def stamps(start: str, minutes: int, count: int) -> pd.Series:
    return pd.Series(pd.date_range(start, periods=count, freq=f"{minutes}min"))


@pytest.mark.parametrize("minutes", [5, 6, 15, 30])
def test_interval_length_is_inferred(minutes: int) -> None:
    s = stamps("2024-01-01 08:00", minutes, 40)
    assert infer_interval_minutes(s) == minutes
    # gaps (a closed night) do not change it
    gappy = pd.concat([s, s + pd.Timedelta(days=1)])
    assert infer_interval_minutes(gappy) == minutes


def test_nights_weekends_and_holidays() -> None:
    """Weekdays 08:00-10:00 only, one Wednesday missing (a holiday), one short Friday."""
    rows = []
    for day in pd.date_range("2024-01-01", "2024-01-26", freq="D"):
        if day.weekday() >= 5 or day == pd.Timestamp("2024-01-10"):
            continue
        end = "09:00" if day == pd.Timestamp("2024-01-19") else "09:45"
        for t in pd.date_range(f"{day:%Y-%m-%d} 08:00", f"{day:%Y-%m-%d} {end}", freq="15min"):
            if day.day == 2 and t.minute == 30 and t.hour == 8:
                continue  # an export that omits an interval with no calls
            rows.append({"interval_start": t, "calls": 3})
    [a] = regularise(pd.DataFrame(rows))
    assert a.interval_minutes == 15
    assert a.open_weekdays == (0, 1, 2, 3, 4)
    assert a.open_slots.sum() == 8
    assert a.holidays.sum() == 1
    assert np.isnan(a.calls[9]).all()  # 2024-01-10
    assert a.calls[5].sum() == 0  # Saturday: closed
    assert a.calls[1][34] == 0  # 08:30 on a day with rows: no calls
    assert a.calls[0][34] == 3
    assert a.calls[18][37:40].sum() == 0  # the short Friday after 09:00
    assert a.calls[0][32] == 3


def test_finer_rows_are_summed_into_longer_intervals(tmp_path: Path) -> None:
    csv = tmp_path / "calls.csv"
    frame = pd.DataFrame({"interval_start": stamps("2024-01-01", 5, 12), "calls": range(12)})
    frame["aht_seconds"] = 100.0
    frame.loc[0, "aht_seconds"] = np.nan
    frame.to_csv(csv, index=False)
    [a] = read_arrivals_csv(csv, interval_minutes=15)
    assert a.interval_minutes == 15
    assert list(a.calls[0][:4]) == [3, 12, 21, 30]
    assert a.aht_seconds is not None
    assert a.aht_seconds[0][0] == pytest.approx(100.0)


def test_queues_are_kept_apart(tmp_path: Path) -> None:
    csv = tmp_path / "calls.csv"
    s = stamps("2024-01-01 08:00", 30, 4)
    pd.concat(
        [
            pd.DataFrame({"interval_start": s, "calls": 1, "queue": "cards"}),
            pd.DataFrame({"interval_start": s, "calls": 2, "queue": "loans"}),
        ]
    ).to_csv(csv, index=False)
    cards, loans = read_arrivals_csv(csv)
    assert (cards.queue, loans.queue) == ("cards", "loans")
    assert np.nansum(loans.calls) == 8


def test_unsorted_rows_are_sorted_with_a_notice() -> None:
    s = stamps("2024-01-01 08:00", 15, 6)
    frame = pd.DataFrame({"interval_start": s[::-1], "calls": range(6)})
    [a] = regularise(frame, "calls.csv")
    assert any("sorted" in n for n in a.notices)
    assert a.calls[0][32] == 5


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "calls.csv"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "error", "words"),
    [
        ("", EmptySeries, "no rows"),
        ("interval_start,calls\n", EmptySeries, "no rows"),
        ("when,count\n2024-01-01 08:00,3\n", BadColumns, "interval_start"),
        ("interval_start,calls\n2024-01-01 08:00,-3\n", NegativeCounts, "negative calls"),
        ("interval_start,calls\n2024-01-01 08:00,lots\n", BadColumns, "line 2"),
        ("interval_start,calls\nyesterday,3\n", BadColumns, "interval_start"),
        (
            "interval_start,calls\n2024-01-01 08:00,3\n2024-01-01 08:15,3\n2024-01-01 08:00,4\n",
            DuplicateTimestamps,
            "2024-01-01 08:00",
        ),
        (
            "interval_start,calls\n2024-01-01 08:00,3\n2024-01-01 08:07,3\n",
            IrregularIntervals,
            "does not divide",
        ),
    ],
)
def test_bad_files_get_a_clear_message(
    tmp_path: Path, text: str, error: type[BlendingError], words: str
) -> None:
    with pytest.raises(error, match=words):
        read_arrivals_csv(write(tmp_path, text), interval_minutes=7 if "08:07" in text else None)


def test_coarser_export_cannot_be_split(tmp_path: Path) -> None:
    text = "interval_start,calls\n2024-01-01 08:00,3\n2024-01-01 08:30,3\n"
    with pytest.raises(IrregularIntervals, match="cannot be split"):
        read_arrivals_csv(write(tmp_path, text), interval_minutes=15)

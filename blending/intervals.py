"""Arrival exports made regular: one day-by-slot grid per queue, gaps explained.

Real exports skip rows: closed nights and weekends, holidays, intervals with no calls. The
rules, in order:

* the interval length is the largest grid every timestamp sits on (5, 6, 15, 30 minutes...),
  or the one asked for, which must be a multiple of it (finer rows are summed);
* a *slot* (time of day) is open if any row ever falls on it; a *weekday* is open if it has
  rows on at least half of its dates;
* on a day that has rows, a missing open slot means no calls (0);
* a missing day on an open weekday is a holiday: unknown (NaN), filled in for fitting and
  never scored; a missing day on a closed weekday is closed (0).

Duplicated intervals are refused (a second count for the same interval is ambiguous); rows
out of time order are sorted, with a notice.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd  # type: ignore[import-untyped]

from blending.errors import (
    BadColumns,
    DuplicateTimestamps,
    EmptySeries,
    IrregularIntervals,
    NegativeCounts,
)

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Arrivals:
    """One queue's history on a regular grid: ``calls[day, slot]`` from ``first_day``."""

    queue: str
    interval_minutes: int
    first_day: datetime
    calls: FloatArray
    aht_seconds: FloatArray | None
    open_slots: BoolArray
    open_weekdays: tuple[int, ...]
    holidays: BoolArray
    end: datetime
    notices: tuple[str, ...] = field(default=())

    @property
    def slots_per_day(self) -> int:
        return 1440 // self.interval_minutes

    @property
    def days(self) -> int:
        return int(self.calls.shape[0])

    def day(self, index: int) -> datetime:
        return self.first_day + timedelta(days=index)

    def is_open_day(self, index: int) -> bool:
        return self.day(index).weekday() in self.open_weekdays

    def complete_days(self) -> int:
        """Days from the start that are complete: the last day counts once no open slot of
        it lies after the end of the data."""
        end = pd.Timestamp(self.end)
        whole = int((end.normalize() - pd.Timestamp(self.first_day)).days)
        slot = (end - end.normalize()) // pd.Timedelta(minutes=self.interval_minutes)
        if whole < self.days and slot > 0 and not self.open_slots[slot:].any():
            return whole + 1
        return whole


def read_arrivals_csv(path: str | Path, interval_minutes: int | None = None) -> list[Arrivals]:
    """Read ``interval_start,calls[,queue][,aht_seconds]`` into one ``Arrivals`` per queue."""
    source = str(path)
    try:
        frame = pd.read_csv(path, dtype={"queue": "string"})
    except pd.errors.EmptyDataError as exc:
        raise EmptySeries(source) from exc
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise BadColumns(source, f"cannot read the file ({exc})") from exc
    return regularise(frame, source, interval_minutes)


def regularise(
    frame: pd.DataFrame, source: str = "arrivals", interval_minutes: int | None = None
) -> list[Arrivals]:
    """Check and regularise a frame with the CSV's columns (see the module docstring)."""
    missing = {"interval_start", "calls"} - set(frame.columns)
    if missing:
        raise BadColumns(
            source,
            f"missing column(s) {', '.join(sorted(missing))}; expected "
            "interval_start,calls and optionally queue and aht_seconds",
        )
    if frame.empty:
        raise EmptySeries(source)
    frame = frame.copy()
    try:
        frame["interval_start"] = pd.to_datetime(frame["interval_start"])
    except (ValueError, TypeError) as exc:
        raise BadColumns(source, f"unreadable interval_start ({exc})") from exc
    if getattr(frame["interval_start"].dt, "tz", None) is not None:
        frame["interval_start"] = frame["interval_start"].dt.tz_localize(None)
    for column in ("calls", "aht_seconds"):
        if column not in frame.columns:
            continue
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = values.isna() & frame[column].notna()
        if column == "calls":
            bad |= frame[column].isna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0]) + 2
            raise BadColumns(source, f"{column} on line {row} is not a number")
        negative = values < 0
        if negative.any():
            stamps = frame.loc[negative, "interval_start"].dt.strftime("%Y-%m-%d %H:%M")
            raise NegativeCounts(source, column, list(stamps))
        frame[column] = values.astype(float)
    if "queue" not in frame.columns:
        frame["queue"] = ""
    frame["queue"] = frame["queue"].fillna("").astype(str)
    result = []
    for queue, rows in frame.groupby("queue", sort=True):
        result.append(_one_queue(rows, source, str(queue), interval_minutes))
    return result


def infer_interval_minutes(stamps: pd.Series, source: str = "arrivals") -> int:
    """The coarsest grid, in whole minutes dividing a day, that all timestamps lie on."""
    times = pd.DatetimeIndex(stamps)
    if (times.second != 0).any() or (times.microsecond != 0).any():
        raise IrregularIntervals(source, "timestamps must fall on whole minutes")
    minutes = (times.hour * 60 + times.minute).to_numpy()
    step = 1440
    for m in np.unique(minutes):
        step = math.gcd(step, int(m))
    if len(times) > 1:
        diffs = np.diff(np.sort(times.asi8)) // 60_000_000_000
        for d in np.unique(diffs):
            step = math.gcd(step, int(d) % 1440)
    if step < 1:
        raise IrregularIntervals(source, "cannot find the interval length")
    return step


def _one_queue(
    rows: pd.DataFrame, source: str, queue: str, interval_minutes: int | None
) -> Arrivals:
    notices: list[str] = []
    stamps = rows["interval_start"]
    if not stamps.is_monotonic_increasing:
        notices.append(f"{source}: rows were not in time order; sorted them")
        rows = rows.sort_values("interval_start", kind="stable")
        stamps = rows["interval_start"]
    dup = stamps.duplicated()
    if dup.any():
        raise DuplicateTimestamps(
            source, queue, list(stamps[dup].dt.strftime("%Y-%m-%d %H:%M").unique())
        )
    native = infer_interval_minutes(stamps, source)
    step = native if interval_minutes is None else interval_minutes
    if step <= 0 or 1440 % step:
        raise IrregularIntervals(
            source, f"an interval of {step} minutes does not divide a day into equal parts"
        )
    if step % native:
        raise IrregularIntervals(
            source,
            f"rows are {native} minutes apart; they cannot be split into {step}-minute "
            "intervals (choose a multiple of the export's interval)",
        )
    slots = 1440 // step
    first_day = stamps.iloc[0].normalize()
    last = stamps.iloc[-1]
    days = int((last.normalize() - first_day).days) + 1
    offset = ((stamps - first_day) // pd.Timedelta(minutes=step)).to_numpy()
    calls = np.zeros(days * slots)
    np.add.at(calls, offset, rows["calls"].to_numpy(dtype=float))
    aht: FloatArray | None = None
    if "aht_seconds" in rows.columns and rows["aht_seconds"].notna().any():
        work = np.zeros(days * slots)
        weights = rows["calls"].to_numpy(dtype=float)
        handle = rows["aht_seconds"].to_numpy(dtype=float)
        known = ~np.isnan(handle)
        np.add.at(work, offset[known], (handle * weights)[known])
        counted = np.zeros(days * slots)
        np.add.at(counted, offset[known], weights[known])
        with np.errstate(invalid="ignore", divide="ignore"):
            aht = np.where(counted > 0, work / counted, np.nan).reshape(days, slots)
    present_slot = np.zeros(days * slots, dtype=bool)
    present_slot[offset] = True
    grid = present_slot.reshape(days, slots)
    open_slots: BoolArray = np.asarray(grid.any(axis=0), dtype=bool)
    day_present: BoolArray = np.asarray(grid.any(axis=1), dtype=bool)
    weekday = (np.arange(days) + first_day.weekday()) % 7
    open_weekdays = tuple(
        int(w) for w in range(7) if (weekday == w).any() and day_present[weekday == w].mean() >= 0.5
    )
    holidays = ~day_present & np.isin(weekday, open_weekdays)
    table = calls.reshape(days, slots)
    table[holidays] = np.nan
    if holidays.any():
        notices.append(
            f"{source}: {int(holidays.sum())} missing day(s) on usual working days treated as "
            "holidays (not scored)"
        )
    end = last + pd.Timedelta(minutes=step)
    return Arrivals(
        queue=queue,
        interval_minutes=step,
        first_day=first_day.to_pydatetime(),
        calls=table,
        aht_seconds=aht,
        open_slots=open_slots,
        open_weekdays=open_weekdays,
        holidays=holidays,
        end=end.to_pydatetime(),
        notices=tuple(notices),
    )

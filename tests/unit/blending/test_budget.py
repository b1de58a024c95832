"""The time an agent asking for work has: the least of the minutes asked for, the rest of
their window and their schedule, named; none without a window unless minutes are named."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from blending.budget import budget
from blending.schedule import ScheduleRow, ShiftNow, shift_now
from queues.matching import Budget

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
WHY = "the calls need every available agent now"


def at(minutes: float) -> datetime:
    return NOW + timedelta(minutes=minutes)


def entry(kind: str, start: float, end: float) -> ScheduleRow:
    return ScheduleRow("ana", kind, at(start), at(end))


SHIFT = [entry("shift", -120, 300), entry("break", 40, 55), entry("break", 150, 180)]


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        ([], ShiftNow()),
        (SHIFT, ShiftNow(shift_end=at(300), next_break=at(40))),
        ([entry("shift", -120, 300), entry("break", -5, 10)], ShiftNow(at(300), None, at(10))),
        ([entry("shift", 30, 300), entry("break", 60, 70)], ShiftNow()),
        ([entry("shift", -60, 30), entry("break", 45, 60)], ShiftNow(shift_end=at(30))),
    ],
    ids=["no schedule", "on shift", "on a break", "off shift", "break after the shift"],
)
def test_where_the_schedule_stands(entries: list[ScheduleRow], expected: ShiftNow) -> None:
    assert shift_now(entries, NOW) == expected


@pytest.mark.parametrize(
    ("asked", "window", "shift", "expected"),
    [
        # The window alone, when nothing else ends first.
        (None, 30, ShiftNow(), Budget(30, "until the lull ends at 10:30")),
        # Minutes asked for are honoured without a window, capped by the window with one.
        (25, None, ShiftNow(), Budget(25, "")),
        (60, 30, ShiftNow(), Budget(30, "until the lull ends at 10:30")),
        (20, 30, ShiftNow(), Budget(20, "")),
        # The schedule caps every pull: the next break, the shift's end.
        (60, None, ShiftNow(at(300), at(15)), Budget(15, "until your break at 10:15")),
        (None, 30, ShiftNow(at(300), at(15)), Budget(15, "until your break at 10:15")),
        (None, 30, ShiftNow(at(20)), Budget(20, "until your shift ends at 10:20")),
        # At equal minutes the schedule is named.
        (None, 15, ShiftNow(at(300), at(15)), Budget(15, "until your break at 10:15")),
        (30, 30, ShiftNow(), Budget(30, "until the lull ends at 10:30")),
    ],
)
def test_the_least_time_wins_and_is_named(
    asked: float | None, window: float | None, shift: ShiftNow, expected: Budget
) -> None:
    end = at(window) if window is not None else None
    assert budget(NOW, asked, end, shift, WHY, UTC) == expected


def test_without_minutes_or_a_window_there_is_no_time_and_it_says_why() -> None:
    got = budget(NOW, None, None, ShiftNow(at(300)), WHY, UTC)
    assert got == Budget(
        None,
        "no usable window for you now: the calls need every available agent now; "
        "ask again in a few minutes or ask your supervisor",
    )


def test_on_a_break_there_is_no_time_even_for_minutes_asked_for() -> None:
    for asked, window in ((None, at(30)), (25.0, None)):
        got = budget(NOW, asked, window, ShiftNow(at(300), None, at(12)), WHY, UTC)
        assert got == Budget(
            None, "by your schedule you are on a break until 10:12: ask again then"
        )


def test_clock_times_are_the_centers() -> None:
    got = budget(NOW, None, at(30), ShiftNow(), WHY, ZoneInfo("Europe/Amsterdam"))
    assert got.basis == "until the lull ends at 11:30"

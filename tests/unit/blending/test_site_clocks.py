"""Schedules written on a site's clock: wall-clock shifts become the right instants, DST too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from blending.presence import Schedule
from blending.schedule import ScheduleRow, shift_now
from blending.sites import SiteIn

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")


def _shift(day: str, start: str = "09:00", end: str = "17:00") -> Schedule:
    return Schedule.model_validate(
        {"items": [{"kind": "shift", "start": f"{day}T{start}:00", "end": f"{day}T{end}:00"}]}
    )


@pytest.mark.parametrize(
    ("zone", "day", "start_utc"),
    [
        (LONDON, "2026-01-15", datetime(2026, 1, 15, 9, tzinfo=UTC)),
        (LONDON, "2026-03-29", datetime(2026, 3, 29, 8, tzinfo=UTC)),  # first day of BST
        (NEW_YORK, "2026-01-15", datetime(2026, 1, 15, 14, tzinfo=UTC)),
        (NEW_YORK, "2026-03-08", datetime(2026, 3, 8, 13, tzinfo=UTC)),  # first day of EDT
    ],
)
def test_a_nine_to_five_shift_is_nine_to_five_on_the_site_clock(
    zone: ZoneInfo, day: str, start_utc: datetime
) -> None:
    placed = _shift(day).on_clock(zone)
    entry = placed.items[0]
    assert (entry.start, entry.end) == (start_utc, start_utc + timedelta(hours=8))
    assert (entry.start.astimezone(zone).hour, entry.end.astimezone(zone).hour) == (9, 17)


def test_the_same_wall_clock_shift_at_two_sites_is_at_different_instants() -> None:
    london = _shift("2026-01-15").on_clock(LONDON).items[0]
    new_york = _shift("2026-01-15").on_clock(NEW_YORK).items[0]
    assert new_york.start - london.start == timedelta(hours=5)
    rows = [ScheduleRow("a", "shift", new_york.start, new_york.end)]
    assert not shift_now(rows, datetime(2026, 1, 15, 13, 59, tzinfo=UTC)).working
    assert shift_now(rows, datetime(2026, 1, 15, 14, tzinfo=UTC)).working
    assert shift_now(rows, datetime(2026, 1, 15, 21, 59, tzinfo=UTC)).working
    assert not shift_now(rows, datetime(2026, 1, 15, 22, tzinfo=UTC)).working


def test_a_night_shift_across_a_dst_change_lasts_the_hours_the_clock_really_gives() -> None:
    spring = Schedule.model_validate(
        {"items": [{"kind": "shift", "start": "2026-03-07T22:00:00", "end": "2026-03-08T06:00:00"}]}
    ).on_clock(NEW_YORK)
    autumn = Schedule.model_validate(
        {"items": [{"kind": "shift", "start": "2026-10-31T22:00:00", "end": "2026-11-01T06:00:00"}]}
    ).on_clock(NEW_YORK)
    assert spring.items[0].end - spring.items[0].start == timedelta(hours=7)
    assert autumn.items[0].end - autumn.items[0].start == timedelta(hours=9)


def test_times_with_and_without_offsets_are_not_mixed() -> None:
    with pytest.raises(ValidationError, match="every time without one"):
        Schedule.model_validate(
            {
                "items": [
                    {"kind": "shift", "start": "2026-01-15T09:00:00", "end": "2026-01-15T17:00:00Z"}
                ]
            }
        )
    with pytest.raises(ValidationError, match="every time without one"):
        Schedule.model_validate(
            {
                "start": "2026-01-15T00:00:00Z",
                "items": [
                    {"kind": "shift", "start": "2026-01-15T09:00:00", "end": "2026-01-15T17:00:00"}
                ],
            }
        )


def test_a_schedule_with_offsets_is_left_as_it_is() -> None:
    body = {
        "items": [{"kind": "shift", "start": "2026-01-15T09:00:00Z", "end": "2026-01-15T17:00:00Z"}]
    }
    schedule = Schedule.model_validate(body)
    assert not schedule.local
    assert schedule.on_clock(NEW_YORK).items == schedule.items


@pytest.mark.parametrize("zone", ["Europe/London", "America/New_York", "Asia/Kolkata", "UTC"])
def test_iana_zones_are_accepted(zone: str) -> None:
    assert SiteIn(name="x", time_zone=zone).time_zone == zone


@pytest.mark.parametrize(
    "zone", ["Europe/Londinium", "EST", "CET", "+01:00", "", "/etc/passwd", "a/../../b"]
)
def test_anything_else_is_refused(zone: str) -> None:
    with pytest.raises(ValidationError):
        SiteIn(name="x", time_zone=zone)

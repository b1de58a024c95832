"""A queue's forecast follows its site's clock: its days, weekdays and times of day are local,
its intervals are the real ones (a 23-hour and a 25-hour day at the DST changes)."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from blending.forecast_store import ForecastSettings, forecast_queue

POLICY = ForecastSettings(model="mstl_ets", weeks=3)
Row = tuple[datetime, float, float | None]


def local_history(zone: ZoneInfo, until: datetime, days: int, peak_hour: float = 10) -> list[Row]:
    """15-minute intervals up to ``until``, busy around ``peak_hour`` on the zone's clock."""
    rows: list[Row] = []
    at = (until - timedelta(days=days)).replace(minute=0, second=0)
    while at < until:
        local = at.astimezone(zone)
        hour = local.hour + local.minute / 60
        calls = round(40 * math.exp(-(((hour - peak_hour) / 1.5) ** 2)) + 1)
        rows.append((at, float(calls), 240.0))
        at += timedelta(minutes=15)
    return rows


def forecast(zone: str, rows: list[Row], horizon_days: int = 1) -> list[tuple[datetime, float]]:
    result, agents = forecast_queue(rows, "q", 15, replace(POLICY, timezone=zone), horizon_days)
    assert len(agents) == len(result.points)
    return [(p.interval_start, p.mean) for p in result.points]


def peak(points: list[tuple[datetime, float]], day: datetime) -> datetime:
    that_day = [(at, mean) for at, mean in points if day <= at < day + timedelta(days=1)]
    return max(that_day, key=lambda p: p[1])[0]


def test_two_sites_eight_hours_apart_each_peak_at_their_own_ten_oclock() -> None:
    now = datetime(2026, 1, 20, 0, 0, tzinfo=UTC)
    london = forecast("Europe/London", local_history(ZoneInfo("Europe/London"), now, 28))
    singapore = forecast("Asia/Singapore", local_history(ZoneInfo("Asia/Singapore"), now, 28))
    day = datetime(2026, 1, 20, tzinfo=UTC)
    assert peak(london, day) == datetime(2026, 1, 20, 10, 0, tzinfo=UTC)
    assert peak(singapore, day) == datetime(2026, 1, 20, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "day", "hours", "peak_utc"),
    [
        # 29 March 2026: London goes from GMT to BST, a 23-hour day.
        (
            datetime(2026, 3, 28, 12, tzinfo=UTC),
            datetime(2026, 3, 29, tzinfo=ZoneInfo("Europe/London")),
            23,
            datetime(2026, 3, 29, 9, tzinfo=UTC),
        ),
        # 25 October 2026: back from BST to GMT, a 25-hour day.
        (
            datetime(2026, 10, 24, 12, tzinfo=UTC),
            datetime(2026, 10, 25, tzinfo=ZoneInfo("Europe/London")),
            25,
            datetime(2026, 10, 25, 10, tzinfo=UTC),
        ),
    ],
)
def test_a_dst_day_has_its_real_intervals_and_keeps_its_local_peak(
    now: datetime, day: datetime, hours: int, peak_utc: datetime
) -> None:
    london = ZoneInfo("Europe/London")
    history = local_history(london, now, 35)
    points = forecast("Europe/London", history)
    start, end = day.astimezone(UTC), (day + timedelta(days=1)).astimezone(UTC)
    assert end - start == timedelta(hours=hours)
    on_day = [at for at, _ in points if start <= at < end]
    assert len(on_day) == hours * 4
    assert len(set(on_day)) == len(on_day)
    assert all(b - a == timedelta(minutes=15) for a, b in pairwise(on_day))
    assert peak(points, start) == peak_utc


def test_history_across_the_autumn_change_is_read_not_refused() -> None:
    """The hour the clock repeats holds two intervals per local time slot; they are one slot."""
    london = ZoneInfo("Europe/London")
    now = datetime(2026, 11, 10, 12, tzinfo=UTC)
    points = forecast("Europe/London", local_history(london, now, 28))
    assert peak(points, datetime(2026, 11, 11, tzinfo=UTC)) == datetime(
        2026, 11, 11, 10, tzinfo=UTC
    )

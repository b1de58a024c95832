"""Arrivals per interval: the morning mail and the office hours' trickle, per weekday."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from blending.planning.arrivals import DailyBands
from blending.planning.intraday import profile, split

FIRST = date(2026, 1, 5)  # a Monday
ZONE = ZoneInfo("Europe/Paris")


def _history(weeks: int, seed: int = 1) -> tuple[np.ndarray, list[date]]:
    """Hourly arrivals: 40 with the 08:00 mail and 3 an hour 09:00-17:00 on weekdays; a
    little mail on Saturday at 10:00; nothing on Sunday."""
    rng = np.random.default_rng(seed)
    days = [FIRST + timedelta(days=i) for i in range(7 * weeks)]
    rate = np.zeros((len(days), 24))
    for i, d in enumerate(days):
        if d.weekday() < 5:
            rate[i, 8] = 40
            rate[i, 9:17] = 3
        elif d.weekday() == 5:
            rate[i, 10] = 5
    return rng.poisson(rate).astype(float), days


def test_the_morning_mail_is_where_the_profile_puts_the_day() -> None:
    counts, days = _history(8)
    shares = profile(counts, days)

    assert np.allclose(shares.sum(axis=1), 1.0)
    monday, saturday = shares[0], shares[5]
    assert 0.55 < monday[8] < 0.70  # 40 of 64 a day
    assert monday[:8].sum() == 0
    assert monday[17:].sum() == 0
    # Saturday has few arrivals of its own: its mail at 10:00 still leads, the rest is the
    # weekdays' shape, shrunk toward.
    assert saturday.argmax() == 10
    assert saturday[10] > 0.4


def test_a_day_forecast_split_into_intervals_keeps_its_total_and_bands() -> None:
    counts, days = _history(8)
    shares = profile(counts, days)
    ahead = (date(2026, 3, 2), date(2026, 3, 3))  # Monday, Tuesday
    bands = DailyBands(
        ahead,
        np.array([64.0, 64.0]),
        np.array([54.0, 54.0]),
        np.array([74.0, 74.0]),
        np.array([48.0, 48.0]),
        np.array([80.0, 80.0]),
    )
    out = split("mail", bands, shares, 60, ZONE)

    monday = [i for i in out.intervals if i.start.date() == ahead[0]]
    assert abs(sum(i.mean for i in monday) - 64.0) < 0.1
    mail = max(monday, key=lambda i: i.mean)
    assert mail.start.hour == 8
    assert mail.start.utcoffset() == timedelta(hours=1)
    assert mail.lo_80 < mail.mean < mail.hi_80
    # An interval's band is wider, relative to its mean, than the day's (Poisson spread).
    assert (mail.hi_80 - mail.mean) / mail.mean > (74 - 64) / 64

"""Arrivals per interval of the day (the morning mail, the office hours' trickle): the daily
forecast split by each type's intraday profile.

The profile is the share of a day's arrivals that falls in each interval, per weekday, learnt
from the last weeks of history and shrunk toward the type's profile over all days when a
weekday has few arrivals. An interval's band adds the Poisson spread of the day's arrivals
over the intervals to its share of the day's own spread (normal approximation). Pure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from pydantic import BaseModel, Field

from blending.intervals import FloatArray
from blending.planning.arrivals import WEEK, Z80, DailyBands

PROFILE_WEEKS = 8
"""Weeks of history the intraday profile is learnt from."""
PRIOR_TASKS = 50.0
"""How many arrivals a weekday needs for its own profile to count half."""


def profile(counts: FloatArray, days: Sequence[date]) -> FloatArray:
    """Shares per weekday (7 x slots, each row summing to 1, or all 0 with no arrivals at
    all) from ``counts`` (days x slots)."""
    counts = np.asarray(counts, dtype=float)
    slots = counts.shape[1]
    overall = counts.sum(axis=0)
    total = overall.sum()
    base = overall / total if total > 0 else np.zeros(slots)
    out = np.zeros((WEEK, slots))
    weekday = np.array([d.weekday() for d in days], dtype=int)
    for w in range(WEEK):
        mine = counts[weekday == w].sum(axis=0)
        seen = mine.sum()
        own = mine / seen if seen > 0 else base
        weight = seen / (seen + PRIOR_TASKS)
        out[w] = weight * own + (1 - weight) * base
    return out


class IntervalArrivals(BaseModel):
    start: datetime
    mean: float
    lo_80: float
    hi_80: float


class TypeIntervals(BaseModel):
    type: str
    minutes: int = Field(description="The intervals' length.")
    intervals: list[IntervalArrivals] = Field(description="Only those with arrivals expected.")


def split(
    name: str, bands: DailyBands, shares: FloatArray, minutes: int, zone: ZoneInfo
) -> TypeIntervals:
    """The daily forecast spread over the day's intervals by the weekday's shares."""
    out = []
    for i, day in enumerate(bands.days):
        row = shares[day.weekday()]
        mean_day = float(bands.mean[i])
        sd_day = max(0.0, float(bands.hi_80[i]) - mean_day) / Z80
        midnight = datetime.combine(day, time(), zone)
        for slot, share in enumerate(row):
            if share <= 0 or mean_day <= 0:
                continue
            mean = share * mean_day
            sd = float(np.sqrt(mean + (share * sd_day) ** 2))
            out.append(
                IntervalArrivals(
                    start=midnight + timedelta(minutes=slot * minutes),
                    mean=round(mean, 2),
                    lo_80=round(max(0.0, mean - Z80 * sd), 2),
                    hi_80=round(mean + Z80 * sd, 2),
                )
            )
    return TypeIntervals(type=name, minutes=minutes, intervals=out)


def split_all(
    forecast: Mapping[str, DailyBands],
    counts: Mapping[str, FloatArray],
    days: Sequence[date],
    minutes: int,
    zone: ZoneInfo,
) -> list[TypeIntervals]:
    """Every type forecast, by its profile (types with no interval history: none)."""
    return [
        split(name, bands, profile(counts[name], days), minutes, zone)
        for name, bands in sorted(forecast.items())
        if name in counts
    ]


def scaled(found: TypeIntervals, share: float) -> TypeIntervals:
    """A site's share of a type's arrivals per interval (its band scaled alike)."""
    return found.model_copy(
        update={
            "intervals": [
                i.model_copy(
                    update={k: round(getattr(i, k) * share, 2) for k in ("mean", "lo_80", "hi_80")}
                )
                for i in found.intervals
            ]
        }
    )

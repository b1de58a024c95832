"""How many idle agents the live rule keeps for calls before it lends one more.

An agent lent on the live queue's word (beyond the forecast's surplus) is called back at the
first waiting call, and takes a while to return; the calls that arrive meanwhile need agents
who are idle already. With calls arriving as a Poisson stream at the forecast's rate, the
agents kept idle cover the calls of ``cover_seconds`` with probability ``cover_share``: the
``cover_share`` quantile of a Poisson count of mean rate x ``cover_seconds``. So the threshold
follows the group's load, as the adaptive thresholds of the call-blending literature do: none
kept at night, when a call an hour comes, more than a fixed three at the morning peak, when
three idle agents are gone in seconds. The rate is the highest forecast rate over the chunk
being lent (the agent is away that long), so a rise that is coming is covered already.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from scipy.stats import poisson

from blending.windows import IntervalNeed

UNKNOWN_RATE_KEEP = 3
"""Idle agents kept when the intervals carry no forecast of calls: a fixed threshold."""


def calls_per_second(ahead: Sequence[IntervalNeed], now: datetime, minutes: float) -> float | None:
    """The highest forecast call rate over the next ``minutes`` (None: no forecast of calls)."""
    until = now + timedelta(minutes=minutes)
    rates = [
        n.calls / (n.minutes * 60)
        for n in ahead
        if n.calls is not None
        and n.minutes > 0
        and n.start < until
        and n.start + timedelta(minutes=n.minutes) > now
    ]
    return max(rates) if rates else None


def idle_kept(
    ahead: Sequence[IntervalNeed],
    now: datetime,
    *,
    floor: int,
    cover_seconds: float,
    cover_share: float,
    minutes: float,
) -> int:
    """Idle agents kept before one more is lent: at least ``floor``; with ``cover_seconds``
    0, ``floor`` alone (a fixed threshold)."""
    if cover_seconds <= 0:
        return floor
    rate = calls_per_second(ahead, now, minutes)
    if rate is None:
        return max(floor, UNKNOWN_RATE_KEEP)
    covered = int(poisson.ppf(cover_share, rate * cover_seconds)) if rate > 0 else 0
    return max(floor, covered)

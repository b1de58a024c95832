"""The control clients' rate limits, on a virtual clock: a burst is spread out as the
platform's quota allows, and a throttle holds everyone back."""

from __future__ import annotations

import asyncio

import pytest

from telephony_adapters.ratelimit import TokenBucket, Window


class VirtualTime:
    """A clock that moves only when someone sleeps."""

    def __init__(self) -> None:
        self.at = 0.0

    def now(self) -> float:
        return self.at

    async def sleep(self, seconds: float) -> None:
        self.at += max(seconds, 0.0)
        await asyncio.sleep(0)


async def _granted(limiter: TokenBucket | Window, time: VirtualTime, count: int) -> list[float]:
    async def one() -> float:
        await limiter.take()
        return time.now()

    return list(await asyncio.gather(*(one() for _ in range(count))))


def _most_in_any(times: list[float], seconds: float) -> int:
    return max(sum(1 for t in times if start <= t < start + seconds) for start in times)


async def test_a_burst_gets_the_bucket_then_the_rate() -> None:
    time = VirtualTime()
    bucket = TokenBucket(2.0, 5, now=time.now, sleep=time.sleep)
    times = await _granted(bucket, time, 12)
    assert times[:5] == [0.0] * 5
    assert times[5:] == pytest.approx([0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5])
    # Never more than the burst plus what the rate adds in any second.
    assert _most_in_any(times, 1.0) <= 5 + 2


async def test_an_idle_bucket_fills_up_to_the_burst_only() -> None:
    time = VirtualTime()
    bucket = TokenBucket(2.0, 5, now=time.now, sleep=time.sleep)
    time.at = 100.0
    times = await _granted(bucket, time, 6)
    assert times == pytest.approx([100.0] * 5 + [100.5])


async def test_a_throttle_holds_the_bucket_and_empties_it() -> None:
    time = VirtualTime()
    bucket = TokenBucket(2.0, 5, now=time.now, sleep=time.sleep)
    bucket.hold(4.0)
    times = await _granted(bucket, time, 3)
    assert times == pytest.approx([4.5, 5.0, 5.5])


async def test_the_window_allows_its_limit_in_any_period() -> None:
    time = VirtualTime()
    window = Window(300, 60.0, now=time.now, sleep=time.sleep)
    times = await _granted(window, time, 650)
    assert times[:300] == [0.0] * 300
    assert times[300:600] == [60.0] * 300
    assert times[600:] == [120.0] * 50
    assert _most_in_any(times, 60.0) == 300


async def test_a_held_window_waits() -> None:
    time = VirtualTime()
    window = Window(3, 60.0, now=time.now, sleep=time.sleep)
    window.hold(7.0)
    assert await _granted(window, time, 1) == [7.0]


@pytest.mark.parametrize(("rate", "burst"), [(0.0, 5), (2.0, 0)])
def test_a_bucket_needs_a_rate_and_a_burst(rate: float, burst: int) -> None:
    with pytest.raises(ValueError, match="positive rate"):
        TokenBucket(rate, burst)

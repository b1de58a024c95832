"""Client-side rate limits for the control clients: a platform's API quota is respected before
the platform has to refuse a request.

:class:`TokenBucket` (Amazon Connect: 2 requests a second, bursts of 5, for the whole account)
and :class:`Window` (Genesys Cloud: 300 requests a minute per token) make a caller wait for
its turn; both can be told to hold everything for a while after the platform throttled a
request anyway (another client of the same account spent the quota). Time and sleep are
injected, so tests run them on a virtual clock.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable

Now = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class TokenBucket:
    """``rate`` tokens a second, at most ``burst`` saved up; one request takes one token."""

    def __init__(
        self,
        rate: float,
        burst: int,
        *,
        now: Now = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("a token bucket needs a positive rate and a burst of at least 1")
        self.rate = rate
        self.burst = burst
        self._now = now
        self._sleep = sleep
        self._tokens = float(burst)
        self._at = now()
        self._held_until = 0.0
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = self._now()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now

    async def take(self) -> None:
        """Wait for a token and take it; callers are served in turn."""
        async with self._lock:
            while True:
                now = self._now()
                if now < self._held_until:
                    await self._sleep(self._held_until - now)
                    continue
                self._refill()
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                await self._sleep((1 - self._tokens) / self.rate)

    def hold(self, seconds: float) -> None:
        """Give out nothing for ``seconds`` (the platform throttled us), and start empty."""
        self._held_until = max(self._held_until, self._now() + seconds)
        self._tokens = 0.0
        self._at = max(self._at, self._held_until)


class Window:
    """At most ``limit`` requests in any ``period`` seconds."""

    def __init__(
        self,
        limit: int,
        period: float,
        *,
        now: Now = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if limit < 1 or period <= 0:
            raise ValueError("a window needs a limit of at least 1 and a positive period")
        self.limit = limit
        self.period = period
        self._now = now
        self._sleep = sleep
        self._sent: deque[float] = deque()
        self._held_until = 0.0
        self._lock = asyncio.Lock()

    async def take(self) -> None:
        async with self._lock:
            while True:
                now = self._now()
                if now < self._held_until:
                    await self._sleep(self._held_until - now)
                    continue
                while self._sent and self._sent[0] <= now - self.period:
                    self._sent.popleft()
                if len(self._sent) < self.limit:
                    self._sent.append(now)
                    return
                await self._sleep(self._sent[0] + self.period - now)

    def hold(self, seconds: float) -> None:
        """Give out nothing for ``seconds`` (the platform throttled us)."""
        self._held_until = max(self._held_until, self._now() + seconds)

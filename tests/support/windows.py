"""The blending engine's plan as a round leaves it, for tests that need an agent to have time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg

from blending.decision_store import save_plan
from blending.policy import Decision, GroupDecision
from blending.snapshot import POOLED
from blending.windows import UsableWindow


async def lend(
    pool: asyncpg.Pool,
    *agents: str,
    minutes: float = 60,
    group: str = POOLED,
    reason: str | None = None,
    now: datetime | None = None,
) -> None:
    """A round's plan: each of ``agents`` granted a window of ``minutes`` from ``now``, and
    ``reason`` as the group's verdict. As after a real round, an agent left out who holds no
    work loses their window."""
    at = now or datetime.now(UTC)
    windows = [UsableWindow(a, at, at + timedelta(minutes=minutes), 1.0) for a in agents]
    decision = Decision({group: GroupDecision(group, windows=windows, reason=reason)})
    await save_plan(pool, decision, at)

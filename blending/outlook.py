"""The lending outlook in the service: the roster, schedules, presence, stored forecasts and
guards, read at once and put in :mod:`blending.lending`'s terms.

A task's ETA (:mod:`queues.eta`) reads it through :class:`ForecastOutlook`, which keeps what
it read for a minute, so that a burst of lookups reads the center once.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from blending.decision_store import load_guards
from blending.lending import ForecastLending, GroupNeed, Span, Staffer, working_spans
from blending.policy import BlendPolicy
from blending.snapshot import (
    POOLED,
    ForecastRow,
    read_forecasts,
    required_agents,
    staffing_group,
)
from blending.telemetry_store import TelemetryStore
from queues.db import Executor, load_queries
from queues.eta import OUTLOOK_HOURS

_SQL = load_queries("blending", "outlook.sql")
_SNAPSHOT = load_queries("blending", "snapshot.sql")
TAKING_PART = frozenset({"available", "on_call", "after_call_work", "back_office"})


async def read_lending(
    db: Executor,
    now: datetime,
    policy: BlendPolicy,
    *,
    target: tuple[float, float] = (0.8, 20.0),
    hours: float = OUTLOOK_HOURS,
) -> ForecastLending:
    """The outlook from ``now`` over ``hours``."""
    horizon = now + timedelta(hours=hours)
    rows = await db.fetch(_SQL["staff"])
    shifts: dict[str, list[Span]] = defaultdict(list)
    breaks: dict[str, list[Span]] = defaultdict(list)
    for r in await db.fetch(_SNAPSHOT["schedules"], now, horizon):
        kind = shifts if r["kind"] == "shift" else breaks
        kind[r["agent_id"]].append((r["starts_at"], r["ends_at"]))
    # Presence matters only for the agents with no schedule ahead (they count while present).
    unscheduled = {r["agent_id"] for r in rows if r["agent_id"] not in shifts.keys() | breaks}
    present: set[str] = set()
    if unscheduled:
        presence = await TelemetryStore(db).presence(now, sorted(unscheduled))
        present = {p.agent_id for p in presence.items if p.state in TAKING_PART}
    staff = [
        Staffer(
            r["agent_id"],
            staffing_group(r["queue"]),
            frozenset(r["skills"]),
            None
            if r["agent_id"] in unscheduled
            else working_spans(shifts[r["agent_id"]], breaks[r["agent_id"]]),
            r["agent_id"] in present,
        )
        for r in rows
    ]
    forecasts = await read_forecasts(db, now, horizon)
    guards = await load_guards(db)
    held = frozenset(g for g, state in guards.items() if state.mode != "open")
    return ForecastLending(
        now,
        group_needs(forecasts, {r["queue"] for r in rows if r["queue"]}, policy, target),
        staff,
        safety_margin=policy.windows.safety_margin,
        held=held,
        lends=policy.name != "none",
    )


def group_needs(
    forecasts: list[ForecastRow],
    named: set[str],
    policy: BlendPolicy,
    target: tuple[float, float],
) -> list[GroupNeed]:
    """Agents each staffing group's calls need per interval: a named queue's own, and the sum
    of the queues no named group answers for the pooled group (as the blending round sees
    them)."""
    need: dict[tuple[str, datetime], int | None] = {}
    minutes: dict[tuple[str, datetime], int] = {}
    for f in forecasts:
        key = (f.queue if f.queue in named else POOLED, f.start)
        required = required_agents(f, policy, target)
        before = need.get(key, 0)
        need[key] = None if required is None or before is None else before + required
        minutes[key] = f.minutes
    return [GroupNeed(g, start, minutes[(g, start)], n) for (g, start), n in sorted(need.items())]


@dataclass
class _Cached:
    at: datetime
    lending: ForecastLending


class ForecastOutlook:
    """Implements :class:`queues.eta.Outlook` on a pool; what it read is kept ``ttl``."""

    def __init__(
        self,
        db: Executor,
        policy: BlendPolicy,
        *,
        target: tuple[float, float] = (0.8, 20.0),
        ttl: timedelta = timedelta(minutes=1),
    ) -> None:
        self._db = db
        self._policy = policy
        self._target = target
        self._ttl = ttl
        self._cached: _Cached | None = None

    async def lending(self, now: datetime) -> ForecastLending:
        cached = self._cached
        if cached is not None and timedelta(0) <= now - cached.at < self._ttl:
            return cached.lending
        lending = await read_lending(self._db, now, self._policy, target=self._target)
        self._cached = _Cached(now, lending)
        return lending

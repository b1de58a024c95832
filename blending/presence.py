"""Agent presence: pure rules that combine telephony state, schedule and handed-out work.

The telephony platform is the authority while its feed is alive. A source that has been silent
for longer than its heartbeat makes the agent ``unknown``, never ``available``: lending an
agent who may be on a call is the one mistake this service must not make.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from itertools import pairwise
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from blending.events import AgentState, AgentStateChanged
from queues.bounds import WallOrInstant

DEFAULT_HEARTBEAT_SECONDS: dict[str, float] = {
    # Amazon Connect sends HEART_BEAT for every agent every 120 s when nothing else happens.
    "amazon_connect": 300.0,
    # The Genesys websocket sends a heartbeat every 30 s; the AMI client pings the server.
    "genesys": 120.0,
    "asterisk": 120.0,
    # Twilio and generic feeds send nothing when nothing happens: silence means nothing.
    "twilio": float("inf"),
    "generic": float("inf"),
}
PER_AGENT_HEARTBEATS = frozenset({"amazon_connect"})
"""Sources that send a heartbeat per agent, so that one agent's silence means something."""

_BUSY: frozenset[AgentState] = frozenset({"on_call", "after_call_work"})


class ScheduleEntry(BaseModel):
    """A shift, or a break within one."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["shift", "break"]
    start: WallOrInstant = Field(
        description="With its offset; or without one: a time on the agent's site clock."
    )
    end: WallOrInstant = Field(description="After `start`, at most 24 hours later.")

    @property
    def local(self) -> bool:
        """Written without offsets: to be read on the agent's site clock."""
        return self.start.tzinfo is None

    @model_validator(mode="after")
    def _ends_after_start(self) -> ScheduleEntry:
        if (self.start.tzinfo is None) != (self.end.tzinfo is None):
            raise ValueError(_ONE_CLOCK)
        if self.end <= self.start:
            raise ValueError("end must be after start")
        if self.end - self.start > timedelta(hours=24):
            raise ValueError("an entry may last at most 24 hours")
        return self


_ONE_CLOCK = "write every time with its offset, or every time without one (the site's clock)"


class Schedule(BaseModel):
    """An agent's schedule between ``start`` and ``end``: it replaces whatever was there.

    Times written without an offset are wall-clock times on the agent's site clock;
    :meth:`on_clock` turns them into instants (a DST change makes that day 23 or 25 hours).
    """

    model_config = ConfigDict(extra="forbid")

    start: WallOrInstant | None = Field(default=None, description="Default: the first entry.")
    end: WallOrInstant | None = Field(
        default=None, description="After `start`. Default: the last entry's end."
    )
    items: list[ScheduleEntry] = Field(
        max_length=1000, description="Each between `start` and `end` when they are given."
    )

    @property
    def local(self) -> bool:
        """Written without offsets: to be read on the agent's site clock."""
        return any(t.tzinfo is None for t in self._times())

    def on_clock(self, zone: tzinfo) -> Schedule:
        """The schedule with its wall-clock times read in ``zone`` (an ambiguous time, in the
        hour a DST change repeats, is its first occurrence; a time the change skips is read
        with the offset before it, so it lands after the change)."""

        def instant(at: datetime | None) -> datetime | None:
            if at is None or at.tzinfo is not None:
                return at
            return at.replace(tzinfo=zone).astimezone(UTC)

        items = [
            {"kind": e.kind, "start": instant(e.start), "end": instant(e.end)} for e in self.items
        ]
        return Schedule.model_validate(
            {"start": instant(self.start), "end": instant(self.end), "items": items}
        )

    def span(self) -> tuple[datetime, datetime] | None:
        if self.start is not None and self.end is not None:
            return self.start, self.end
        if not self.items:
            return None
        start = self.start or min(e.start for e in self.items)
        end = self.end or max(e.end for e in self.items)
        return start, end

    def _times(self) -> list[datetime]:
        times = [t for t in (self.start, self.end) if t is not None]
        return times + [t for e in self.items for t in (e.start, e.end)]

    @model_validator(mode="after")
    def _inside_span(self) -> Schedule:
        if len({t.tzinfo is None for t in self._times()}) > 1:
            raise ValueError(_ONE_CLOCK)
        span = self.span()
        if span is not None:
            if span[1] <= span[0]:
                raise ValueError("end must be after start")
            outside = [e for e in self.items if e.start < span[0] or e.end > span[1]]
            if outside:
                raise ValueError("every entry must lie between start and end")
        return self


@dataclass(frozen=True)
class Line:
    """One telephony id's last known state."""

    source: str
    state: AgentState
    reason: str | None
    since: datetime
    state_at: datetime
    last_seen: datetime


@dataclass(frozen=True)
class Presence:
    state: AgentState
    since: datetime | None
    source: str


def is_stale(
    line: Line,
    source_last_seen: Mapping[str, datetime],
    now: datetime,
    heartbeats: Mapping[str, float],
) -> bool:
    limit = heartbeats.get(line.source, float("inf"))
    if limit == float("inf"):
        return False
    seen = source_last_seen.get(line.source, line.last_seen)
    if line.source in PER_AGENT_HEARTBEATS:
        seen = line.last_seen
    return (now - seen).total_seconds() > limit


def resolve(
    lines: Sequence[Line],
    schedule: Sequence[ScheduleEntry],
    on_task_since: datetime | None,
    now: datetime,
    *,
    source_last_seen: Mapping[str, datetime],
    heartbeats: Mapping[str, float] = DEFAULT_HEARTBEAT_SECONDS,
) -> Presence:
    """An agent's state now.

    In order: a live call or after-call work; work handed out by this service; any other live
    telephony state; a silent source (``unknown``); and, with no telephony at all, the schedule
    (a break, ``unknown`` during a shift, else ``offline``).
    """
    line = max(lines, key=lambda x: x.state_at) if lines else None
    live = line is not None and not is_stale(line, source_last_seen, now, heartbeats)
    if line is not None and live and line.state in _BUSY:
        return Presence(line.state, line.since, line.source)
    if on_task_since is not None:
        return Presence("back_office", on_task_since, "blendbot")
    if line is not None and live:
        return Presence(line.state, line.since, line.source)
    if line is not None:
        return Presence("unknown", line.last_seen, line.source)
    current = [e for e in schedule if e.start <= now < e.end]
    for entry in current:
        if entry.kind == "break":
            return Presence("break", entry.start, "schedule")
    for entry in current:
        return Presence("unknown", entry.start, "schedule")
    return Presence("offline", None, "schedule")


@dataclass(frozen=True)
class LineUpdate:
    """The net effect of a batch of state events on one telephony id."""

    agent_id: str
    state: AgentState
    reason: str | None
    since: datetime
    state_at: datetime
    last_seen: datetime
    changed: bool
    """Whether the state changed within the batch (``since`` then is the last change)."""


def reduce_states(events: Iterable[AgentStateChanged]) -> list[LineUpdate]:
    """One update per telephony id: its latest state, the last change, the latest sighting."""
    by_agent: dict[str, list[AgentStateChanged]] = {}
    for event in events:
        by_agent.setdefault(event.agent_id, []).append(event)
    out = []
    for agent_id, mine in sorted(by_agent.items()):
        mine.sort(key=lambda e: e.at)
        last = mine[-1]
        since = mine[0].at
        changed = False
        for before, after in pairwise(mine):
            if after.state != before.state:
                since, changed = after.at, True
        out.append(LineUpdate(agent_id, last.state, last.reason, since, last.at, last.at, changed))
    return out


class PresenceOut(BaseModel):
    agent_id: str
    state: AgentState
    since: datetime | None
    source: str = Field(description="The telephony source, `schedule` or `blendbot`.")


class UnmatchedLine(BaseModel):
    """A telephony id that no agent has yet; its state applies once one does."""

    source: str
    external_id: str
    state: AgentState
    since: datetime
    events: int


class PresenceList(BaseModel):
    items: list[PresenceOut]
    unmatched: list[UnmatchedLine]

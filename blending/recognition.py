"""Recognition of good work, for the agents who take part (each may turn it off for
themselves, and then appears in no ranking and wears no badge): the top performers of a range,
the most improved against the equal range before it, streaks of working days on standard, and
the badges these earn. Ranked here, by pure code over each agent's days; the surfaces render."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from pydantic import BaseModel, Field

from blending.reports import Span, closed_days
from blending.sites import site_members
from queues.db import Executor, load_queries

_SQL = load_queries("blending", "recognition.sql")
TOP = 5
"""How many are ranked in each list."""
MIN_DONE = 3
"""Below this many steps done in a range, an agent is not ranked for it."""
STREAK_DAYS = 60
"""How far back from a range's last day a streak is counted."""
STREAK_BADGES = (20, 10, 5)
"""Working days on standard in a row that earn a badge (the longest reached is worn)."""
PODIUM = 3
"""The first places of a ranking that earn its badge."""


@dataclass(frozen=True)
class Day:
    """One agent's completed steps on one local day."""

    agent_id: str
    name: str
    team: str | None
    day: date
    done: int
    worked: float
    standard: float
    on_standard: int


class Performer(BaseModel):
    rank: int
    agent_id: str
    name: str
    team: str | None
    done: int = Field(description="Steps completed in the range.")
    on_standard: int = Field(description="Of those, done within the type's standard time.")
    pace: float | None = Field(description="Active time over the standard: below 1 is faster.")


class Improver(BaseModel):
    rank: int
    agent_id: str
    name: str
    team: str | None
    done: int
    pace: float = Field(description="This range's pace.")
    previous_pace: float = Field(description="The pace of the equal range before it.")
    improvement: float = Field(description="How much faster, as a share of the previous pace.")


class Standing(BaseModel):
    agent_id: str
    name: str
    team: str | None
    done: int
    on_standard: int
    pace: float | None
    streak_days: int = Field(
        description="Working days on standard in a row, to the range's last day (a day without "
        "completed work neither extends nor ends it)."
    )
    badges: list[str] = Field(description="Codes of `BADGES`.")


class RecognitionReport(BaseModel):
    first: date
    last: date
    previous_first: date
    previous_last: date
    top: list[Performer] = Field(
        description="Most steps on standard (at least one), then the quickest pace."
    )
    improved: list[Improver] = Field(description="The largest gain of pace on the range before.")
    agents: list[Standing] = Field(description="Every agent taking part who completed work.")


BADGES = {
    "top_performer": "Top performer",
    "most_improved": "Most improved",
    "streak_5": "5 days on standard",
    "streak_10": "10 days on standard",
    "streak_20": "20 days on standard",
}


@dataclass
class _Sum:
    name: str
    team: str | None
    done: int = 0
    worked: float = 0.0
    standard: float = 0.0
    on_standard: int = 0

    @property
    def pace(self) -> float | None:
        return self.worked / self.standard if self.standard > 0 else None


def _sums(days: Iterable[Day], first: date, last: date) -> dict[str, _Sum]:
    sums: dict[str, _Sum] = {}
    for d in days:
        if first <= d.day <= last:
            s = sums.setdefault(d.agent_id, _Sum(d.name, d.team))
            s.done += d.done
            s.worked += d.worked
            s.standard += d.standard
            s.on_standard += d.on_standard
    return sums


def streak(days: Sequence[Day], last: date) -> int:
    """Working days on standard in a row, counted back from ``last``: a day over the standard
    ends it, a day without completed work is skipped."""
    count = 0
    for d in sorted((d for d in days if d.day <= last), key=lambda d: d.day, reverse=True):
        if d.done == 0:
            continue
        if d.worked > d.standard:
            break
        count += 1
    return count


def rank(days: Sequence[Day], first: date, last: date) -> RecognitionReport:
    """The recognition of ``first`` to ``last`` from each agent's days, which reach back to the
    equal range before and ``STREAK_DAYS`` before ``last``."""
    length = (last - first).days + 1
    before_last = first - timedelta(days=1)
    before_first = first - timedelta(days=length)
    now = _sums(days, first, last)
    before = _sums(days, before_first, before_last)
    ranked = sorted(
        (a for a, s in now.items() if s.done >= MIN_DONE and s.on_standard and s.pace),
        key=lambda a: (-now[a].on_standard, now[a].pace, now[a].name, a),
    )[:TOP]
    top = [
        Performer(
            rank=n,
            agent_id=a,
            name=now[a].name,
            team=now[a].team,
            done=now[a].done,
            on_standard=now[a].on_standard,
            pace=now[a].pace,
        )
        for n, a in enumerate(ranked, start=1)
    ]
    gains: list[tuple[float, str, float, float]] = []
    for a, s in now.items():
        b = before.get(a)
        if b is None or s.done < MIN_DONE or b.done < MIN_DONE:
            continue
        pace, previous = s.pace, b.pace
        if pace is not None and previous and pace < previous:
            gains.append(((previous - pace) / previous, a, pace, previous))
    gains.sort(key=lambda g: (-g[0], now[g[1]].name, g[1]))
    improved = [
        Improver(
            rank=n,
            agent_id=a,
            name=now[a].name,
            team=now[a].team,
            done=now[a].done,
            pace=pace,
            previous_pace=previous,
            improvement=gain,
        )
        for n, (gain, a, pace, previous) in enumerate(gains[:TOP], start=1)
    ]
    by_agent: dict[str, list[Day]] = {}
    for d in days:
        by_agent.setdefault(d.agent_id, []).append(d)
    standings = []
    for a, s in sorted(now.items(), key=lambda i: (i[1].name, i[0])):
        days_of = [d for d in by_agent[a] if d.day > last - timedelta(days=STREAK_DAYS)]
        run = streak(days_of, last)
        badges = [
            code
            for code, places in (("top_performer", top), ("most_improved", improved))
            if any(p.agent_id == a and p.rank <= PODIUM for p in places)
        ]
        badges += [f"streak_{n}" for n in STREAK_BADGES if run >= n][:1]
        standings.append(
            Standing(
                agent_id=a,
                name=s.name,
                team=s.team,
                done=s.done,
                on_standard=s.on_standard,
                pace=s.pace,
                streak_days=run,
                badges=badges,
            )
        )
    return RecognitionReport(
        first=first,
        last=last,
        previous_first=before_first,
        previous_last=before_last,
        top=top,
        improved=improved,
        agents=standings,
    )


async def recognition(
    db: Executor, span: Span, now: datetime, site: str | None = None
) -> RecognitionReport:
    """Read the days of every agent taking part, from far enough before ``span`` for the
    equal range before it and the streaks (the days that are over from their roll-up), and
    rank them; ``site``: its agents alone (``default``: those in no site)."""
    back = timedelta(days=max((span.last - span.first).days + 1, STREAK_DAYS))
    first, last = await closed_days(db, span.zone, span.first - back, span.last, now)
    rows = await db.fetch(
        _SQL["recognition_days"], span.start - back, span.end, span.zone or "UTC", first, last
    )
    members = await site_members(db, site)
    days = [
        Day(
            r["agent_id"],
            r["name"],
            r["team"],
            r["day"],
            r["done"],
            r["worked"],
            r["standard"],
            r["on_standard"],
        )
        for r in rows
        if members is None or r["agent_id"] in members
    ]
    return rank(days, span.first, span.last)

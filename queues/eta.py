"""When will an open task likely be done? What an agent tells a customer who asks.

Pure: :func:`estimate` takes the task's facts (read by :mod:`queues.eta_store`), ``now``, and
a :class:`Lending`: the back-office agent-minutes the forecast's surplus gives, interval by
interval, to the agents who have a step's skills (worked out by ``blending``, which this
package does not import). Every answer carries its basis in words.

* In progress: the holder's expected time on the step, less the active time worked on it.
* Offered: the holder's expected time, from now.
* Queued: the tasks of the same type and step ranked above it are worked first, then this one,
  at the lending the forecast expects for the step's skills; with enough completions lately,
  the recent pace is a floor on what the team does, so the sooner of the two is given.
  Without a forecast, one agent with the skills is assumed.
* Paused: what is left of the holder's time, from when the holder is expected back (the next
  time their staffing group has agents to spare by the forecast).
* Escalated: a supervisor's answer is assumed within ``escalation_answer_minutes`` of the
  escalation, then the step's work at the front of the queue.

Later steps each wait for lending with their own skills, then take their expected time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

OUTLOOK_HOURS = 24
"""How far ahead the lending outlook looks (the forecasts reach about a day)."""
THROUGHPUT_HOURS = 7 * 24
MIN_COMPLETIONS = 5
"""Fewer completions lately than this say nothing about the pace."""
LONGEST = timedelta(days=14)
"""An estimate further out than this is no estimate."""
_OPEN = ("queued", "offered", "in_progress", "paused", "escalated")


@dataclass(frozen=True)
class EtaSettings:
    escalation_answer_minutes: float = 60.0
    """How soon the supervisors are assumed to answer an escalation."""


@dataclass(frozen=True)
class Eta:
    at: datetime | None
    basis: str


@dataclass(frozen=True)
class Slot:
    """Back-office agent-minutes expected between ``start`` and ``end``."""

    start: datetime
    end: datetime
    agent_minutes: float


@dataclass(frozen=True)
class Capacity:
    """The lending expected for one set of skills: slots in time order, not overlapping."""

    slots: tuple[Slot, ...] = ()
    forecast: bool = False
    """Whether a forecast lies ahead at all (without one, nothing is known of lending)."""
    skilled: int | None = None
    """Agents on the roster with the skills; None: not known."""
    start: datetime | None = None
    until: datetime | None = None
    """The time the outlook covers (the forecast's reach); unset: the slots' own."""

    @property
    def hours(self) -> float:
        start = self.start or (self.slots[0].start if self.slots else None)
        until = self.until or (self.slots[-1].end if self.slots else None)
        if start is None or until is None or until <= start:
            return 0.0
        return (until - start).total_seconds() / 3600

    @property
    def per_hour(self) -> float:
        """Agent-minutes an hour, on average over the outlook."""
        hours = self.hours
        return sum(s.agent_minutes for s in self.slots) / hours if hours > 0 else 0.0

    def reach(self, start: datetime, minutes: float) -> tuple[datetime | None, bool]:
        """When ``minutes`` of lending from ``start`` on are used up, and whether that lies
        past the outlook (then its average rate carries on); None: never, or past
        :data:`LONGEST`."""
        if minutes <= 0:
            first = next(
                (max(s.start, start) for s in self.slots if s.end > start and s.agent_minutes > 0),
                None,
            )
            if first is not None:
                return first, False
            if self.per_hour > 0:
                return max(start, self._end()), True
            return None, False
        left = minutes
        for s in self.slots:
            if s.end <= start or s.agent_minutes <= 0:
                continue
            begin = max(s.start, start)
            length = (s.end - s.start).total_seconds() / 60
            rate = s.agent_minutes / length
            here = rate * (s.end - begin).total_seconds() / 60
            if here >= left:
                return begin + timedelta(minutes=left / rate), False
            left -= here
        if self.per_hour <= 0:
            return None, False
        tail = max(start, self._end())
        at = tail + timedelta(hours=left / self.per_hour)
        return (at, True) if at - start <= LONGEST else (None, True)

    def _end(self) -> datetime:
        assert self.slots or self.until is not None
        return self.until or self.slots[-1].end

    def finish(
        self, start: datetime, ahead_minutes: float, own_minutes: float
    ) -> tuple[datetime | None, bool]:
        """When a piece of ``own_minutes`` is done, after ``ahead_minutes`` of other work
        before it, all from lending that begins at ``start``; one agent works the piece, so
        it takes its own minutes at least. The flag says the outlook's end was passed."""
        begun, past = self.reach(start, ahead_minutes)
        ended, past_end = self.reach(start, ahead_minutes + own_minutes)
        if begun is None or ended is None:
            return None, past or past_end
        at = max(ended, begun + timedelta(minutes=own_minutes))
        return (at, past or past_end) if at - start <= LONGEST else (None, True)


class Lending(Protocol):
    """What the forecast expects of the agents' time (``blending`` implements it)."""

    def capacity(self, skills: frozenset[str]) -> Capacity: ...

    def resume_at(self, agent_id: str) -> datetime | None:
        """When the agent is next expected free for back-office work; None: not within the
        outlook, or not known."""
        ...


class Outlook(Protocol):
    async def lending(self, now: datetime) -> Lending: ...


@dataclass(frozen=True)
class NoLending:
    """Nothing known of the center: no forecast."""

    def capacity(self, skills: frozenset[str]) -> Capacity:
        return Capacity()

    def resume_at(self, agent_id: str) -> datetime | None:
        return None


class NoOutlook:
    async def lending(self, now: datetime) -> Lending:
        return NoLending()


@dataclass(frozen=True)
class Step:
    number: int
    name: str | None
    skills: frozenset[str]
    minutes: float
    """The team's expected minutes on it."""

    @property
    def label(self) -> str:
        return f"step {self.number} ({self.name})" if self.name else "this work"


@dataclass(frozen=True)
class EventFact:
    at: datetime
    event: str
    from_status: str | None
    to_status: str | None


@dataclass(frozen=True)
class EtaFacts:
    """What the estimate needs of one task."""

    status: str
    holder: str | None
    step: int
    steps: Sequence[Step]
    holder_minutes: float | None = None
    """The holder's expected minutes on the current step."""
    events: Sequence[EventFact] = ()
    ahead: int = 0
    """Queued tasks of the same type and step ranked above it."""
    completions: int = 0
    """Completions of the current step in the last :data:`THROUGHPUT_HOURS`."""
    settings: EtaSettings = field(default_factory=EtaSettings)

    @property
    def current(self) -> Step:
        return self.steps[self.step - 1] if self.step <= len(self.steps) else self.steps[-1]

    @property
    def later(self) -> list[Step]:
        return [s for s in self.steps if s.number > self.step]


def active_minutes(events: Sequence[EventFact], now: datetime) -> float:
    """Minutes worked on the current step: from each move into ``in_progress`` to the next move
    out of it, counted afresh after a step is completed."""
    total = 0.0
    since: datetime | None = None
    for e in events:
        if e.event == "step_completed":
            total, since = 0.0, None
            continue
        if e.to_status == "in_progress" and since is None:
            since = e.at
        elif e.to_status != "in_progress" and since is not None:
            total += (e.at - since).total_seconds() / 60
            since = None
    if since is not None:
        total += max(0.0, (now - since).total_seconds() / 60)
    return total


def _clock(at: datetime, now: datetime) -> str:
    minutes = round((at - now).total_seconds() / 60)
    if minutes < 60:
        return f"in {max(minutes, 0)} min"
    hours, rest = divmod(minutes, 60)
    return f"in {hours}h{rest:02d}" if hours < 48 else f"in {round(hours / 24)} days"


def _skills(skills: frozenset[str]) -> str:
    return ", ".join(sorted(skills)) or "no particular"


def _lending_words(cap: Capacity, step: Step, past: bool) -> str:
    words = (
        f"the forecast leaves about {cap.per_hour:.0f} agent-minutes an hour of spare time "
        f"to agents with {_skills(step.skills)} skills over the next {cap.hours:.0f} h"
    )
    return words + (", and the same pace after that" if past else "")


def _then(start: datetime, steps: Sequence[Step], lending: Lending) -> tuple[datetime | None, str]:
    """The later steps, each waiting for lending with its skills from the previous one's end."""
    at: datetime | None = start
    for step in steps:
        assert at is not None
        cap = lending.capacity(step.skills)
        if cap.skilled == 0:
            return None, f"nobody on the roster has the skills for {step.label}"
        if not cap.forecast:
            at = at + timedelta(minutes=step.minutes)
            continue
        at, _ = cap.finish(at, 0, step.minutes)
        if at is None:
            return None, f"no spare time is expected for {step.label} ({_skills(step.skills)})"
    if not steps:
        return at, ""
    total = sum(s.minutes for s in steps)
    names = ", ".join(str(s.number) for s in steps)
    plural = "s" if len(steps) > 1 else ""
    return at, f"; then step{plural} {names} ({total:.0f} min of work, when agents are free)"


def _queued(
    facts: EtaFacts, lending: Lending, start: datetime, ahead: int
) -> tuple[datetime | None, str]:
    """When the current step is done if it waits its turn, ``ahead`` tasks from the front,
    from ``start``."""
    step = facts.current
    cap = lending.capacity(step.skills)
    if cap.skilled == 0:
        return None, f"nobody on the roster has the skills for {step.label}"
    if ahead:
        queue = f"{ahead} ahead in the queue, {step.minutes:.0f} min each"
    else:
        queue = f"first in the queue, {step.minutes:.0f} min of work"
    options: list[tuple[datetime, str]] = []
    if cap.forecast:
        at, past = cap.finish(start, ahead * step.minutes, step.minutes)
        if at is not None:
            options.append((at, f"{queue}; {_lending_words(cap, step, past)}"))
    if facts.completions >= MIN_COMPLETIONS:
        per_hour = facts.completions / THROUGHPUT_HOURS
        wait = max(timedelta(hours=(ahead + 1) / per_hour), timedelta(minutes=step.minutes))
        options.append((start + wait, f"{ahead} ahead in the queue, {per_hour:.1f} done per hour"))
    if options:
        return min(options, key=lambda o: o[0])
    if cap.forecast:
        return None, (
            f"{queue}; no spare time is expected for agents with {_skills(step.skills)} "
            f"skills within {LONGEST.days} days by the forecast"
        )
    at = start + timedelta(minutes=(ahead + 1) * step.minutes)
    return at, f"{queue}; no forecast of spare agent time yet, so one agent on it is assumed"


def estimate(facts: EtaFacts, now: datetime, lending: Lending) -> Eta:
    """The ETA of one task at ``now``, with its basis."""
    status = facts.status
    if status not in _OPEN:
        return Eta(None, status)
    step = facts.current
    worked = active_minutes(facts.events, now)
    mine = facts.holder_minutes if facts.holder_minutes is not None else step.minutes
    holder = facts.holder or "its holder"
    at: datetime | None
    if status == "in_progress":
        at = now + timedelta(minutes=max(0.0, mine - worked))
        basis = f"{holder}'s usual time on this step"
        if worked > 0.5:
            basis += f" ({mine:.0f} min), {worked:.0f} min worked so far"
        if worked > mine:
            basis += ": running over, any time now"
    elif status == "offered":
        at = now + timedelta(minutes=mine)
        basis = f"offered to {holder}: their usual time on this step ({mine:.0f} min), from now"
    elif status == "paused":
        left = max(0.0, mine - worked)
        back = lending.resume_at(facts.holder) if facts.holder else None
        work = f"{left:.0f} of {mine:.0f} min left"
        if back is not None:
            at = max(back, now) + timedelta(minutes=left)
            when = "now" if back <= now else _clock(back, now)
            basis = (
                f"paused by {holder}: {work}, resumed when the calls leave {holder} free "
                f"({when}, by the forecast)"
            )
        elif lending.capacity(step.skills).forecast:
            at, why = _queued(facts, lending, now, 0)
            basis = (
                f"paused by {holder}, who is not expected free in the next {OUTLOOK_HOURS} h: "
                f"assumes another agent takes it over; {why}"
            )
        else:
            at = now + timedelta(minutes=left)
            basis = (
                f"paused by {holder}: {work}, counted from now (no forecast of when the "
                "calls leave them free)"
            )
    elif status == "escalated":
        escalated = next((e.at for e in reversed(facts.events) if e.event == "escalated"), now)
        answer = escalated + timedelta(minutes=facts.settings.escalation_answer_minutes)
        wait = f"within {facts.settings.escalation_answer_minutes:.0f} min of the escalation"
        if answer <= now:
            decided = now
            said = f"with the supervisors since {_ago(escalated, now)}: their answer is overdue"
        else:
            decided = answer
            said = f"with the supervisors: their answer is assumed {wait} ({_clock(answer, now)})"
        at, why = _queued(facts, lending, decided, 0)
        basis = f"{said}; then {why}"
    else:
        at, basis = _queued(facts, lending, now, facts.ahead)
    if at is None:
        return Eta(None, basis)
    at, then = _then(at, facts.later, lending)
    if at is None:
        return Eta(None, f"{basis}; {then}")
    return Eta(at, basis + then)


def _ago(at: datetime, now: datetime) -> str:
    minutes = round((now - at).total_seconds() / 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60}h{minutes % 60:02d}"

"""The roster sync: who is who in the telephony platforms and Slack, matched by email.

Every configured platform's users are read in full first (a platform that fails is reported
and nothing of it is used), Slack is asked for each active agent's email, and the pure
:func:`queues.roster_match.match` says what may be filled. Then, unless it is a dry run, one
transaction fills the empty ids (each with its event in the agent's history, each fill
conditional: an id that is no longer empty, or that another agent took meanwhile, becomes a
conflict) and records the run in ``roster_syncs`` with its report. Existing ids are never
overwritten; deactivated agents are left alone. ``blendbot sync roster`` runs it, and the
elected instance once a day per site, at the site's own hour (:class:`DailyRosterSync`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, time, tzinfo

from pydantic import BaseModel, Field

from blending.sites import SiteStore
from bot.slack.directory import SlackDirectory
from queues.db import Executor, transaction
from queues.roster import Roster
from queues.roster_match import (
    SLACK,
    Conflict,
    Fill,
    Identity,
    Person,
    SourceMatch,
    match,
    normal_email,
)
from telephony_adapters.directory import Directory, DirectoryError

log = logging.getLogger(__name__)

SYNC_LOCK = 0x726F737465725F73  # an arbitrary constant: "roster_s" in ASCII
"""Two syncs never write at once."""


class PersonOut(BaseModel):
    external_id: str
    email: str | None
    name: str


class FillOut(BaseModel):
    agent_id: str
    external_id: str
    email: str


class ConflictOut(BaseModel):
    kind: str = Field(
        description="`different_id`: the agent has another id; `two_agents`: the email is two "
        "agents'; `shared_email`: two users of the platform share it; `held_by_other`: "
        "another agent holds the id; `changed`: the agent or the id changed during the run."
    )
    email: str | None
    external_id: str
    agents: list[str]
    detail: str


class SourceReport(BaseModel):
    source: str
    error: str | None = Field(default=None, description="Why nothing of this source was used.")
    people: int = 0
    matched: int = 0
    filled: list[FillOut] = Field(default_factory=list)
    conflicts: list[ConflictOut] = Field(default_factory=list)
    unmatched_people: list[PersonOut] = Field(default_factory=list)
    unmatched_agents: list[str] = Field(default_factory=list)


class RosterReport(BaseModel):
    at: datetime
    actor: str
    dry_run: bool
    sync_id: int | None = Field(default=None, description="The run's row in roster_syncs.")
    matched: int = 0
    filled: int = Field(default=0, description="Ids filled (in a dry run: that would be).")
    conflicts: int = 0
    unmatched: int = Field(default=0, description="People and agents left unmatched.")
    failed: list[str] = Field(default_factory=list, description="Sources not read.")
    sources: list[SourceReport] = Field(default_factory=list)

    def count(self) -> None:
        self.matched = sum(s.matched for s in self.sources)
        self.filled = sum(len(s.filled) for s in self.sources)
        self.conflicts = sum(len(s.conflicts) for s in self.sources)
        self.unmatched = sum(
            len(s.unmatched_people) + len(s.unmatched_agents) for s in self.sources
        )
        self.failed = [s.source for s in self.sources if s.error is not None]


def _conflict(c: Conflict) -> ConflictOut:
    return ConflictOut(
        kind=c.kind,
        email=c.email,
        external_id=c.external_id,
        agents=list(c.agents),
        detail=c.detail,
    )


def _report(found: SourceMatch) -> SourceReport:
    return SourceReport(
        source=found.source,
        people=found.people,
        matched=len(found.matched),
        filled=[
            FillOut(agent_id=f.agent_id, external_id=f.external_id, email=f.email)
            for f in found.fills
        ],
        conflicts=[_conflict(c) for c in found.conflicts],
        unmatched_people=[
            PersonOut(external_id=p.external_id, email=p.email, name=p.name)
            for p in found.unmatched_people
        ],
        unmatched_agents=found.unmatched_agents,
    )


class RosterSync:
    def __init__(
        self,
        pool: Executor,
        directories: Sequence[Directory],
        slack: SlackDirectory | None = None,
    ) -> None:
        self._pool = pool
        self.directories = list(directories)
        self.slack = slack

    def __bool__(self) -> bool:
        return bool(self.directories) or self.slack is not None

    @property
    def sources(self) -> list[str]:
        return [d.source for d in self.directories] + ([SLACK] if self.slack else [])

    async def run(
        self,
        actor: str,
        now: datetime,
        *,
        dry_run: bool = False,
        only: Collection[str] | None = None,
    ) -> RosterReport:
        """Read, match and (unless ``dry_run``) fill; the report says what came of each
        source. ``only``: the agents of one site, the others matched but neither filled nor
        reported."""
        roster = Roster(self._pool)
        agents = await roster.identities()
        held = await roster.holders(self.sources)
        matches: list[SourceMatch | SourceReport] = []
        for directory in self.directories:
            matches.append(
                await self._read(directory.source, directory.users(), agents, held, only)
            )
        if self.slack is not None:
            asked = [a for a in agents if only is None or a.agent_id in only]
            emails = [e for e in (normal_email(a.email) for a in asked) if e is not None]
            matches.append(await self._read(SLACK, self.slack.find(emails), agents, held, only))
        report = RosterReport(at=now, actor=actor, dry_run=dry_run)
        if dry_run:
            report.sources = [m if isinstance(m, SourceReport) else _report(m) for m in matches]
            report.count()
            return report
        async with transaction(self._pool) as conn:
            await conn.execute("SELECT pg_advisory_xact_lock($1)", SYNC_LOCK)
            for found in matches:
                if isinstance(found, SourceMatch):
                    await self._apply(Roster(conn), found, actor)
            report.sources = [m if isinstance(m, SourceReport) else _report(m) for m in matches]
            report.count()
            report.sync_id = await Roster(conn).record_sync(
                now,
                actor,
                (report.matched, report.filled, report.conflicts, report.unmatched),
                report.failed,
                json.loads(report.model_dump_json(exclude={"sync_id"})),
            )
        return report

    @staticmethod
    async def _read(
        source: str,
        reading: Awaitable[list[Person]],
        agents: list[Identity],
        held: dict[tuple[str, str], str],
        only: Collection[str] | None = None,
    ) -> SourceMatch | SourceReport:
        try:
            people = await reading
        except DirectoryError as exc:
            log.warning("roster sync: %s", exc)
            return SourceReport(source=source, error=exc.reason)
        found = match(source, people, agents, held)
        return found if only is None else _of(found, only)

    @staticmethod
    async def _apply(roster: Roster, found: SourceMatch, actor: str) -> None:
        """Fill what may be filled; a fill refused by the database (the id or the agent
        changed since they were read) becomes a conflict."""
        kept: list[Fill] = []
        for fill in found.fills:
            if await roster.fill(fill.agent_id, fill.source, fill.external_id, actor, fill.email):
                kept.append(fill)
                continue
            found.conflicts.append(
                Conflict(
                    "changed",
                    fill.source,
                    fill.email,
                    fill.external_id,
                    (fill.agent_id,),
                    f"agent {fill.agent_id} or {fill.source} id {fill.external_id} changed "
                    "during the sync: not filled",
                )
            )
        found.fills = kept

    async def close(self) -> None:
        for directory in self.directories:
            await directory.close()


def _of(found: SourceMatch, only: Collection[str]) -> SourceMatch:
    """What a source's match comes to for the agents ``only``: their fills, matches and
    conflicts, and the people who match nobody at all."""
    found.matched = [m for m in found.matched if m[0] in only]
    found.fills = [f for f in found.fills if f.agent_id in only]
    found.conflicts = [
        c for c in found.conflicts if not c.agents or any(a in only for a in c.agents)
    ]
    found.unmatched_agents = [a for a in found.unmatched_agents if a in only]
    return found


def due_since(now: datetime, hour: int, zone: tzinfo) -> datetime | None:
    """The start of today's run window on ``zone``'s clock, or ``None`` before ``hour``."""
    local = now.astimezone(zone)
    start = datetime.combine(local.date(), time(hour), tzinfo=zone)
    return start if local >= start else None


@dataclass(frozen=True)
class DailyRosterSync:
    """The elected instance's daily sync, per site: a site's agents are synced at the first
    round at or after ``hour`` on its clock, on a day with no run of that site by the tick yet,
    as ``roster_syncs`` says (so a new leader does not run it again). The agents in no site
    go on ``zone``, the default site's, recorded as ``actor``; a site's as ``actor:site``.
    With no site configured, that is everyone, once a day, as before sites."""

    sync: RosterSync
    hour: int
    zone: tzinfo
    actor: str = "tick"

    async def step(self, pool: Executor, now: datetime) -> list[RosterReport]:
        """Run each site whose hour has come and that has not run today; their reports."""
        sites = await SiteStore(pool).listed()
        runs: list[tuple[str, tzinfo, str | None]] = [(self.actor, self.zone, None)]
        runs += [(f"{self.actor}:{s.site_id}", s.zone, s.site_id) for s in sites]
        done = []
        for actor, zone, site in runs:
            since = due_since(now, self.hour, zone)
            if since is None:
                continue
            last = await Roster(pool).last_sync(actor)
            if last is not None and last >= since:
                continue
            only = await SiteStore(pool).agents_of(site) if sites else None
            done.append(await self._run(actor, now, only))
        return done

    async def _run(self, actor: str, now: datetime, only: Collection[str] | None) -> RosterReport:
        report = await self.sync.run(actor, now, only=only)
        log.info(
            "roster sync (%s): %d matched, %d filled, %d conflicts, %d unmatched%s",
            actor,
            report.matched,
            report.filled,
            report.conflicts,
            report.unmatched,
            f"; not read: {', '.join(report.failed)}" if report.failed else "",
        )
        return report

"""Who is who: people of one directory (a telephony platform's users, Slack's) matched to
blendbot's agents by email, and the ids that may be filled. Pure: no I/O.

An email matches when equal without case and surrounding spaces. An id is filled only where
the agent has none for the source; everything else that does not add up is a
:class:`Conflict`, reported and never applied: the agent already has a different id, the
person's email matches two agents, two people of the directory share one email, or the id is
held by another agent. People with no agent, and agents no person matched, are listed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

SLACK = "slack"
"""The source name of Slack user ids (an agent's ``slack_user_id``)."""

ConflictKind = Literal["different_id", "two_agents", "shared_email", "held_by_other", "changed"]
"""``changed``: the agent or the id changed between the reading and the filling."""


def normal_email(email: str | None) -> str | None:
    """The email as matched: trimmed and lower-cased; ``None`` when there is none."""
    if email is None:
        return None
    found = email.strip().lower()
    return found if "@" in found else None


@dataclass(frozen=True)
class Person:
    """A user of a directory."""

    external_id: str
    """The id blendbot stores for them (an Amazon Connect user's ARN, a Genesys user id, a
    Twilio WorkerSid, a Slack user id)."""
    email: str | None
    name: str = ""
    aliases: frozenset[str] = frozenset()
    """Other spellings of the same id (an Amazon Connect user's bare id beside the ARN)."""

    def is_(self, value: str) -> bool:
        return value == self.external_id or value in self.aliases


@dataclass(frozen=True)
class Identity:
    """An active agent as the sync sees them."""

    agent_id: str
    email: str | None
    ids: Mapping[str, str]
    """Their ids by source; the Slack user id under :data:`SLACK`."""


@dataclass(frozen=True)
class Fill:
    agent_id: str
    source: str
    external_id: str
    email: str


@dataclass(frozen=True)
class Conflict:
    kind: ConflictKind
    source: str
    email: str | None
    external_id: str
    agents: tuple[str, ...]
    detail: str


@dataclass
class SourceMatch:
    """What one directory's people come to."""

    source: str
    people: int = 0
    matched: list[tuple[str, str]] = field(default_factory=list)
    """(agent id, external id) of the agents a person matched, filled or not."""
    fills: list[Fill] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    unmatched_people: list[Person] = field(default_factory=list)
    unmatched_agents: list[str] = field(default_factory=list)


def match(
    source: str,
    people: Iterable[Person],
    agents: Iterable[Identity],
    held: Mapping[tuple[str, str], str],
) -> SourceMatch:
    """Match the directory ``source``'s people to the active ``agents``; ``held``: who holds
    each id already, by (source, id), deactivated agents included."""
    out = SourceMatch(source)
    roster = list(agents)
    by_email: dict[str, list[Identity]] = defaultdict(list)
    for agent in roster:
        email = normal_email(agent.email)
        if email is not None:
            by_email[email].append(agent)
    by_person_email: dict[str, list[Person]] = defaultdict(list)
    for person in people:
        out.people += 1
        email = normal_email(person.email)
        if email is None or email not in by_email:
            out.unmatched_people.append(person)
        else:
            by_person_email[email].append(person)
    seen: set[str] = set()
    for email, found in sorted(by_person_email.items()):
        owners = by_email[email]
        names = tuple(a.agent_id for a in owners)
        seen.update(names)
        if len(found) > 1:
            ids = ", ".join(p.external_id for p in found)
            for person in found:
                out.conflicts.append(
                    Conflict(
                        "shared_email",
                        source,
                        email,
                        person.external_id,
                        names,
                        f"{len(found)} {source} users share {email} ({ids})",
                    )
                )
            continue
        person = found[0]
        if len(owners) > 1:
            out.conflicts.append(
                Conflict(
                    "two_agents",
                    source,
                    email,
                    person.external_id,
                    names,
                    f"{email} is the email of {len(owners)} agents: {', '.join(names)}",
                )
            )
            continue
        agent = owners[0]
        out.matched.append((agent.agent_id, person.external_id))
        conflict = _conflict(source, email, person, agent, held)
        if conflict is not None:
            out.conflicts.append(conflict)
        elif source not in agent.ids:
            out.fills.append(Fill(agent.agent_id, source, person.external_id, email))
    out.unmatched_agents = [a.agent_id for a in roster if a.agent_id not in seen]
    return out


def _conflict(
    source: str,
    email: str,
    person: Person,
    agent: Identity,
    held: Mapping[tuple[str, str], str],
) -> Conflict | None:
    current = agent.ids.get(source)
    if current is not None:
        if person.is_(current):
            return None
        return Conflict(
            "different_id",
            source,
            email,
            person.external_id,
            (agent.agent_id,),
            f"agent {agent.agent_id} has {source} id {current}, the directory says "
            f"{person.external_id}",
        )
    for value in (person.external_id, *sorted(person.aliases)):
        other = held.get((source, value))
        if other is not None and other != agent.agent_id:
            return Conflict(
                "held_by_other",
                source,
                email,
                person.external_id,
                (agent.agent_id, other),
                f"{source} id {value} of {email} is held by agent {other}",
            )
    return None

"""Sites: each has a time zone and the queues and agents that work to its clock.

An agent or a queue with no site belongs to the default site, whose zone is the service's
``BLENDBOT_TIMEZONE``: a center that configures no site runs as one site in that zone. Days,
shifts, forecasts and plans are read on the clock that :meth:`SiteStore.clocks` gives.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Annotated, Any, Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, Field

from queues.db import Executor, load_queries, transaction
from queues.errors import NotFound
from queues.models import ShortText, Strict, Text

_SQL = load_queries("blending", "sites.sql")

Zone = TypeVar("Zone", bound=tzinfo)
DEFAULT_SITE = "default"
"""The name the implicit site goes by: agents and queues without a site."""


def zone_named(value: str) -> str:
    """``value`` if it is an IANA time zone name, else ``ValueError`` saying so."""
    if "/" not in value and value != "UTC":
        # ZoneInfo also opens legacy aliases such as "EST"; a site names a place.
        raise ValueError("must be an IANA time zone name, e.g. Europe/London")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("must be an IANA time zone name, e.g. Europe/London") from None
    return value


TimeZoneName = Annotated[
    str, Field(min_length=1, max_length=64, examples=["Europe/London"]), AfterValidator(zone_named)
]
SiteId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$", examples=["london"])]
"""Lower case, digits, ``_ . -``; at most 64 characters."""


class SiteIn(Strict):
    name: ShortText = Field(description="What people call the site.")
    time_zone: TimeZoneName = Field(description="The site's clock: an IANA time zone name.")
    author: ShortText | None = Field(default=None, description="Who made the change.")
    reason: Text | None = None


class SiteOut(BaseModel):
    site_id: str
    name: str
    time_zone: str
    agents: list[str] = Field(description="The agents that work to the site's clock.")
    queues: list[str] = Field(description="The queues whose forecasts follow the site's clock.")
    created_at: datetime
    updated_at: datetime


class Membership(Strict):
    """Which site an agent or a queue belongs to; ``null``: the default site."""

    site_id: SiteId | None = Field(description="The site; `null` puts it in the default site.")
    author: ShortText | None = Field(default=None, description="Who made the change.")
    reason: Text | None = None


class SiteChange(BaseModel):
    at: datetime
    site_id: str | None
    action: Literal["created", "replaced", "agent", "queue"]
    subject: str | None
    author: str
    reason: str | None
    change: dict[str, Any]


class UnknownSite(NotFound):
    def __init__(self, site_id: str) -> None:
        super().__init__("site", site_id)


@dataclass(frozen=True)
class SiteClocks:
    """Each queue's and agent's zone, and the default one for whatever has no site."""

    default: ZoneInfo
    queues: dict[str, ZoneInfo] = field(default_factory=dict)
    agents: dict[str, ZoneInfo] = field(default_factory=dict)

    def of_queue(self, queue: str) -> ZoneInfo:
        return self.queues.get(queue, self.default)

    def of_agent(self, agent_id: str) -> ZoneInfo:
        return self.agents.get(agent_id, self.default)


@dataclass(frozen=True)
class Site:
    site_id: str
    name: str
    zone: ZoneInfo


@dataclass(frozen=True)
class Scope:
    """What a view asked for one site covers: its clock, its agents and its queues. With no
    site asked for (``site_id`` None), everyone and every queue, on the default clock."""

    zone: ZoneInfo
    site_id: str | None = None
    agents: frozenset[str] = frozenset()
    queue_sites: dict[str, str] = field(default_factory=dict)
    """Every queue in a site, and its site (a queue not named is the default site's)."""

    def has_agent(self, agent_id: str) -> bool:
        return self.site_id is None or agent_id in self.agents

    def has_queue(self, queue: str) -> bool:
        if self.site_id is None:
            return True
        return self.queue_sites.get(queue, DEFAULT_SITE) == self.site_id


class SiteStore:
    def __init__(self, db: Executor, default_zone: str = "UTC") -> None:
        self._db = db
        self.default_zone = ZoneInfo(default_zone)

    async def put(self, site_id: str, body: SiteIn) -> tuple[SiteOut, bool]:
        """Create or replace a site, with its audit row in the same transaction."""
        author = body.author or "api"
        async with transaction(self._db) as conn:
            row = await conn.fetchrow(_SQL["upsert_site"], site_id, body.name, body.time_zone)
            assert row is not None
            created = bool(row["inserted"])
            site = await _site_out(conn, row)
            change = {"name": site.name, "time_zone": site.time_zone}
            await conn.execute(
                _SQL["record_change"],
                site_id,
                "created" if created else "replaced",
                None,
                author,
                body.reason,
                change,
            )
        return site, created

    async def get(self, site_id: str) -> SiteOut:
        row = await self._db.fetchrow(_SQL["get_site"], site_id)
        if row is None:
            raise UnknownSite(site_id)
        return await _site_out(self._db, row)

    async def all(self) -> list[SiteOut]:
        return [await _site_out(self._db, r) for r in await self._db.fetch(_SQL["list_sites"])]

    async def zone(self, site_id: str | None) -> ZoneInfo:
        """The site's clock; None (or the default site's name): the default zone."""
        if site_id is None or site_id == DEFAULT_SITE:
            return self.default_zone
        return ZoneInfo((await self.get(site_id)).time_zone)

    async def scope(self, site_id: str | None) -> Scope:
        """The site's clock, agents and queues (None: everyone's, on the default clock);
        :class:`UnknownSite` for a site that does not exist."""
        if site_id is None:
            return Scope(self.default_zone)
        zone = await self.zone(site_id)
        agents = frozenset(await self.agents_of(site_id))
        rows = await self._db.fetch(_SQL["queue_sites"])
        return Scope(zone, site_id, agents, {r["queue"]: r["site_id"] for r in rows})

    async def listed(self) -> list[Site]:
        """Every configured site with its clock, without its members (the default site is not
        among them): one read, for a picker or a round of the tick."""
        rows = await self._db.fetch(_SQL["list_sites"])
        return [Site(r["site_id"], r["name"], ZoneInfo(r["time_zone"])) for r in rows]

    async def agents_of(self, site_id: str | None) -> set[str]:
        """The agents of a site (None or the default site's name: the agents in no site)."""
        key = None if site_id in (None, DEFAULT_SITE) else site_id
        if key is not None:
            await self._known(self._db, key)
        return {r["agent_id"] for r in await self._db.fetch(_SQL["agents_of_site"], key)}

    async def assign_agent(self, agent_id: str, body: Membership) -> None:
        """Put an agent in a site (or back in the default one); audited."""
        async with transaction(self._db) as conn:
            await self._known(conn, body.site_id)
            if await conn.fetchval(_SQL["set_agent_site"], agent_id, body.site_id) is None:
                raise NotFound("agent", agent_id)
            await self._record(conn, "agent", agent_id, body)

    async def assign_queue(self, queue: str, body: Membership) -> None:
        """Put a queue in a site (or back in the default one); audited."""
        async with transaction(self._db) as conn:
            await self._known(conn, body.site_id)
            if body.site_id is None:
                await conn.execute(_SQL["clear_queue_site"], queue)
            else:
                await conn.execute(_SQL["set_queue_site"], queue, body.site_id)
            await self._record(conn, "queue", queue, body)

    async def changes(self, site_id: str | None, limit: int) -> list[SiteChange]:
        rows = await self._db.fetch(_SQL["changes"], site_id, limit)
        return [SiteChange.model_validate({**r, "change": _json(r["change"])}) for r in rows]

    async def clocks(self) -> SiteClocks:
        """Every queue's zone (agents are looked up with :meth:`agent_zones`)."""
        rows = await self._db.fetch(_SQL["queue_zones"])
        return SiteClocks(self.default_zone, {r["queue"]: ZoneInfo(r["time_zone"]) for r in rows})

    async def agent_zone(self, agent_id: str) -> ZoneInfo:
        return await agent_clock(self._db, agent_id, self.default_zone)

    async def _known(self, conn: Executor, site_id: str | None) -> None:
        if site_id is not None and not await conn.fetchval(_SQL["site_exists"], site_id):
            raise UnknownSite(site_id)

    async def _record(self, conn: Executor, action: str, subject: str, body: Membership) -> None:
        await conn.execute(
            _SQL["record_change"],
            body.site_id,
            action,
            subject,
            body.author or "api",
            body.reason,
            {"site_id": body.site_id},
        )


def for_site(query: str) -> str:
    """The form of a query for one site: its ``-- site:`` lines put in. Without them, the query
    is everyone's and reads no site parameter. Two statements rather than one with a
    ``$n IS NULL OR ...`` test: once PostgreSQL plans a prepared statement generically (from
    its sixth run on a connection) it can no longer drop that test, and on the reports' work
    done the generic plan took 79 s where the query takes 0.1 s."""
    return query.replace("-- site: ", "")


def read_for(query: str, site: str | None, *args: Any) -> tuple[Any, ...]:
    """A read of ``query`` with ``args``: everyone's without a site, else its site form with
    the site as the last parameter."""
    return (query, *args) if site is None else (for_site(query), *args, site)


async def site_members(db: Executor, site: str | None) -> set[str] | None:
    """The agents of ``site`` (``default``: those in no site); None without a site. A report
    over agents' days filters its rows with them: the same filter in its SQL made the planner
    read every agent's days the slow way (1-2 s against 0.2 s on the bench center)."""
    return None if site is None else await SiteStore(db).agents_of(site)


async def agent_clock(db: Executor, agent_id: str, default: Zone) -> ZoneInfo | Zone:
    """The clock an agent is told times on: their site's, else ``default`` (the default
    site's)."""
    found = await db.fetchval(_SQL["agent_zone"], agent_id)
    return ZoneInfo(found) if found else default


async def _site_out(db: Executor, row: Any) -> SiteOut:
    members = await db.fetchrow(_SQL["site_members"], row["site_id"])
    assert members is not None
    return SiteOut(
        site_id=row["site_id"],
        name=row["name"],
        time_zone=row["time_zone"],
        agents=list(members["agents"]),
        queues=list(members["queues"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _json(value: Any) -> dict[str, Any]:
    loaded = json.loads(value) if isinstance(value, str) else value
    return dict(loaded)

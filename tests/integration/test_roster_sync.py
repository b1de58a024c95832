"""The roster sync against the stand-ins of Amazon Connect, Genesys Cloud, Twilio TaskRouter and
Slack, on real PostgreSQL: ids filled by email, conflicts and unmatched people reported and
not applied, dry runs, paging, a platform failing mid-run, and the daily run of the tick."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestServer
from botocore.credentials import Credentials
from rich.console import Console

from blending.sites import Membership, SiteIn, SiteStore
from bot.cli.roster import sync_roster
from bot.roster import deactivate
from bot.roster_sync import DailyRosterSync, RosterSync
from bot.settings import Settings
from bot.slack.directory import SlackDirectory, lookup_client
from clock import FixedClock
from queues.importer import import_roster
from queues.models import AgentIn
from queues.roster import Roster
from standins.amazon_connect import ConnectStandIn
from standins.genesys import USER_VIEW, GenesysStandIn
from standins.slack import StandIn
from standins.twilio import TwilioStandIn, sid
from telephony_adapters.connect_directory import ConnectDirectory
from telephony_adapters.genesys_directory import GenesysDirectory
from telephony_adapters.ratelimit import TokenBucket
from telephony_adapters.twilio_directory import TwilioDirectory

KEY, SECRET = "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
CLIENT_ID, CLIENT_SECRET = "blendbot-client", "genesys-secret"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def no_sleep(_: float) -> None:
    return None


@dataclass
class Platforms:
    connect: ConnectStandIn
    genesys: GenesysStandIn
    twilio: TwilioStandIn
    slack: StandIn
    urls: dict[str, str]
    workers: dict[str, str]
    """Email → WorkerSid."""

    def sync(self, pool: asyncpg.Pool, page_size: int = 2) -> RosterSync:
        return RosterSync(
            pool,
            [
                ConnectDirectory(
                    region=self.connect.region,
                    instance_id=self.connect.instance_id,
                    api_url=self.urls["connect"],
                    credentials=Credentials(KEY, SECRET),
                    bucket=TokenBucket(1000.0, 1000),
                    page_size=page_size,
                    sleep=no_sleep,
                ),
                GenesysDirectory(
                    api_url=self.urls["genesys"],
                    login_url=self.urls["genesys"],
                    client_id=CLIENT_ID,
                    client_secret=CLIENT_SECRET,
                    page_size=page_size,
                    sleep=no_sleep,
                ),
                TwilioDirectory(
                    account_sid=self.twilio.account_sid,
                    auth_token=self.twilio.auth_token,
                    workspace_sid=self.twilio.workspace_sid,
                    api_url=self.urls["twilio"],
                    page_size=page_size,
                    sleep=no_sleep,
                ),
            ],
            SlackDirectory(lookup_client(self.slack.token, self.urls["slack"])),
        )


PEOPLE = {
    "ana": "Ana.Silva@example.com",
    "ben": "ben.ito@example.com",
    "cy": "cy.park@example.com",
    "dee": "dee.wu@example.com",
}


@pytest.fixture
async def platforms() -> AsyncIterator[Platforms]:
    connect = ConnectStandIn(keys={KEY: SECRET}, rate=1000, burst=1000)
    genesys = GenesysStandIn(clients={CLIENT_ID: CLIENT_SECRET})
    genesys.permissions[CLIENT_ID] = {USER_VIEW}
    twilio = TwilioStandIn()
    slack = StandIn()
    workers: dict[str, str] = {}
    available = twilio.activity("Available", True)
    for n, (who, email) in enumerate(sorted(PEOPLE.items())):
        connect.profiles[f"u-{who}"] = {"Username": who, "Email": email.upper()}
        genesys.people[f"g-{who}"] = {"name": who, "email": f" {email} "}
        worker = sid("WK")
        workers[email.lower()] = worker
        twilio.workers[worker] = available.sid
        key = "email" if n % 2 else "contact_uri"
        twilio.attributes[worker] = {key: email if key == "email" else f"mailto:{email}"}
        slack.emails[f"U0{who.upper()}01"] = email
    connect.profiles["u-stranger"] = {"Username": "stranger", "Email": "stranger@example.com"}
    genesys.people["g-gone"] = {
        "name": "gone",
        "email": "ana.silva@example.com",
        "state": "inactive",
    }
    servers = {
        "connect": TestServer(connect.app()),
        "genesys": TestServer(genesys.app()),
        "twilio": TestServer(twilio.app()),
        "slack": TestServer(slack.app()),
    }
    for server in servers.values():
        await server.start_server()
    urls = {name: str(server.make_url("")).rstrip("/") for name, server in servers.items()}
    urls["slack"] = str(servers["slack"].make_url("/api/"))
    try:
        yield Platforms(connect, genesys, twilio, slack, urls, workers)
    finally:
        for server in servers.values():
            await server.close()


async def seed(pool: asyncpg.Pool) -> Roster:
    roster = Roster(pool)
    for who, email in PEOPLE.items():
        await roster.put(who, AgentIn(name=who.title(), email=email))
    return roster


async def ids(pool: asyncpg.Pool) -> dict[str, dict[str, Any]]:
    return {
        a.agent_id: {**a.telephony_ids, "slack": a.slack_user_id}
        for a in await Roster(pool).page(None, 100)
    }


async def test_sync_fills_each_platform_and_slack_by_email(
    pool: asyncpg.Pool, platforms: Platforms
) -> None:
    await seed(pool)
    sync = platforms.sync(pool)
    try:
        report = await sync.run("cli", NOW)
    finally:
        await sync.close()
    assert report.failed == []
    found = await ids(pool)
    assert found["ana"] == {
        "amazon_connect": platforms.connect.user_arn("u-ana"),
        "genesys": "g-ana",
        "twilio": platforms.workers["ana.silva@example.com"],
        "slack": "U0ANA01",
    }
    assert all(len(v) == 4 for v in found.values())
    assert report.filled == 16
    assert report.conflicts == 0
    by_source = {s.source: s for s in report.sources}
    assert [p.external_id for p in by_source["amazon_connect"].unmatched_people] == [
        platforms.connect.user_arn("u-stranger")
    ]
    # Paging: ListUsers in pages of two, and every Genesys and Twilio page asked for.
    listed = [c.path for c in platforms.connect.calls if c.method == "ListUsers"]
    assert len(listed) == 3
    assert "nextToken=" in listed[-1]
    assert [c.body["pageNumber"] for c in platforms.genesys.calls if c.path == "/api/v2/users"] == [
        "1",
        "2",
    ]
    assert sum(1 for c in platforms.twilio.calls if c.form.get("Page")) == 1
    rows = await pool.fetch("SELECT * FROM roster_syncs")
    assert [(r["actor"], r["filled"], r["matched"]) for r in rows] == [("cli", 16, 16)]
    assert rows[0]["report"]["sources"][0]["source"] == "amazon_connect"
    events = await pool.fetch(
        "SELECT detail FROM agent_events WHERE agent_id = 'ana' AND event = 'id_filled'"
    )
    assert sorted(e["detail"]["source"] for e in events) == [
        "amazon_connect",
        "genesys",
        "slack",
        "twilio",
    ]

    again = platforms.sync(pool)
    try:
        second = await again.run("cli", NOW)
    finally:
        await again.close()
    assert (second.filled, second.conflicts, second.matched) == (0, 0, 16)
    assert await ids(pool) == found


async def test_conflicts_and_unmatched_are_reported_not_applied(
    pool: asyncpg.Pool, platforms: Platforms
) -> None:
    roster = await seed(pool)
    await roster.put(
        "ben", AgentIn(name="Ben", email=PEOPLE["ben"], telephony_ids={"genesys": "g-old"})
    )
    await roster.put("cy2", AgentIn(name="Cy again", email="CY.PARK@example.com"))
    await roster.put("eve", AgentIn(name="Eve", email="eve@example.com"))
    await roster.put(
        "old", AgentIn(name="Old", telephony_ids={"genesys": "g-dee"}, email="old@example.com")
    )
    await deactivate(pool, "old", "test")
    sync = platforms.sync(pool)
    try:
        report = await sync.run("cli", NOW)
    finally:
        await sync.close()
    genesys = next(s for s in report.sources if s.source == "genesys")
    kinds = sorted((c.kind, c.external_id) for c in genesys.conflicts)
    assert kinds == [("different_id", "g-ben"), ("held_by_other", "g-dee"), ("two_agents", "g-cy")]
    assert "eve" in genesys.unmatched_agents
    found = await ids(pool)
    assert found["ben"]["genesys"] == "g-old"
    assert "genesys" not in found["cy"]
    assert "genesys" not in found["cy2"]
    assert "genesys" not in found["dee"]
    assert found["old"] == {"genesys": "g-dee", "slack": None}  # deactivated: left alone
    slack = next(s for s in report.sources if s.source == "slack")
    assert "eve" in slack.unmatched_agents


async def test_a_dry_run_writes_nothing(pool: asyncpg.Pool, platforms: Platforms) -> None:
    await seed(pool)
    before = await ids(pool)
    sync = platforms.sync(pool)
    try:
        report = await sync.run("cli", NOW, dry_run=True)
    finally:
        await sync.close()
    assert report.dry_run
    assert report.filled == 16
    assert report.sync_id is None
    assert await ids(pool) == before
    assert await pool.fetchval("SELECT count(*) FROM roster_syncs") == 0
    assert await pool.fetchval("SELECT count(*) FROM agent_events") == 0


async def test_a_platform_failing_mid_run_applies_nothing_of_it(
    pool: asyncpg.Pool, platforms: Platforms
) -> None:
    await seed(pool)
    platforms.connect.broken.add("u-cy")  # DescribeUser of the third user answers 500
    platforms.slack.missing_scopes.add("users:read.email")
    sync = platforms.sync(pool)
    try:
        report = await sync.run("cli", NOW)
    finally:
        await sync.close()
    assert report.failed == ["amazon_connect", "slack"]
    errors = {s.source: s.error for s in report.sources if s.error}
    assert "InternalServiceException" in (errors["amazon_connect"] or "")
    assert "missing_scope" in (errors["slack"] or "")
    found = await ids(pool)
    assert all("amazon_connect" not in v and v["slack"] is None for v in found.values())
    assert all("genesys" in v and "twilio" in v for v in found.values())
    assert await pool.fetchval("SELECT failed FROM roster_syncs") == ["amazon_connect", "slack"]


async def test_throttling_is_waited_out(pool: asyncpg.Pool, platforms: Platforms) -> None:
    await seed(pool)
    platforms.connect.fail_next(429, "ThrottlingException", times=2)
    platforms.genesys.fail_next(429, "too.many.requests", retry_after=1)
    platforms.twilio.fail_next(429, 20429, retry_after=1)
    platforms.slack.rate_limit("users.lookupByEmail", retry_after=0)
    sync = platforms.sync(pool)
    try:
        report = await sync.run("cli", NOW)
    finally:
        await sync.close()
    assert report.failed == []
    assert report.filled == 16


async def test_the_tick_runs_it_once_a_day(pool: asyncpg.Pool, platforms: Platforms) -> None:
    await seed(pool)
    sync = platforms.sync(pool)
    daily = DailyRosterSync(sync, hour=3, zone=UTC)
    try:
        assert await daily.step(pool, NOW.replace(hour=2)) == []  # before the hour
        (first,) = await daily.step(pool, NOW)
        assert first.filled == 16
        assert await daily.step(pool, NOW + timedelta(hours=5)) == []  # the same day
        # Another instance, elected later the same day, does not run it again.
        other = DailyRosterSync(platforms.sync(pool), hour=3, zone=UTC)
        assert await other.step(pool, NOW + timedelta(hours=6)) == []
        await other.sync.close()
        (next_day,) = await daily.step(pool, NOW + timedelta(days=1))
        assert next_day.filled == 0
    finally:
        await sync.close()
    assert await pool.fetchval("SELECT count(*) FROM roster_syncs WHERE actor = 'tick'") == 2


async def test_each_site_is_synced_at_its_own_hour(
    pool: asyncpg.Pool, platforms: Platforms
) -> None:
    """Ana works in Auckland (UTC+13 in March), Ben in New York, whose clocks go forward at
    02:00 on Sunday 8 March 2026 (07:00 UTC); Cy and Dee are in no site (UTC here)."""
    await seed(pool)
    sites = SiteStore(pool)
    await sites.put("akl", SiteIn(name="Auckland", time_zone="Pacific/Auckland"))
    await sites.put("nyc", SiteIn(name="New York", time_zone="America/New_York"))
    await sites.assign_agent("ana", Membership(site_id="akl"))
    await sites.assign_agent("ben", Membership(site_id="nyc"))
    sync = platforms.sync(pool)
    daily = DailyRosterSync(sync, hour=3, zone=UTC)

    async def step(at: datetime) -> dict[str, int]:
        return {r.actor: r.filled for r in await daily.step(pool, at)}

    try:
        # 13:59 UTC on the 7th: past 03:00 in UTC and New York, 02:59 on the 8th in Auckland.
        assert await step(datetime(2026, 3, 7, 13, 59, tzinfo=UTC)) == {
            "tick": 8,  # Cy's and Dee's four ids each
            "tick:nyc": 4,
        }
        assert (await ids(pool))["ana"] == {"slack": None}
        assert await step(datetime(2026, 3, 7, 14, tzinfo=UTC)) == {"tick:akl": 4}
        assert await step(datetime(2026, 3, 8, 6, 59, tzinfo=UTC)) == {"tick": 0}
        # 07:00 UTC is 03:00 in New York on its first day of daylight time (not 02:00).
        assert await step(datetime(2026, 3, 8, 7, tzinfo=UTC)) == {"tick:nyc": 0}
    finally:
        await sync.close()
    report = await pool.fetchval("SELECT report FROM roster_syncs WHERE actor = 'tick:akl'")
    assert "cy.park" not in str(report)  # another site's agents are not its to report


async def test_the_cli_dry_run_writes_a_json_report(
    pool: asyncpg.Pool, platforms: Platforms, db_url: str, tmp_path: Path
) -> None:
    await seed(pool)
    settings = Settings(
        database_url=db_url,
        data_dir=tmp_path,
        twilio_account_sid=platforms.twilio.account_sid,
        twilio_auth_token=platforms.twilio.auth_token,
        twilio_workspace_sid=platforms.twilio.workspace_sid,
        twilio_api_url=platforms.urls["twilio"],
    )
    out = tmp_path / "roster.json"
    console = Console(record=True, width=160)
    code = await sync_roster(
        settings, dry_run=True, json_out=out, console=console, clock=FixedClock(NOW)
    )
    assert code == 0
    assert '"filled"' in out.read_text()
    assert "4 would be filled" in console.export_text()
    assert await pool.fetchval("SELECT count(*) FROM agent_telephony_ids") == 0


async def test_the_roster_import_sets_emails(pool: asyncpg.Pool) -> None:
    report = await import_roster(
        pool, io.StringIO("agent_id,name,email\nana,Ana,ana.silva@example.com\nbo,Bo,nope\n")
    )
    assert report.created == 1
    assert [e.line for e in report.errors] == [3]
    found = await Roster(pool).get("ana")
    assert found is not None
    assert found.email == "ana.silva@example.com"

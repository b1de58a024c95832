"""Slack shows each person times and days on their own site's clock: a supervisor in New
York, an agent in Auckland; someone in no site, the default clock (UTC here)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg

from blending.sites import Membership, SiteIn, SiteStore
from bot.slack.commands import midnight
from tests.scenario.slack.test_decisions_home import _decisions, _home, _section
from tests.scenario.slack.test_supervisor_commands import _store_forecast
from tests.support.acd import rig, seed_agents
from tests.support.slack import DANA, SUPERVISOR, Harness, seed

AUCKLAND = ZoneInfo("Pacific/Auckland")
NEW_YORK = ZoneInfo("America/New_York")


async def put_sites(pool: asyncpg.Pool, **members: str) -> None:
    """Auckland and New York, and each agent named in the site given."""
    sites = SiteStore(pool)
    await sites.put("akl", SiteIn(name="Auckland", time_zone="Pacific/Auckland"))
    await sites.put("nyc", SiteIn(name="New York", time_zone="America/New_York"))
    for agent_id, site_id in members.items():
        await sites.assign_agent(agent_id, Membership(site_id=site_id))


async def test_the_home_decisions_are_on_the_supervisors_site_clock(slack: Harness) -> None:
    await _decisions(slack)  # Dana lent at 10:42 UTC on 23 November, recalled at 10:45
    await put_sites(slack.pool, sam="akl")
    lines = _section(await _home(slack, SUPERVISOR), "*Last blending decisions*")
    assert [line[:5] for line in lines] == ["23:45", "23:45", "23:42"]  # UTC+13


async def test_a_lend_tells_each_person_the_end_on_their_own_clock(pool: asyncpg.Pool) -> None:
    await seed_agents(pool)
    async with rig(pool) as r:
        await put_sites(pool, dana="akl", sam="nyc")
        ends = r.clock.now() + timedelta(minutes=30)
        reply = await r.slack.command(SUPERVISOR, f"lend <@{DANA}> 30")
        assert f"lent to back-office work until {ends.astimezone(NEW_YORK):%H:%M}" in reply["text"]
        await r.slack.drain()
        told = [
            str(c.args.get("text"))
            for c in r.slack.standin.calls_to("chat.postEphemeral", ok=True)
            if c.args.get("user") == DANA
        ]
        assert any(f"until {ends.astimezone(AUCKLAND):%H:%M}" in t for t in told), told
        (event,) = [i for i in (await r.timeline("dana"))["items"] if i["event"] == "lent"]
        assert f"until {ends.astimezone(AUCKLAND):%H:%M}" in event["detail"]


async def test_a_report_of_today_starts_at_the_readers_midnight(slack: Harness) -> None:
    await seed(slack.pool)
    await put_sites(slack.pool, sam="nyc")

    def since(reply: dict[str, object]) -> datetime:
        found = re.search(r"Since <!date\^(\d+)\^", json.dumps(reply))
        assert found is not None
        return datetime.fromtimestamp(int(found.group(1)), UTC)

    ny = since(await slack.command(SUPERVISOR, "report"))
    local = ny.astimezone(NEW_YORK)
    assert (local.hour, local.minute) == (0, 0)
    assert datetime.now(UTC) - ny < timedelta(days=1)
    await SiteStore(slack.pool).assign_agent("sam", Membership(site_id=None))
    utc = since(await slack.command(SUPERVISOR, "report"))
    assert (utc.hour, utc.minute) == (0, 0)


def test_today_begins_at_the_local_midnight_on_a_dst_day() -> None:
    """New York's clocks go forward at 02:00 on 8 March 2026: that day began at 05:00 UTC
    (EST), though at 11:00 it is EDT; Auckland's went back at 03:00 on 5 April."""
    assert midnight(datetime(2026, 3, 8, 15, tzinfo=UTC), NEW_YORK) == datetime(
        2026, 3, 8, 5, tzinfo=UTC
    )
    assert midnight(datetime(2026, 4, 5, 2, tzinfo=UTC), AUCKLAND) == datetime(
        2026, 4, 4, 11, tzinfo=UTC
    )


async def test_a_forecast_shows_the_peak_on_the_readers_clock(slack: Harness) -> None:
    """The stored forecast peaks at 10:00 UTC; a supervisor in New York reads it on their
    clock (05:00 in winter, 06:00 in summer)."""
    await seed(slack.pool)
    await _store_forecast(slack.pool, "sales")
    utc = str((await slack.command(SUPERVISOR, "forecast sales"))["blocks"])
    assert "Tomorrow's peak: *10:00*" in utc
    await put_sites(slack.pool, sam="nyc")
    local = str((await slack.command(SUPERVISOR, "forecast sales"))["blocks"])
    midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    peak = (midnight + timedelta(days=1, hours=10)).astimezone(NEW_YORK)
    assert f"Tomorrow's peak: *{peak:%H:%M}*" in local
    await slack.slack.context.settle()
    await slack.drain()

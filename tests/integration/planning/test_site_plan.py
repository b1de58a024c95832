"""The plan of a site: its days run from the site's local midnight to the next, 23 or 25
hours long on the days a DST change falls."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from blending.planning.service import Planner, PlanSettings
from blending.sites import UnknownSite
from tests.support.backoffice import agent, history

LONDON = ZoneInfo("Europe/London")


async def _site(pool: asyncpg.Pool, site_id: str, zone: str) -> None:
    await pool.execute("INSERT INTO sites VALUES ($1, $1, $2)", site_id, zone)


async def _night_shifts(pool: asyncpg.Pool, first: date, days: int) -> None:
    """00:30-01:30 London time every day from ``first``: an hour just after local midnight."""
    for d in range(days):
        start = datetime.combine(first + timedelta(days=d), time(0, 30), LONDON)
        await pool.execute(
            "INSERT INTO agent_schedules (agent_id, kind, starts_at, ends_at)"
            " VALUES ('bo1', 'shift', $1, $2)",
            start,
            start + timedelta(hours=1),
        )


async def test_a_sites_plan_starts_at_its_own_midnight(pool: asyncpg.Pool) -> None:
    now = datetime(2026, 3, 2, 20, 0, tzinfo=UTC)  # 05:00 on the 3rd in Tokyo
    await history(pool, weeks=5, now=now)
    await _site(pool, "tokyo", "Asia/Tokyo")
    planner = Planner(pool, PlanSettings(days=3, timezone="UTC"))
    tokyo = await planner.plan(now, site="tokyo")
    default = await planner.plan(now)
    assert (tokyo.timezone, tokyo.days[0]) == ("Asia/Tokyo", date(2026, 3, 3))
    assert (default.timezone, default.days[0]) == ("UTC", date(2026, 3, 2))
    with pytest.raises(UnknownSite):
        await planner.plan(now, site="mars")


@pytest.mark.parametrize(
    ("now", "first", "site_hours", "utc_hours"),
    [
        # 29 March 2026 is 23 hours long in London: 00:30 on the 30th is 23:30 UTC on the 29th.
        (datetime(2026, 3, 27, 23, tzinfo=UTC), date(2026, 3, 28), [0, 1, 1, 1], [0, 1, 2, 0]),
        # 25 October 2026 is 25 hours long: 00:30 on the 26th is 00:30 UTC again.
        (datetime(2026, 10, 23, 22, tzinfo=UTC), date(2026, 10, 24), [0, 1, 1, 1], [1, 1, 0, 1]),
    ],
)
async def test_the_days_of_a_dst_change_are_the_sites_days(
    pool: asyncpg.Pool, now: datetime, first: date, site_hours: list[int], utc_hours: list[int]
) -> None:
    await history(pool, weeks=5, now=now)
    await agent(pool, "bo1", "Back Office", ["billing"])
    await _site(pool, "london", "Europe/London")
    await pool.execute("UPDATE agents SET site_id = 'london' WHERE agent_id = 'bo1'")
    await _night_shifts(pool, first, 3)
    planner = Planner(pool, PlanSettings(days=4, timezone="UTC"))
    london = await planner.plan(now, site="london")
    utc = await planner.plan(now)
    assert london.days[0] == now.astimezone(LONDON).date()
    assert [round(d.dedicated_hours, 6) for d in london.skills[0].days] == site_hours
    assert [round(d.dedicated_hours, 6) for d in utc.skills[0].days] == utc_hours

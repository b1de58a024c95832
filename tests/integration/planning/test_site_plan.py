"""The plan of a site: its days run from the site's local midnight to the next, 23 or 25
hours long on the days a DST change falls; its hours are its own agents', its work its share
of the center's."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from blending.planning.model import Plan, SkillPlan
from blending.planning.service import Planner, PlanSettings
from blending.sites import DEFAULT_SITE, SiteStore, UnknownSite
from queues.catalog import Catalog
from queues.models import TaskIn, TaskTypeIn
from queues.tasks import Tasks
from tests.support.backoffice import NOW, agent, calls, history, shifts

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


AUCKLAND, NEW_YORK = ZoneInfo("Pacific/Auckland"), ZoneInfo("America/New_York")


async def _two_sites(pool: asyncpg.Pool) -> None:
    """Auckland: one back-office agent with billing and claims (claims: nobody else). New
    York: two back-office agents and four on the phones (its queue's calls), billing only.
    Open: 20 billing tasks and 6 claims, and the billing history."""
    await history(pool, weeks=5)
    await calls(pool)
    await Catalog(pool).put(
        "claims", TaskTypeIn(skills=["claims"], sla_minutes=2880, handle_minutes=30)
    )
    await _site(pool, "auckland", AUCKLAND.key)
    await _site(pool, "new-york", NEW_YORK.key)
    await pool.execute("INSERT INTO queue_sites VALUES ('calls', 'new-york')")
    staff = {
        "akl1": ("Back Office", ["billing", "claims"], "auckland"),
        "ny1": ("Back Office", ["billing"], "new-york"),
        "ny2": ("Back Office", ["billing"], "new-york"),
        **{f"ph{i}": ("Phones", ["billing"], "new-york") for i in range(4)},
    }
    for name, (team, skills, site) in staff.items():
        await agent(pool, name, team, skills)
        await pool.execute("UPDATE agents SET site_id = $2 WHERE agent_id = $1", name, site)
        await shifts(pool, name, NOW.date(), 4)
    due = NOW + timedelta(days=1)
    await Tasks(pool).create_many(
        [
            TaskIn(source="crm", external_id=f"O-{i}", type="billing", title=f"B{i}", due_at=due)
            for i in range(20)
        ]
        + [
            TaskIn(source="crm", external_id=f"C-{i}", type="claims", title=f"C{i}", due_at=due)
            for i in range(6)
        ],
        "test",
    )


def _shift_hours(agents: int, plan: Plan, zone: ZoneInfo) -> float:
    """Hours of ``agents`` back-office agents' shifts (``shifts``) from now, each working
    span on the local day it starts, those starting in the plan's days."""
    end = datetime.combine(plan.days[-1] + timedelta(days=1), time(), zone)
    total = 0.0
    for d in range(4):
        day = NOW.date() + timedelta(days=d)
        for a, b in ((time(9), time(12)), (time(12, 30), time(17))):
            lo = max(NOW, datetime.combine(day, a, UTC))
            hi = datetime.combine(day, b, UTC)
            if lo < end:
                total += max(0.0, (hi - lo).total_seconds() / 3600)
    return agents * total


def _by_skills(plan: Plan) -> dict[str, SkillPlan]:
    return {"+".join(s.skills): s for s in plan.skills}


async def test_each_site_plans_its_own_staff_and_its_share_of_the_work(
    pool: asyncpg.Pool,
) -> None:
    await _two_sites(pool)
    planner = Planner(pool, PlanSettings(days=3, timezone="UTC"))
    plans = {site: await planner.plan(NOW, site=site) for site in SITES}
    center = await planner.plan(NOW)
    akl, ny, default = (_by_skills(plans[s]) for s in SITES)
    assert (plans["auckland"].site, plans["auckland"].timezone) == ("auckland", AUCKLAND.key)
    assert plans["auckland"].days[0] == NOW.astimezone(AUCKLAND).date()
    assert center.site is None

    # Capacity: each site's own agents' hours, the lulls only where its calls and phones are.
    for site, zone, agents in (("auckland", AUCKLAND, 1), ("new-york", NEW_YORK, 2)):
        dedicated = sum(d.dedicated_hours for s in plans[site].skills for d in s.days)
        assert dedicated == pytest.approx(_shift_hours(agents, plans[site], zone), abs=0.1)
    assert sum(d.lull_hours for s in akl.values() for d in s.days) == 0
    assert sum(d.lull_hours for d in ny["billing"].days) > 0
    assert sum(d.dedicated_hours + d.lull_hours for s in default.values() for d in s.days) == 0

    # Work: claims only Auckland can do is all Auckland's; billing is split by the hours each
    # site gives it, and nobody's share is counted twice.
    assert (akl["claims"].share, ny["claims"].share, default["claims"].share) == (1, 0, 0)
    assert 0 < akl["billing"].share < ny["billing"].share
    assert akl["billing"].share + ny["billing"].share + default["billing"].share == (
        pytest.approx(1, abs=1e-3)
    )
    assert ny["claims"].days[0].workload_hours == 0
    for site in SITES:
        # A site's workload is its share of the center's, on the site's own clock.
        zone = await SiteStore(pool).zone(site)
        whole = _by_skills(await Planner(pool, PlanSettings(days=3, timezone=zone.key)).plan(NOW))
        mine = _by_skills(plans[site])
        for key, s in mine.items():
            for d, w in zip(s.days, whole[key].days, strict=True):
                assert d.workload_hours == pytest.approx(s.share * w.workload_hours, abs=0.02)
    # The open backlog is clock-free: the sites' hours add up to the center's.
    for t in center.types:
        parts = [next(p for p in plans[s].types if p.type == t.type) for s in SITES]
        assert sum(p.backlog_hours for p in parts) == pytest.approx(t.backlog_hours, abs=0.02)
        assert sum(p.share for p in parts) == pytest.approx(1, abs=1e-3)
    claims = {s: next(p for p in plans[s].types if p.type == "claims") for s in SITES}
    assert (claims["auckland"].backlog_tasks, claims["new-york"].backlog_tasks) == (6, 0)
    assert not [m for m in plans["new-york"].misses if m.type == "claims"]


SITES = ("auckland", "new-york", DEFAULT_SITE)


async def test_a_sites_arrivals_per_interval_are_its_share_on_its_clock(
    pool: asyncpg.Pool,
) -> None:
    await _two_sites(pool)
    planner = Planner(pool, PlanSettings(days=3, timezone="UTC"))
    plan = await planner.plan(NOW, site="new-york")
    (billing,) = await planner.intervals(NOW, 2, 60, "new-york", plan=plan)
    (whole,) = await Planner(pool, PlanSettings(timezone=NEW_YORK.key)).intervals(NOW, 2, 60)
    share = next(t.share for t in plan.types if t.type == "billing")
    assert {i.start.utcoffset() for i in billing.intervals} == {timedelta(hours=-5)}
    assert [i.start for i in billing.intervals] == [i.start for i in whole.intervals]
    for mine, all_of in zip(billing.intervals, whole.intervals, strict=True):
        assert mine.mean == pytest.approx(share * all_of.mean, abs=0.01)
    # Worked out without the plan, the same share.
    assert await planner.intervals(NOW, 2, 60, "new-york") == [billing]
    with pytest.raises(UnknownSite):
        await planner.intervals(NOW, 2, 60, "mars")

"""The daily roll-up of the agents' states gives the reports exactly the figures the state
reports give read live, over a range of local days that ends today (closed days from the
roll-up, the last two live), in a zone whose days are not UTC's; and so does the daily roll-up
of the steps completed, for every report that reads them."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
import pytest

import migrations
from blending import recognition, reports
from bot.tick import ROLL_UP_CHUNK, ROLL_UP_DAYS, Tick
from clock import FixedClock
from queues.importer import import_tasks

ZONE = "America/New_York"
NOW = datetime(2026, 12, 3, 15, 7, tzinfo=UTC)
"""10:07 in New York."""
FIRST = date(2026, 11, 26)
LAST = date(2026, 12, 3)
STATES = ("available", "on_call", "after_call_work", "break", "available", "offline")
LINES = (("generic", "ana"), ("acme", "x-ben"), ("acme", "ghost"))
"""Ana's line by her id, Ben's by the id his feed knows him by, and a line nobody is mapped to
(it counts in the trends only)."""


def _span(zone: str | None) -> reports.Span:
    local = ZoneInfo(ZONE)
    start = datetime(FIRST.year, FIRST.month, FIRST.day, tzinfo=local)
    end = datetime(LAST.year, LAST.month, LAST.day, tzinfo=local) + timedelta(days=1)
    return reports.Span(FIRST, LAST, start, end, zone)


async def _seed(pool: asyncpg.Pool) -> None:
    await pool.execute(
        "INSERT INTO agents (agent_id, name, team) VALUES ('ana', 'Ana', 'north'),"
        " ('ben', 'Ben', 'south')"
    )
    await pool.execute(
        "INSERT INTO agent_telephony_ids (source, external_id, agent_id)"
        " VALUES ('acme', 'x-ben', 'ben')"
    )
    rows = []
    for n, (source, line) in enumerate(LINES):
        # Reports every 3 h 47 min (crossing local and UTC midnights at all hours) from two
        # days before the range to an hour after now (after now: not counted yet).
        at = datetime(2026, 11, 24, 3, 11 * n, tzinfo=UTC)
        k = n
        while at < NOW + timedelta(hours=1):
            rows.append((source, f"{line}-{k}", at, line, STATES[k % len(STATES)]))
            at += timedelta(hours=3, minutes=47)
            k += 1
    await pool.executemany(
        "INSERT INTO telephony_events (source, event_id, type, at, received_at, external_agent,"
        " body) VALUES ($1, $2, 'agent_state', $3, $3, $4, jsonb_build_object('state', $5::text))",
        rows,
    )


async def test_the_roll_up_gives_the_live_figures_over_a_range_to_today(
    pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _seed(pool)
    with monkeypatch.context() as live:
        live.setattr(reports, "LIVE_DAYS", 10_000)
        live_agents = await reports.agents(pool, _span(ZONE), NOW)
        live_trends = await reports.trends(pool, _span(ZONE), NOW, ZONE)
    assert await pool.fetchval("SELECT count(*) FROM agent_state_days_done") == 0
    assert live_agents == await reports.agents(pool, _span(None), NOW)

    rolled_agents = await reports.agents(pool, _span(ZONE), NOW)
    days = await pool.fetch("SELECT day FROM agent_state_days_done ORDER BY day")
    assert [r["day"] for r in days] == [FIRST + timedelta(days=n) for n in range(6)]
    assert rolled_agents == live_agents
    assert await reports.trends(pool, _span(ZONE), NOW, ZONE) == live_trends
    ana = next(a for a in rolled_agents.agents if a.agent_id == "ana")
    assert ana.on_call_seconds > 0
    assert ana.idle_seconds > 0
    assert {a.agent_id for a in rolled_agents.agents} == {"ana", "ben"}
    assert sum(d.utilization is not None for d in live_trends.days) == 8

    # Each day is rolled up once: a second read stores nothing more.
    stored = await pool.fetchval("SELECT count(*) FROM agent_state_days")
    assert await reports.agents(pool, _span(ZONE), NOW) == live_agents
    assert await pool.fetchval("SELECT count(*) FROM agent_state_days") == stored


async def test_a_range_of_days_that_are_over_reads_only_the_roll_up(pool: asyncpg.Pool) -> None:
    await _seed(pool)
    span = reports.Span(
        FIRST,
        FIRST + timedelta(days=2),
        _span(ZONE).start,
        _span(ZONE).start + timedelta(days=3),
        ZONE,
    )
    live = await reports.agents(pool, replace(span, zone=None), NOW)
    assert await reports.agents(pool, span, NOW) == live
    assert await pool.fetchval("SELECT count(*) FROM agent_state_days_done") == 3


async def test_the_tick_rolls_up_the_days_as_they_end(db_url: str, pool: asyncpg.Pool) -> None:
    await _seed(pool)
    tick = Tick(db_url, pool, clock=FixedClock(NOW), report_zone=ZONE)
    try:
        for _ in range(ROLL_UP_DAYS // ROLL_UP_CHUNK + 2):
            await tick.step()
    finally:
        await tick._drop()
    assert tick.jobs["roll_up"].ok
    days = [r["day"] for r in await pool.fetch("SELECT day FROM agent_state_days_done")]
    assert len(days) == ROLL_UP_DAYS
    assert max(days) == LAST - timedelta(days=2)
    with_roll_up = await reports.agents(pool, _span(ZONE), NOW)
    assert with_roll_up == await reports.agents(pool, _span(None), NOW)


WORKED = (("ana", 700.0, "refunded"), ("ben", 1300.5, "declined"), ("ana", 420.25, None))
"""Who completes each task (cycling), their active time and outcome: Ana fast, Ben slow."""


async def _seed_work(pool: asyncpg.Pool, at: datetime, tasks: int) -> None:
    """``tasks`` two-step tasks whose steps are completed from ``at``, every 5 h 13 min (across
    local and UTC midnights), each with a segment; some by their due time, some late."""
    await pool.execute(
        "INSERT INTO task_types (name, skills, sla_minutes, handle_minutes, steps) VALUES"
        ' (\'billing\', \'{billing}\', 600, 10, \'[{"skills": ["billing"], "handle_minutes": 8},'
        ' {"skills": ["billing"], "handle_minutes": 15}]\') ON CONFLICT DO NOTHING'
    )
    for n in range(tasks):
        done = at + timedelta(hours=5 * n, minutes=13 * n)
        task_id = await pool.fetchval(
            "INSERT INTO tasks (source, external_id, type, title, status, due_at, request_hash)"
            " VALUES ('crm', $1, 'billing', 'Case', 'done', $2, $1) RETURNING id",
            f"{at.isoformat()}-{n}",
            done + timedelta(hours=1 if n % 2 else -1),
        )
        agent, worked, outcome = WORKED[n % len(WORKED)]
        for step, event in ((1, "step_completed"), (2, "completed")):
            ended = done + timedelta(minutes=20 * step)
            await pool.execute(
                "INSERT INTO task_segments (task_id, agent_id, step, started_at, started_by,"
                " ended_at, ended_by) VALUES ($1, $2, $3, $4, 'claimed', $5, 'completed')",
                task_id,
                agent,
                step,
                ended - timedelta(seconds=worked),
                ended,
            )
            await pool.execute(
                "INSERT INTO task_events (task_id, at, event, from_status, to_status, actor,"
                " data) VALUES ($1, $2, $3, 'in_progress', 'done', $4, $5)",
                task_id,
                ended,
                event,
                agent,
                {"step": step, "steps": 2, "worked_seconds": worked * step, "outcome": outcome},
            )


def _history(at: datetime, tasks: int) -> io.StringIO:
    """``tasks`` closed two-step tasks of a ticketing system's export, completed from ``at``
    every 5 h 13 min, as ``blendbot import tasks`` reads them."""
    rows = [
        "source,external_id,type,title,created_at,completed_at,worked_minutes,"
        "completed_by,outcome\n"
    ]
    for n in range(tasks):
        done = at + timedelta(hours=5 * n, minutes=13 * n)
        agent, worked, outcome = WORKED[n % len(WORKED)]
        rows.append(
            f"zen,H-{n},billing,Old,{(done - timedelta(hours=3)).isoformat()},"
            f"{done.isoformat()},{worked * 3 / 60:.4f},{agent},{outcome or ''}\n"
        )
    return io.StringIO("".join(rows))


async def _all(pool: asyncpg.Pool, span: reports.Span) -> list[object]:
    week_end = NOW + timedelta(days=4)
    return [
        await reports.agents(pool, span, NOW),
        await reports.costs(pool, span, NOW),
        await reports.skills(pool, span, NOW, week_end),
        await reports.trends(pool, span, NOW, ZONE),
        await recognition.recognition(pool, span, NOW),
    ]


async def test_the_work_roll_up_gives_the_figures_of_the_task_log(
    pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _seed(pool)
    await pool.execute("UPDATE agents SET cost_per_hour = 30, team = 'north'")
    await _seed_work(pool, datetime(2026, 11, 20, 2, 0, tzinfo=UTC), 60)
    with monkeypatch.context() as live:
        live.setattr(reports, "LIVE_DAYS", 10_000)
        from_the_log = await _all(pool, _span(ZONE))
    assert await pool.fetchval("SELECT count(*) FROM agent_work_days") == 0

    assert await _all(pool, _span(ZONE)) == from_the_log
    assert await pool.fetchval("SELECT count(*) FROM agent_work_days") > 0
    agents = from_the_log[0]
    assert isinstance(agents, reports.AgentsReport)
    assert sum(a.tasks_done for a in agents.agents) > 0
    assert {w.agent_id for w in agents.work} == {"ana", "ben"}

    # A history imported later (through the importer), on days already rolled up, counts as
    # if read from the log: the importer rolls those days up again.
    stored = await pool.fetch("SELECT * FROM agent_work_days ORDER BY day, agent_id, step")
    report = await import_tasks(
        pool, _history(datetime(2026, 11, 27, 13, 0, tzinfo=UTC), 5), actor="import:test", now=NOW
    )
    assert (report.created, report.errors) == (5, [])
    assert await pool.fetch("SELECT * FROM agent_work_days ORDER BY day, agent_id, step") != stored
    with monkeypatch.context() as live:
        live.setattr(reports, "LIVE_DAYS", 10_000)
        with_import = await _all(pool, _span(ZONE))
    assert with_import != from_the_log
    assert await _all(pool, _span(ZONE)) == with_import


async def test_migration_0039_fills_the_day_totals_of_the_days_already_rolled_up(
    pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The active and lull time per day and the state totals are filled, for the days rolled
    up before the migration, by the migration's own statements: exactly what a roll-up stores."""
    await _seed(pool)
    await pool.execute("UPDATE agents SET cost_per_hour = 30, team = 'north'")
    await _seed_work(pool, datetime(2026, 11, 20, 2, 0, tzinfo=UTC), 60)
    # Half of Ana's work was lent to her in a lull (offered before her segment started).
    await pool.execute(
        "INSERT INTO blending_events (at, event, grp, agent_id, task_id, reason, actor)"
        " SELECT s.started_at - interval '1 minute', 'lend_offered', 'sales', s.agent_id,"
        " s.task_id, 'a lull', 'blendbot' FROM task_segments s"
        " WHERE s.agent_id = 'ana' AND s.task_id % 2 = 0"
    )
    with monkeypatch.context() as live:
        live.setattr(reports, "LIVE_DAYS", 10_000)
        from_the_log = await _all(pool, _span(ZONE))
    rolled = await _all(pool, _span(ZONE))
    assert rolled == from_the_log
    agents = rolled[0]
    assert isinstance(agents, reports.AgentsReport)
    assert next(a.lull_seconds for a in agents.agents if a.agent_id == "ana") > 0
    stored = [
        await pool.fetch(f"SELECT * FROM {table} ORDER BY zone, day, 3, 4")
        for table in ("agent_time_days", "agent_state_day_totals")
    ]
    assert all(stored)

    await pool.execute("TRUNCATE agent_time_days, agent_state_day_totals")
    sql = (Path(migrations.__file__).parent / "0039_report_day_totals.sql").read_text()
    for table in ("agent_state_day_totals", "agent_time_days"):
        found = re.search(rf"^INSERT INTO {table}\b.*?;$", sql, re.S | re.M)
        assert found is not None
        statement = found.group(0)
        if "now()" in statement:  # as the migration runs it, at a moment after these days
            await pool.execute(statement.replace("now()", "$1::timestamptz"), NOW)
        else:
            await pool.execute(statement)
    assert [
        await pool.fetch(f"SELECT * FROM {table} ORDER BY zone, day, 3, 4")
        for table in ("agent_time_days", "agent_state_day_totals")
    ] == stored
    assert await _all(pool, _span(ZONE)) == rolled


async def test_a_sites_trends_from_the_roll_up_are_its_live_figures(
    pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A site's trends read its own lines' rolled-up days (the day totals have lost whose line
    was whose) and its agents' rolled-up active time: the figures read live, on its own clock
    (Auckland's days rolled up when first asked for) and on New York's."""
    await _seed(pool)
    await _seed_work(pool, datetime(2026, 11, 20, 2, 0, tzinfo=UTC), 60)
    await pool.execute(
        "INSERT INTO sites (site_id, name, time_zone) VALUES ('akl', 'Auckland',"
        " 'Pacific/Auckland'), ('nyc', 'New York', $1)",
        ZONE,
    )
    await pool.execute("UPDATE agents SET site_id = 'akl' WHERE agent_id = 'ana'")
    await pool.execute("UPDATE agents SET site_id = 'nyc' WHERE agent_id = 'ben'")
    asked = [
        (site, zone)
        for site in (None, "akl", "nyc", "default")
        for zone in ("Pacific/Auckland", ZONE)
    ]
    with monkeypatch.context() as live:
        live.setattr(reports, "LIVE_DAYS", 10_000)
        read_live = [await reports.trends(pool, _span(ZONE), NOW, z, s) for s, z in asked]
    assert await pool.fetchval("SELECT count(*) FROM agent_state_days_done") == 0

    rolled = [await reports.trends(pool, _span(ZONE), NOW, z, s) for s, z in asked]
    assert rolled == read_live
    zones = await pool.fetch("SELECT zone, count(*) FROM agent_state_days_done GROUP BY zone")
    assert {r["zone"]: r["count"] for r in zones} == {"Pacific/Auckland": 7, ZONE: 6}
    by = dict(zip(asked, rolled, strict=True))
    akl, nyc, everyone = by["akl", ZONE], by["nyc", ZONE], by[None, ZONE]
    # Each site has its own figures: Ana's line and work, Ben's; the ghost line is no one's.
    assert akl.days != nyc.days != everyone.days
    assert sum(d.utilization is not None for d in akl.days) == 8
    assert all(d.utilization is None for d in by["default", ZONE].days)
    assert [a.throughput + n.throughput for a, n in zip(akl.days, nyc.days, strict=True)] == [
        d.throughput for d in everyone.days
    ]

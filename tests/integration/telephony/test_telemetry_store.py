"""The telephony store against a real PostgreSQL database."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from blending.errors import UnknownAgent
from blending.events import (
    AgentStateChanged,
    CallAbandoned,
    CallAnswered,
    CallArrived,
    CallEnded,
    Event,
    Parsed,
    QueueSnapshot,
    TelephonyState,
)
from blending.presence import Schedule, ScheduleEntry
from blending.telemetry_store import IntervalRow, TelemetryStore
from queues.models import AgentIn
from queues.roster import Roster

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def call(n: int, start: float, wait: float, talk: float, agent: str = "a1") -> list[Event]:
    """One answered call: arrives at ``start``, waits, talks, ends."""
    c = f"c{n}"
    return [
        CallArrived(event_id=f"{c}-in", at=at(start), queue="sales", call_id=c),
        CallAnswered(event_id=f"{c}-ans", at=at(start + wait), call_id=c, agent_id=agent),
        CallEnded(
            event_id=f"{c}-end",
            at=at(start + wait + talk),
            call_id=c,
            agent_id=agent,
            wrap_seconds=30,
        ),
    ]


def store(pool: asyncpg.Pool) -> TelemetryStore:
    return TelemetryStore(pool, interval_minutes=15, service_level_seconds=20)


async def test_a_retried_delivery_changes_nothing(pool: asyncpg.Pool) -> None:
    events = call(1, 0, 10, 100) + call(2, 60, 40, 200)
    first = await store(pool).record("generic", Parsed(events=events), T0)
    assert (first.new, first.duplicates) == (6, 0)
    before = await pool.fetch("SELECT * FROM interval_stats")
    again = await store(pool).record("generic", Parsed(events=events), T0)
    assert (again.new, again.duplicates) == (0, 6)
    assert await pool.fetch("SELECT * FROM interval_stats") == before
    assert await pool.fetchval("SELECT count(*) FROM telephony_events") == 6
    (interval,) = await store(pool).intervals("sales", T0, at(900))
    assert (interval.offered, interval.answered, interval.abandoned) == (2, 2, 0)
    assert interval.aht_seconds == (100 + 30 + 200 + 30) / 2
    assert interval.asa_seconds == 25
    assert interval.service_level == 0.5


async def test_out_of_order_events_give_the_same_statistics(pool: asyncpg.Pool) -> None:
    events = [e for n in range(20) for e in call(n, n * 50, n % 7 * 5, 120 + n)]
    events += [
        CallArrived(event_id="x-in", at=at(880), queue="sales", call_id="x"),
        CallAbandoned(event_id="x-ab", at=at(950), call_id="x"),
    ]
    shuffled = list(events)
    random.Random(4).shuffle(shuffled)
    in_order = TelemetryStore(pool, interval_minutes=15)
    for event in events:
        await in_order.record("generic", Parsed(events=[event]), T0)
    expected = await pool.fetch(
        "SELECT queue, interval_start, offered, answered, abandoned, answered_in_sl, handled,"
        " handle_seconds, wait_seconds FROM interval_stats ORDER BY 1, 2"
    )
    await pool.execute("TRUNCATE interval_stats, telephony_calls, telephony_events")
    for event in shuffled:
        await in_order.record("twilio", Parsed(events=[event]), T0)
    got = await pool.fetch(
        "SELECT queue, interval_start, offered, answered, abandoned, answered_in_sl, handled,"
        " handle_seconds, wait_seconds FROM interval_stats ORDER BY 1, 2"
    )
    assert got == expected
    by_start = {r["interval_start"]: r for r in got}
    # The abandoned call arrived at 09:14:40: it counts in the 09:00 interval, not 09:15.
    assert by_start[T0]["abandoned"] == 1
    assert sum(r["offered"] for r in got) == 21


async def test_a_late_arrival_moves_the_call_to_its_interval(pool: asyncpg.Pool) -> None:
    s = store(pool)
    answered = CallAnswered(event_id="a", at=at(905), queue="sales", call_id="c")
    await s.record("generic", Parsed(events=[answered]), T0)
    assert [i.interval_start for i in await s.intervals("sales", T0, at(3600))] == [at(900)]
    arrived = CallArrived(event_id="b", at=at(890), queue="sales", call_id="c")
    await s.record("generic", Parsed(events=[arrived]), T0)
    found = {i.interval_start: i.offered for i in await s.intervals("sales", T0, at(3600))}
    assert found == {T0: 1, at(900): 0}


async def test_concurrent_batches_on_the_same_calls_add_up(pool: asyncpg.Pool) -> None:
    events = [e for n in range(200) for e in call(n, n * 4, n % 30, 60)]
    random.Random(7).shuffle(events)
    batches = [events[i : i + 25] for i in range(0, len(events), 25)]
    s = store(pool)
    results = await asyncio.gather(
        *(s.record("generic", Parsed(events=b), T0) for b in batches + batches)
    )
    assert sum(r.new for r in results) == 600
    stats = await s.intervals("sales", T0, at(3600))
    assert sum(i.offered for i in stats) == 200
    assert sum(i.answered for i in stats) == 200
    assert sum(i.handled for i in stats) == 200


def state(agent: str, seconds: float, value: TelephonyState, event_id: str) -> Event:
    return AgentStateChanged(event_id=event_id, at=at(seconds), agent_id=agent, state=value)


async def add_agent(pool: asyncpg.Pool, agent_id: str, **ids: str) -> None:
    await Roster(pool).put(agent_id, AgentIn(name=agent_id, telephony_ids=ids))


async def test_unknown_agents_are_kept_counted_and_applied_once_added(pool: asyncpg.Pool) -> None:
    s = store(pool)
    await s.record("twilio", Parsed(events=[state("WK1", 0, "available", "e1")]), T0)
    listed = await s.presence(at(10))
    assert listed.items == []
    (line,) = listed.unmatched
    assert (line.source, line.external_id, line.state, line.events) == (
        "twilio",
        "WK1",
        "available",
        1,
    )
    # An agent's own reading (an ask for work) leaves the unmatched lines out.
    await s.record("twilio", Parsed(events=[state("WK2", 0, "on_call", "e2")]), T0)
    await add_agent(pool, "dana", twilio="WK1")
    own = await s.presence(at(10), ["dana"], unmatched=False)
    assert ([p.agent_id for p in own.items], own.unmatched) == (["dana"], [])
    listed = await s.presence(at(10))
    assert [line.external_id for line in listed.unmatched] == ["WK2"]
    (dana,) = listed.items
    assert (dana.agent_id, dana.state, dana.since, dana.source) == (
        "dana",
        "available",
        at(0),
        "twilio",
    )


async def test_an_older_state_does_not_replace_a_newer_one(pool: asyncpg.Pool) -> None:
    s = store(pool)
    await add_agent(pool, "dana", twilio="WK1")
    await s.record("twilio", Parsed(events=[state("WK1", 100, "on_call", "e2")]), T0)
    await s.record("twilio", Parsed(events=[state("WK1", 50, "available", "e1")]), T0)
    (dana,) = (await s.presence(at(200))).items
    assert (dana.state, dana.since) == ("on_call", at(100))
    batch = [state("WK1", 300, "after_call_work", "e3"), state("WK1", 400, "on_call", "e4")]
    await s.record("twilio", Parsed(events=batch), T0)
    (dana,) = (await s.presence(at(500))).items
    # on_call again, but since the change at 400, not the first on_call at 100.
    assert (dana.state, dana.since) == ("on_call", at(400))


async def test_a_silent_source_makes_its_agents_unknown(pool: asyncpg.Pool) -> None:
    s = store(pool)
    await add_agent(pool, "dana", amazon_connect="arn:agent/1")
    await s.record("amazon_connect", Parsed(events=[state("arn:agent/1", 0, "available", "e")]), T0)
    assert (await s.presence(at(200))).items[0].state == "available"
    (dana,) = (await s.presence(at(301))).items
    assert (dana.state, dana.source) == ("unknown", "amazon_connect")
    beat = state("arn:agent/1", 290, "available", "hb")
    await s.record("amazon_connect", Parsed(events=[beat]), T0)
    (dana,) = (await s.presence(at(301))).items
    assert (dana.state, dana.since) == ("available", at(0))


async def test_schedule_and_back_office_work(pool: asyncpg.Pool) -> None:
    s = store(pool)
    await add_agent(pool, "dana")
    shift = ScheduleEntry(kind="shift", start=T0, end=at(8 * 3600))
    lunch = ScheduleEntry(kind="break", start=at(3 * 3600), end=at(3.5 * 3600))
    kept = await s.put_schedule("dana", Schedule(items=[shift, lunch]))
    assert kept == [shift, lunch]
    assert (await s.presence(at(60))).items[0].state == "unknown"
    assert (await s.presence(at(3 * 3600 + 60))).items[0].state == "break"
    assert (await s.presence(at(9 * 3600))).items[0].state == "offline"
    await pool.execute(
        "INSERT INTO task_types (name, sla_minutes, handle_minutes) VALUES ('t', 60, 10)"
    )
    await pool.execute(
        "INSERT INTO tasks (source, external_id, type, title, status, holder, due_at,"
        " request_hash, claimed_at) VALUES ('s', '1', 't', 'T', 'in_progress', 'dana', $1,"
        " 'h', $2)",
        at(86400),
        at(100),
    )
    (dana,) = (await s.presence(at(200))).items
    assert (dana.state, dana.since, dana.source) == ("back_office", at(100), "blendbot")
    # Every entry overlapping the new span is replaced.
    morning = Schedule(start=T0, end=at(4 * 3600), items=[])
    assert await s.put_schedule("dana", morning) == []
    assert await pool.fetchval("SELECT count(*) FROM agent_schedules") == 0
    with pytest.raises(UnknownAgent, match="nobody"):
        await s.put_schedule("nobody", Schedule(items=[shift]))


async def test_generic_agent_ids_are_the_rosters(pool: asyncpg.Pool) -> None:
    s = store(pool)
    await add_agent(pool, "dana")
    await s.record("generic", Parsed(events=[state("dana", 0, "on_call", "e")]), T0)
    listed = await s.presence(at(5))
    assert [(p.agent_id, p.state) for p in listed.items] == [("dana", "on_call")]
    assert listed.unmatched == []


async def test_queues_and_ignored_counts(pool: asyncpg.Pool) -> None:
    s = store(pool)
    parsed = Parsed(events=[CallArrived(event_id="w", at=at(0), queue="sales", call_id="w")])
    parsed.ignored["reservation.created"] += 2
    await s.record("twilio", parsed, at(0))
    snapshot = QueueSnapshot(
        event_id="s",
        at=at(5),
        queue="support",
        calls_waiting=3,
        longest_wait_seconds=42,
        agents_available=2,
        agents_on_calls=5,
    )
    await s.record("genesys", Parsed(events=[snapshot]), at(5))
    queues = {q.queue: q for q in await s.queues(at(30))}
    assert (queues["sales"].calls_waiting, queues["sales"].longest_wait_seconds) == (1, 30)
    support = queues["support"]
    assert (support.calls_waiting, support.agents_available, support.reported_by) == (
        3,
        2,
        "genesys",
    )
    assert await s.ignored() == [
        {"source": "twilio", "event_type": "reservation.created", "count": 2, "last_at": at(0)}
    ]


async def test_imported_intervals(pool: asyncpg.Pool) -> None:
    s = store(pool)
    rows = [
        IntervalRow("sales", T0, 40, 36, 4, 200.0),
        IntervalRow("sales", at(900), 10, 10, 0, None),
    ]
    assert await s.import_intervals(rows) == 2
    first, second = await s.intervals("sales", T0, at(3600))
    assert (first.offered, first.aht_seconds, first.service_level, first.imported) == (
        40,
        200.0,
        None,
        True,
    )
    assert second.aht_seconds == 0.0

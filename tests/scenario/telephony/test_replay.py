"""Replaying a recorded day through the feed endpoints."""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from blending.interval_stats import interval_start
from blending.telemetry_store import TelemetryStore
from bot import root
from bot.http.feeds import FeedConfig
from clock import FixedClock
from queues.models import AgentIn
from queues.roster import Roster
from telephony_adapters.replay import Target, replay
from tests.conftest import TOKEN
from tests.support.samples import load

DAY = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
END = DAY + timedelta(hours=10)
KEY = "firehose-key-0123456789"


@pytest.fixture
async def server(pool: asyncpg.Pool) -> AsyncIterator[str]:
    wired = root.Parts(feeds=FeedConfig(firehose_access_key=KEY), clock=FixedClock(END))
    app = root.http_app(pool, wired, tokens=[TOKEN], max_body_bytes=4 * 1024 * 1024)
    test_server = TestServer(app.web)
    await test_server.start_server()
    try:
        yield str(test_server.make_url("")).rstrip("/")
    finally:
        await test_server.close()


def recorded_day(
    calls: int, seed: int = 3
) -> tuple[list[dict[str, Any]], Counter[tuple[str, datetime, str]]]:
    """A day of generic events, and what the statistics must say about it."""
    rng = random.Random(seed)
    events: list[dict[str, Any]] = []
    expected: Counter[tuple[str, datetime, str]] = Counter()
    for n in range(calls):
        queue = rng.choice(["sales", "support"])
        start = DAY + timedelta(seconds=rng.uniform(0, 9.5 * 3600))
        key = (queue, interval_start(start, 15))
        events.append(
            {
                "type": "call_arrived",
                "event_id": f"{n}-a",
                "at": start.isoformat(),
                "queue": queue,
                "call_id": str(n),
            }
        )
        expected[(*key, "offered")] += 1
        wait = rng.uniform(0, 60)
        if rng.random() < 0.1:
            events.append(
                {
                    "type": "call_abandoned",
                    "event_id": f"{n}-x",
                    "at": (start + timedelta(seconds=wait)).isoformat(),
                    "queue": queue,
                    "call_id": str(n),
                }
            )
            expected[(*key, "abandoned")] += 1
            continue
        agent = f"agent-{rng.randrange(5)}"
        answered = start + timedelta(seconds=wait)
        events.append(
            {
                "type": "call_answered",
                "event_id": f"{n}-b",
                "at": answered.isoformat(),
                "queue": queue,
                "call_id": str(n),
                "agent_id": agent,
            }
        )
        events.append(
            {
                "type": "call_ended",
                "event_id": f"{n}-c",
                "at": (answered + timedelta(seconds=180)).isoformat(),
                "queue": queue,
                "call_id": str(n),
                "agent_id": agent,
                "talk_seconds": 180,
                "wrap_seconds": 20,
            }
        )
        expected[(*key, "answered")] += 1
        expected[(*key, "in_sl")] += wait <= 20
    for n in range(5):
        events.append(
            {
                "type": "agent_state",
                "event_id": f"s{n}",
                "at": DAY.isoformat(),
                "agent_id": f"agent-{n}",
                "state": "available",
            }
        )
    events.append(
        {
            "type": "agent_state",
            "event_id": "s-last",
            "at": END.isoformat(),
            "agent_id": "agent-0",
            "state": "break",
        }
    )
    events.sort(key=lambda e: e["at"])
    return events, expected


async def test_a_replayed_day_gives_the_right_statistics_and_presence(
    server: str, pool: asyncpg.Pool, tmp_path: Path
) -> None:
    for n in range(5):
        await Roster(pool).put(f"agent-{n}", AgentIn(name=f"Agent {n}"))
    events, expected = recorded_day(400)
    recording = tmp_path / "day.jsonl"
    recording.write_text("".join(json.dumps(e) + "\n" for e in events))
    seen: list[int] = []
    async with ClientSession() as session:
        report = await replay(
            recording,
            source="generic",
            target=Target(server, token=TOKEN),
            speed=1e9,
            progress=lambda sent, total: seen.append(sent),
            session=session,
        )
    assert (report.sent, report.failed) == (len(events), 0)
    assert seen[-1] == len(events)
    store = TelemetryStore(pool, interval_minutes=15, service_level_seconds=20)
    for queue in ("sales", "support"):
        for row in await store.intervals(queue, DAY, END):
            key = (queue, row.interval_start)
            assert row.offered == expected[(*key, "offered")]
            assert row.answered == expected[(*key, "answered")]
            assert row.abandoned == expected[(*key, "abandoned")]
            settled = row.answered + row.abandoned
            assert row.service_level == pytest.approx(expected[(*key, "in_sl")] / settled)
            if row.answered:
                assert row.aht_seconds == pytest.approx(200)
    total = sum(v for k, v in expected.items() if k[2] == "offered")
    rows = await store.intervals("sales", DAY, END) + await store.intervals("support", DAY, END)
    assert sum(r.offered for r in rows) == total == 400
    presence = {p.agent_id: p.state for p in (await store.presence(END)).items}
    assert presence == {"agent-0": "break", **{f"agent-{n}": "available" for n in range(1, 5)}}


async def test_replay_through_firehose(server: str, pool: asyncpg.Pool, tmp_path: Path) -> None:
    recording = tmp_path / "connect.jsonl"
    records = [
        load("amazon_connect_agent_event_state_change_acw_exit.json"),
        load("amazon_connect_contact_event_connected_to_agent_detail.json"),
    ]
    recording.write_text("".join(json.dumps(r) + "\n" for r in records))
    report = await replay(
        recording,
        source="amazon-connect",
        target=Target(server, firehose_access_key=KEY),
        speed=1e9,
    )
    assert (report.sent, report.failed) == (2, 0)
    assert await pool.fetchval("SELECT count(*) FROM telephony_events") == 2
    wrong = await replay(
        recording,
        source="amazon-connect",
        target=Target(server, firehose_access_key="x"),
        speed=1e9,
    )
    assert wrong.failed == 2

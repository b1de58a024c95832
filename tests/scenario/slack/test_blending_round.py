"""The tick's blending round in the service, end to end: feeds and a fitted forecast in, an
offer DM'd, a claim clicked, calls rising, a recall DM'd, and the recall lifted when calm."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from blending.forecast_store import ForecastSettings, refresh
from blending.interval_stats import interval_start
from blending.policy import policy_for
from blending.switch import BlendingState
from blending.telemetry_store import IntervalRow, TelemetryStore
from bot.blending_round import Blender
from bot.metrics import Metrics
from bot.work import ask_for_work
from queues.dispatch import DispatchSettings, NoOffer
from queues.models import AgentIn
from queues.roster import Roster
from telephony_adapters import generic
from tests.conftest import AUTH
from tests.support.slack import BEN, DANA, SUPERVISOR, Harness, seed

CY = "U0CY000001"


async def _feed(pool: asyncpg.Pool, events: list[dict[str, Any]], now: datetime) -> None:
    await TelemetryStore(pool).record("generic", generic.parse(events), now)


def _state(agent: str, state: str, at: datetime, n: int) -> dict[str, Any]:
    return {
        "type": "agent_state",
        "event_id": f"s{n}",
        "at": at.isoformat(),
        "agent_id": agent,
        "state": state,
    }


def _call(n: int, at: datetime, kind: str = "call_arrived") -> dict[str, Any]:
    return {
        "type": kind,
        "event_id": f"{kind}{n}",
        "at": at.isoformat(),
        "queue": "sales",
        "call_id": f"c{n}",
    }


async def _history(pool: asyncpg.Pool, now: datetime) -> None:
    """Three weeks of a quiet queue (two calls a quarter hour), then its forecast."""
    start = interval_start(now, 15) - timedelta(days=21)
    rows = [
        IntervalRow("sales", start + timedelta(minutes=15 * i), 2, 2, 0, 180.0)
        for i in range(21 * 96)
    ]
    await TelemetryStore(pool).import_intervals(rows)
    outcome = await refresh(pool, now, ForecastSettings())
    assert outcome == {"sales": None}


async def _center(pool: asyncpg.Pool, now: datetime, tasks: int) -> None:
    """Dana, Ben and Cy available for the quiet queue, where a call has just come in."""
    await seed(pool, tasks=tasks)
    await Roster(pool).put("cy", AgentIn(name="Cy Ray", slack_user_id=CY, skills={"billing": 1}))
    await _history(pool, now)
    states = [
        _state(a, "available", now - timedelta(minutes=5), i)
        for i, a in enumerate(("dana", "ben", "cy"))
    ]
    await _feed(pool, [*states, _call(0, now - timedelta(minutes=3))], now)


async def test_offer_claim_recall_and_calm_again(slack: Harness) -> None:
    pool = slack.pool
    now = datetime.now(UTC)
    await _center(pool, now, tasks=3)
    await _feed(pool, [_call(0, now - timedelta(minutes=3), "call_answered")], now)
    metrics = Metrics()
    blender = Blender(
        pool,
        BlendingState(pool),
        policy_for("forecast_guard"),
        DispatchSettings(),
        notifier=slack.slack.notifier,
        metrics=metrics,
    )

    first = await blender.step(now)
    assert first is not None
    assert first.acted.offers, first.decision.groups
    offer = first.acted.offers[0]
    holder = {"dana": DANA, "ben": BEN, "cy": CY}[offer.holder or ""]
    # The round's windows are kept, for any instance serving an agent's `/next`.
    kept = {r["agent_id"] for r in await pool.fetch("SELECT agent_id FROM blending_windows")}
    assert kept == {w.agent_id for w in first.decision.windows}
    assert offer.holder in kept
    await slack.drain()
    posted = slack.standin.calls_to("chat.postMessage", ok=True)
    assert any(c.args.get("channel") == slack.standin.dm_of(holder) for c in posted)
    status = await slack.click(holder, "claim", str(offer.id), block_id=f"offer:{offer.id}")
    assert status == 200
    assert await pool.fetchval("SELECT status FROM tasks WHERE id = $1", offer.id) == "in_progress"

    later = now + timedelta(seconds=30)
    await _feed(pool, [_call(n, later - timedelta(seconds=40)) for n in range(1, 6)], later)
    rising = await blender.step(later)
    assert rising is not None
    assert rising.acted.recalled == [offer.holder]
    assert rising.decision.windows == []
    assert await pool.fetchval("SELECT count(*) FROM blending_windows") == 0
    verdict = await pool.fetchval("SELECT reason FROM blending_groups WHERE grp = 'all queues'")
    assert "calls" in verdict
    await slack.drain()
    recall = [
        c
        for c in slack.standin.calls_to("chat.postMessage", ok=True)
        if "Calls are rising" in str(c.args.get("text"))
    ]
    assert [c.args.get("channel") for c in recall] == [slack.standin.dm_of(holder)]
    exposed = metrics.render().decode()
    assert "blendbot_recalls_total 1.0" in exposed
    assert 'blendbot_guard_mode{group="all queues"} 2.0' in exposed
    refused = await ask_for_work(
        pool, offer.holder or "", 30, DispatchSettings(), datetime.now(UTC)
    )
    assert isinstance(refused, NoOffer)
    assert "phones" in refused.reason

    answered = [_call(n, later, "call_answered") for n in range(1, 6)]
    await _feed(pool, answered, later)
    # The late answers weigh on the recent service level for a quarter of an hour; once they
    # are out of it, the queue must stay calm for the guard's calm spell.
    quiet = later + timedelta(minutes=31)
    calm = await blender.step(quiet)
    assert calm is not None
    assert calm.acted.cleared == []
    assert [g.guard.mode for g in calm.decision.groups.values()] == ["recall"]
    opened = await blender.step(quiet + timedelta(seconds=200))
    assert opened is not None
    assert opened.acted.cleared == [offer.holder]
    assert not isinstance(
        await ask_for_work(pool, "dana", 30, DispatchSettings(), datetime.now(UTC)), NoOffer
    )


async def test_the_supervisors_home_shows_the_lull_windows_and_the_guard(slack: Harness) -> None:
    pool = slack.pool
    now = datetime.now(UTC)
    await _center(pool, now, tasks=1)
    response = await slack.event(
        {"type": "app_home_opened", "user": SUPERVISOR, "channel": "D0SUPER", "tab": "home"},
        "Ev-home-1",
    )
    assert response.status == 200
    await slack.drain()
    view = slack.standin.homes[SUPERVISOR]
    text = json.dumps(view)
    assert "Agents: available 3" in text
    assert "guard open" in text
    assert re.search(r"lull windows in the next 8 h: \d\d:\d\d-\d\d:\d\d \(\d spare\)", text)


async def test_a_recall_withdraws_open_offers_and_their_claim_is_refused(slack: Harness) -> None:
    pool = slack.pool
    now = datetime.now(UTC)
    await _center(pool, now, tasks=3)
    await _feed(pool, [_call(0, now - timedelta(minutes=3), "call_answered")], now)
    blender = Blender(
        pool,
        BlendingState(pool),
        policy_for("forecast_guard"),
        DispatchSettings(),
        notifier=slack.slack.notifier,
    )
    first = await blender.step(now)
    assert first is not None
    assert first.acted.offers
    offers = {t.id: t.holder or "" for t in first.acted.offers}
    users = {"dana": DANA, "ben": BEN, "cy": CY}
    await slack.drain()
    cards = {i: slack.card(users[a])[-1] for i, a in offers.items()}

    later = now + timedelta(seconds=30)
    await _feed(pool, [_call(n, later - timedelta(seconds=40)) for n in range(1, 6)], later)
    rising = await blender.step(later)
    assert rising is not None
    assert sorted(rising.acted.recalled) == sorted(offers.values())
    assert {(w.task.id, w.agent_id) for w in rising.acted.withdrawn} == set(offers.items())
    rows = await pool.fetch("SELECT status, holder FROM tasks WHERE id = ANY($1)", list(offers))
    assert {(r["status"], r["holder"]) for r in rows} == {("queued", None)}
    reasons = await pool.fetch(
        "SELECT task_id, reason FROM task_events WHERE event = 'withdrawn' ORDER BY task_id"
    )
    assert [(r["task_id"], r["reason"]) for r in reasons] == [
        (i, "withdrawn: recalled to the phones") for i in sorted(offers)
    ]
    await slack.drain()
    for task_id, agent in offers.items():
        # The offer card is updated in place: same message, no Claim button any more.
        card = next(c for c in slack.card(users[agent]) if c["ts"] == cards[task_id]["ts"])
        assert "withdrawn: recalled to the phones" in str(card["text"])
        assert '"claim"' not in json.dumps(card["blocks"])

    task_id, agent = next(iter(offers.items()))
    status = await slack.click(users[agent], "claim", str(task_id), block_id=f"offer:{task_id}")
    assert status == 200
    await slack.drain()
    notices = [
        str(c.args.get("text"))
        for c in slack.standin.calls_to("chat.postEphemeral", ok=True)
        if c.args.get("user") == users[agent]
    ]
    assert any("withdrawn: recalled to the phones" in n for n in notices), notices
    api = await slack.client.post(
        f"/api/v1/tasks/{task_id}/claim", json={"agent_id": agent}, headers=AUTH
    )
    assert api.status == 409
    error = (await api.json())["error"]
    assert error["code"] == "offer_withdrawn"
    assert "withdrawn: recalled to the phones" in error["message"]
    assert await pool.fetchval("SELECT status FROM tasks WHERE id = $1", task_id) == "queued"
    refused = await slack.client.post(
        f"/api/v1/agents/{agent}/next", json={"minutes": 30}, headers=AUTH
    )
    answer = await refused.json()
    assert answer["offer"] is None
    assert "phones" in answer["reason"]

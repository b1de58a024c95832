"""The blending round records its decisions with the figures behind them: each lend (an
offer in a window), each change of the guard and each recall, read back newest first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from blending import decision_log
from blending.forecast_store import ForecastSettings, refresh
from blending.interval_stats import interval_start
from blending.policy import policy_for
from blending.switch import BlendingState
from blending.telemetry_store import IntervalRow, TelemetryStore
from bot.blending_round import Blender
from queues.catalog import Catalog
from queues.dispatch import DispatchSettings
from queues.models import AgentIn, TaskIn, TaskTypeIn
from queues.roster import Roster
from queues.tasks import Tasks
from telephony_adapters import generic

GROUP = "all queues"


def _event(n: str, at: datetime, **fields: Any) -> dict[str, Any]:
    return {"event_id": n, "at": at.isoformat(), **fields}


async def _feed(pool: asyncpg.Pool, events: list[dict[str, Any]], now: datetime) -> None:
    await TelemetryStore(pool).record("generic", generic.parse(events), now)


def _calls(first: int, n: int, at: datetime, kind: str) -> list[dict[str, Any]]:
    return [
        _event(f"{kind}{i}", at, type=kind, queue="sales", call_id=f"c{i}")
        for i in range(first, first + n)
    ]


async def _center(pool: asyncpg.Pool, now: datetime) -> None:
    """Ana, Ben and Cy available for a quiet queue (two calls a quarter hour, forecast from
    three weeks of history), with four billing tasks waiting."""
    await Catalog(pool).put(
        "billing", TaskTypeIn(skills=["billing"], sla_minutes=600, handle_minutes=10)
    )
    for name in ("ana", "ben", "cy"):
        await Roster(pool).put(name, AgentIn(name=name.title(), skills={"billing": 2}))
    items = [TaskIn(source="s", external_id=str(i), type="billing", title=str(i)) for i in range(4)]
    await Tasks(pool).create_many(items, "test")
    start = interval_start(now, 15) - timedelta(days=21)
    rows = [
        IntervalRow("sales", start + timedelta(minutes=15 * i), 2, 2, 0, 180.0)
        for i in range(21 * 96)
    ]
    await TelemetryStore(pool).import_intervals(rows)
    assert await refresh(pool, now, ForecastSettings()) == {"sales": None}
    states = [
        _event(f"s{a}", now - timedelta(minutes=5), type="agent_state", agent_id=a, state=up)
        for a, up in (("ana", "available"), ("ben", "available"), ("cy", "available"))
    ]
    arrived = _calls(0, 1, now - timedelta(minutes=3), "call_arrived")
    answered = _calls(0, 1, now - timedelta(minutes=3), "call_answered")
    await _feed(pool, [*states, *arrived, *answered], now)


async def test_a_round_records_lends_guard_changes_and_recalls_with_their_figures(
    pool: asyncpg.Pool,
) -> None:
    now = datetime.now(UTC)
    await _center(pool, now)
    blender = Blender(pool, BlendingState(pool), policy_for("forecast_guard"), DispatchSettings())

    first = await blender.step(now)
    assert first is not None
    assert first.acted.offers
    lends = (await decision_log.recent(pool, events=["lend_offered"])).items
    assert {(d.agent_id, d.task_id) for d in lends} == {
        (t.holder, t.id) for t in first.acted.offers
    }
    windows = {w.agent_id: w for w in first.decision.windows}
    for lend in lends:
        f = lend.figures
        assert f is not None
        assert f.window is not None
        window = windows[lend.agent_id or ""]
        assert (f.window.end, f.window.confidence) == (window.end, window.confidence)
        assert f.window.minutes == round(window.minutes, 1)
        assert (lend.group, lend.actor, lend.at) == (GROUP, "blendbot", now)
        assert f.policy == "forecast_guard"
        assert f.guard == "open"
        assert f.tripped == ()
        assert f.forecast_calls is not None
        assert f.forecast_calls > 0
        assert f.need is not None
        assert f.staffed == 3
        assert f.lent == 0
        assert f.surplus == f.staffed - f.need - f.reserve
        assert f.surplus == first.decision.groups[GROUP].surplus_now
        assert f.calls_waiting == 0
        assert f.idle == 3
        assert f"task #{lend.task_id} offered" in (lend.reason or "")

    soon = now + timedelta(seconds=15)
    await _feed(pool, _calls(1, 2, soon - timedelta(seconds=5), "call_arrived"), soon)
    await blender.step(soon)
    (hold,) = (await decision_log.recent(pool, events=["guard"])).items
    assert hold.reason == "hold: 2 calls waiting: offers on hold"
    assert hold.figures is not None
    assert (hold.figures.guard, hold.figures.tripped) == ("hold", ("hold_waiting",))
    assert (hold.figures.calls_waiting, hold.figures.lent) == (2, len(first.acted.offers))

    later = now + timedelta(seconds=30)
    await _feed(pool, _calls(3, 3, later - timedelta(seconds=40), "call_arrived"), later)
    rising = await blender.step(later)
    assert rising is not None
    assert rising.acted.recalled
    guard = (await decision_log.recent(pool, events=["guard"], limit=1)).items[0]
    assert guard.reason is not None
    assert guard.reason.startswith("recall: calls are rising")
    assert guard.figures is not None
    assert (guard.figures.guard, guard.figures.calls_waiting) == ("recall", 5)
    assert {"recall_waiting", "recall_wait_seconds"} <= set(guard.figures.tripped)
    assert guard.figures.lent == len(first.acted.offers)
    assert guard.figures.longest_wait_seconds is not None
    assert guard.figures.longest_wait_seconds >= 40
    recalls = (await decision_log.recent(pool, events=["recalled"])).items
    assert sorted(r.agent_id or "" for r in recalls) == sorted(rising.acted.recalled)
    assert all(r.figures == guard.figures for r in recalls)

    answered = _calls(1, 5, later, "call_answered")
    await _feed(pool, answered, later)
    quiet = later + timedelta(minutes=31)
    await blender.step(quiet)
    opened = await blender.step(quiet + timedelta(seconds=200))
    assert opened is not None
    assert opened.acted.cleared
    newest = (await decision_log.recent(pool, events=["guard"], limit=1)).items[0]
    assert newest.reason == "open"
    assert newest.figures is not None
    assert (newest.figures.guard, newest.figures.tripped, newest.figures.calls_waiting) == (
        "open",
        (),
        0,
    )


async def test_the_log_is_read_newest_first_by_page_and_filter(pool: asyncpg.Pool) -> None:
    await Roster(pool).put("ana", AgentIn(name="Ana Mar", skills={}))
    await pool.executemany(
        "INSERT INTO blending_events (event, grp, agent_id, reason) VALUES ($1, $2, $3, 'r')",
        [
            ("guard", "sales", None),
            ("recalled", "sales", "ana"),
            ("recall_cleared", "sales", "ana"),
            ("guard", "care", None),
            ("drift", "care", "bo"),
        ],
    )
    first = await decision_log.recent(pool, limit=2)
    assert [d.id for d in first.items] == [5, 4]
    assert first.next_before == 4
    second = await decision_log.recent(pool, limit=2, before=first.next_before)
    assert [d.id for d in second.items] == [3, 2]
    last = await decision_log.recent(pool, limit=2, before=second.next_before)
    assert ([d.id for d in last.items], last.next_before) == ([1], None)
    by_agent = await decision_log.recent(pool, agent_id="ana")
    assert [(d.event, d.agent_name) for d in by_agent.items] == [
        ("recall_cleared", "Ana Mar"),
        ("recalled", "Ana Mar"),
    ]
    care = await decision_log.recent(pool, group="care", events=["guard"])
    assert [(d.id, d.figures) for d in care.items] == [(4, None)]

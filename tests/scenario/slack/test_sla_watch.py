"""The SLA watch: the supervisors' channel is warned once of each task whose ETA passes its
due time, before that time; the tick runs the watch every few rounds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg

from blending.outlook import ForecastOutlook
from blending.policy import policy_for
from bot.eta_watch import EtaWatch
from bot.tick import Tick
from clock import SYSTEM
from queues.eta_store import EtaStore, WatchSettings
from queues.models import TaskIn
from queues.tasks import Tasks
from tests.support.center import on_shift, store_forecast
from tests.support.slack import CHANNEL, Harness, seed


async def _center(pool: asyncpg.Pool) -> dict[str, int]:
    """Dana and Ben on shift; the calls need both for two hours, then neither."""
    await seed(pool, 0)
    for agent in ("dana", "ben"):
        await on_shift(pool, agent)
    await store_forecast(pool, lambda i: 2 if i < 8 else 0)
    now = datetime.now(UTC)
    dues = {
        "soon": now + timedelta(minutes=90),
        "also soon": now + timedelta(minutes=100),
        "tomorrow": now + timedelta(hours=20),
        "past due": now - timedelta(minutes=1),
    }
    items = [
        TaskIn(source="crm", external_id=name, type="billing", title=name, due_at=due)
        for name, due in dues.items()
    ]
    created = await Tasks(pool).create_many(items, "test")
    return {r.task.external_id: r.task.id for r in created if r.task}


def _watch(slack: Harness) -> EtaWatch:
    outlook = ForecastOutlook(slack.pool, policy_for("forecast_guard"), ttl=timedelta(0))
    return EtaWatch(slack.pool, outlook, slack.slack.notifier, WatchSettings())


def _posts(slack: Harness) -> list[str]:
    return [m.text for (channel, _), m in slack.standin.messages.items() if channel == CHANNEL]


async def test_supervisors_are_warned_once_before_the_breach(slack: Harness) -> None:
    ids = await _center(slack.pool)
    watch = _watch(slack)
    run = await watch.run(datetime.now(UTC))
    assert (run.at_risk, run.warned) == (2, 2)
    await slack.drain()
    (post,) = _posts(slack)
    assert post.startswith(":warning: 2 tasks will likely miss the SLA")
    assert f"#{ids['soon']}" in post
    assert f"#{ids['also soon']}" in post
    assert f"#{ids['tomorrow']}" not in post
    assert f"#{ids['past due']}" not in post  # already breached: not a warning any more
    message = next(m for (c, _), m in slack.standin.messages.items() if c == CHANNEL)
    shown = str(message.blocks)
    assert "likely done" in shown
    assert "the forecast leaves" in shown

    again = await watch.run(datetime.now(UTC))
    assert (again.at_risk, again.warned) == (0, 0)
    await slack.drain()
    assert len(_posts(slack)) == 1
    warned = await slack.pool.fetch("SELECT task_id, eta > due_at AS late FROM eta_warnings")
    assert {r["task_id"] for r in warned} == {ids["soon"], ids["also soon"]}
    assert all(r["late"] for r in warned)


async def test_a_warning_in_flight_twice_is_sent_once(slack: Harness) -> None:
    await _center(slack.pool)
    now = datetime.now(UTC)
    # Two instances that both found the same tasks: the second's warning finds them warned.
    lending = await ForecastOutlook(slack.pool, policy_for("forecast_guard")).lending(now)
    report = await EtaStore(slack.pool).at_risk(now, lending, WatchSettings())
    assert await slack.slack.notifier.sla_risks(report.at_risk) == 2
    assert await slack.slack.notifier.sla_risks(report.at_risk) == 0
    assert (await _watch(slack).run(now)).warned == 0
    await slack.drain()
    assert len(_posts(slack)) == 1


async def test_the_tick_runs_the_watch_every_few_rounds(slack: Harness, db_url: str) -> None:
    await _center(slack.pool)
    watch = _watch(slack)
    tick = Tick(db_url, slack.pool, clock=SYSTEM, watch=watch, watch_every=3)
    try:
        ran = []
        for _ in range(4):
            watch.last = None
            await tick.step()
            ran.append(watch.last is not None)
        assert ran == [True, False, False, True]
    finally:
        await tick._drop()

"""The engine's windows are kept between rounds: an agent lent in one keeps it while they hold
work, asking again after a task gets the rest of it, an idle agent no round grants again loses
it, and so does a recalled agent; each group's verdict is kept to say why nobody is lent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg

from blending import decision_store
from blending.guard import GuardState
from blending.policy import Decision, GroupDecision
from blending.snapshot import POOLED
from blending.windows import UsableWindow
from bot.work import ask_for_work, time_for
from queues.catalog import Catalog
from queues.dispatch import DispatchSettings, Offer
from queues.lifecycle import Lifecycle
from queues.models import AgentIn, TaskIn, TaskTypeIn
from queues.roster import Roster
from queues.tasks import Tasks

BUSY = "the calls need every available agent now"


async def _seed(pool: asyncpg.Pool, tasks: int = 4) -> None:
    await Catalog(pool).put(
        "billing", TaskTypeIn(skills=["billing"], sla_minutes=600, handle_minutes=8)
    )
    for name in ("ana", "ben", "cy"):
        await Roster(pool).put(name, AgentIn(name=name.title(), skills={"billing": 2}))
    items = [
        TaskIn(source="s", external_id=str(i), type="billing", title=f"t{i}") for i in range(tasks)
    ]
    await Tasks(pool).create_many(items, "test")


def _round(*windows: UsableWindow, **kw: object) -> Decision:
    return Decision({POOLED: GroupDecision(POOLED, windows=list(windows), **kw)})  # type: ignore[arg-type]


async def _kept(pool: asyncpg.Pool) -> dict[str, datetime]:
    rows = await pool.fetch("SELECT agent_id, ends_at FROM blending_windows ORDER BY agent_id")
    return {r["agent_id"]: r["ends_at"] for r in rows}


async def test_a_window_lasts_while_lent_and_ends_when_idle_and_not_granted_or_recalled(
    pool: asyncpg.Pool,
) -> None:
    await _seed(pool)
    now = datetime.now(UTC)
    end = now + timedelta(minutes=30)
    first = _round(UsableWindow("ana", now, end, 0.9), UsableWindow("ben", now, end, 1.0))
    acted = await decision_store.act(pool, first, now, DispatchSettings(), {})
    assert await _kept(pool) == {"ana": end, "ben": end}
    offers = {t.holder: t for t in acted.offers}
    assert set(offers) == {"ana", "ben"}
    row = await pool.fetchrow("SELECT * FROM blending_windows WHERE agent_id = 'ana'")
    assert row is not None
    assert (row["grp"], row["starts_at"], row["confidence"]) == (POOLED, now, 0.9)

    # Ana works her task (lent); Ben skips his offer (idle). The next round lends nobody.
    life = Lifecycle(pool)
    await life.claim(offers["ana"].id, "ana")
    await life.skip(offers["ben"].id, "ben", "not now")
    later = now + timedelta(minutes=5)
    await decision_store.act(pool, _round(reason=BUSY), later, DispatchSettings(), {})
    assert await _kept(pool) == {"ana": end}
    assert await decision_store.why_no_window(pool, "ben") == BUSY

    # Done early, Ana asks again: the rest of her window, named.
    await life.complete(offers["ana"].id, "ana", "done", None)
    asked = datetime.now(UTC)
    rest = await time_for(pool, "ana", None, asked, UTC)
    assert rest.minutes is not None
    assert abs(rest.minutes - (end - asked).total_seconds() / 60) < 1e-6
    assert rest.basis == f"until the lull ends at {end:%H:%M}"
    again = await ask_for_work(pool, "ana", None, DispatchSettings(), asked)
    assert isinstance(again, Offer)
    assert again.why[-1].endswith(f"min until the lull ends at {end:%H:%M}")

    # A recall ends the window (and withdraws the offer).
    recall = _round(recall=["ana"], guard=GuardState("recall", later), reason="5 calls waiting")
    recalled = await decision_store.act(pool, recall, later, DispatchSettings(), {})
    assert [w.agent_id for w in recalled.withdrawn] == ["ana"]
    assert await _kept(pool) == {}
    assert await decision_store.window_of(pool, "ana", later) is None


async def test_a_window_granted_again_is_replaced_and_one_past_its_end_is_dropped(
    pool: asyncpg.Pool,
) -> None:
    await _seed(pool, tasks=0)
    now = datetime.now(UTC)
    first = now + timedelta(minutes=20)
    await decision_store.save_plan(pool, _round(UsableWindow("cy", now, first, 1.0)), now)
    second = now + timedelta(minutes=45)
    later = now + timedelta(minutes=1)
    await decision_store.save_plan(pool, _round(UsableWindow("cy", later, second, 0.5)), later)
    assert await _kept(pool) == {"cy": second}
    # Held work keeps a window only until it ends.
    await Tasks(pool).create_many(
        [TaskIn(source="s", external_id="x", type="billing", title="x")], "test"
    )
    task = await Lifecycle(pool).offer(1, "cy", datetime.now(UTC) + timedelta(hours=1), "t", [])
    await Lifecycle(pool).claim(task.id, "cy")
    await decision_store.save_plan(pool, _round(), second - timedelta(seconds=1))
    assert await _kept(pool) == {"cy": second}
    await decision_store.save_plan(pool, _round(), second)
    assert await _kept(pool) == {}
    assert await decision_store.window_of(pool, "cy", now) is None


async def test_the_group_verdicts_are_those_of_the_last_round(pool: asyncpg.Pool) -> None:
    await _seed(pool, tasks=0)
    await Roster(pool).put("rita", AgentIn(name="Rita", skills={}, queue="retail"))
    now = datetime.now(UTC)
    assert "has not planned for all queues yet" in await decision_store.why_no_window(pool, "ana")
    both = Decision(
        {
            POOLED: GroupDecision(POOLED, reason=BUSY),
            "retail": GroupDecision("retail", reason="no forecast yet for retail"),
        }
    )
    await decision_store.save_plan(pool, both, now)
    assert await decision_store.why_no_window(pool, "rita") == "no forecast yet for retail"
    assert await decision_store.why_no_window(pool, "ana") == BUSY
    await decision_store.save_plan(pool, Decision({POOLED: GroupDecision(POOLED, lent=2)}), now)
    assert "has not planned for retail" in await decision_store.why_no_window(pool, "rita")
    assert "lent the spare time in all queues to others" in await decision_store.why_no_window(
        pool, "ana"
    )

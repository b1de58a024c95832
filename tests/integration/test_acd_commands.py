"""State commands are queued by the database in the transaction of the decision that causes
them, whatever the path: the engine's matching round and recall, a pull, a claim, the timers,
a cancellation; for agents whose staffing group is in control mode, and in interruptible mode
for work a call cannot pause."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from blending import acd_store
from blending.acd import AcdModes
from blending.decision_store import act
from blending.guard import GuardState
from blending.policy import Decision, GroupDecision
from blending.windows import UsableWindow
from queues.catalog import Catalog
from queues.dispatch import Dispatcher, DispatchSettings, Offer
from queues.lifecycle import Lifecycle
from queues.matching import Window
from queues.models import AgentIn, TaskIn, TaskTypeIn
from queues.roster import Roster
from queues.rounds import matching_round
from queues.tasks import Tasks
from queues.timers import run_timers

NOW = datetime.now(UTC)


@pytest.fixture(autouse=True)
def _now() -> None:
    """Each test's "now" is when it starts: offers are timed against the server's clock, and a
    module-wide instant would be minutes old by the end of a long run."""
    global NOW
    NOW = datetime.now(UTC)


async def _setup(pool: asyncpg.Pool, tasks: int = 2, pausable: bool = True) -> list[int]:
    await Catalog(pool).put(
        "billing",
        TaskTypeIn(skills=["billing"], sla_minutes=600, handle_minutes=10, pausable=pausable),
    )
    roster = Roster(pool)
    await roster.put("dana", AgentIn(name="Dana", skills={"billing": 3}, queue="retail"))
    await roster.put("ben", AgentIn(name="Ben", skills={"billing": 3}, queue="loans"))
    items = [
        TaskIn(source="crm", external_id=f"B-{n}", type="billing", title=f"Check {n}")
        for n in range(tasks)
    ]
    return [r.task.id for r in await Tasks(pool).create_many(items, "test") if r.task]


async def _commands(pool: asyncpg.Pool, agent_id: str) -> list[tuple[Any, ...]]:
    rows = await pool.fetch(
        "SELECT state, cause, status FROM acd_commands WHERE agent_id = $1 ORDER BY id", agent_id
    )
    return [tuple(r) for r in rows]


async def test_only_groups_in_control_mode_get_commands(pool: asyncpg.Pool) -> None:
    await _setup(pool)
    await acd_store.save_modes(pool, AcdModes("advisory", {"retail": "control"}))
    report = await matching_round(pool, [Window("dana", 60), Window("ben", 60)], now=NOW)
    assert len(report.offers) == 2
    assert await _commands(pool, "dana") == [("backoffice", "task", "pending")]
    assert await _commands(pool, "ben") == []
    reason = await pool.fetchval("SELECT reason FROM acd_commands WHERE agent_id = 'dana'")
    assert reason.endswith("offered")


async def test_the_modes_of_the_settings_replace_the_stored_ones(pool: asyncpg.Pool) -> None:
    await acd_store.save_modes(pool, AcdModes("control", {"retail": "advisory"}))
    await acd_store.save_modes(pool, AcdModes("interruptible"))
    rows = await pool.fetch("SELECT grp, mode FROM acd_modes ORDER BY grp")
    assert [tuple(r) for r in rows] == [("*", "interruptible")]


async def test_instances_starting_together_all_save_their_modes(pool: asyncpg.Pool) -> None:
    """Several instances start at once and each saves the modes: none of them may fail."""
    modes = AcdModes("control", {"retail": "advisory", "loans": "interruptible"})
    await asyncio.gather(*(acd_store.save_modes(pool, modes) for _ in range(8)))
    rows = await pool.fetch("SELECT grp, mode FROM acd_modes ORDER BY grp")
    assert [tuple(r) for r in rows] == [
        ("*", "control"),
        ("loans", "interruptible"),
        ("retail", "advisory"),
    ]


async def test_a_lapsed_offer_and_a_cancelled_task_put_the_agent_back(pool: asyncpg.Pool) -> None:
    first, second = await _setup(pool)
    await acd_store.save_modes(pool, AcdModes("control"))
    life = Lifecycle(pool)
    await life.offer(first, "dana", NOW - timedelta(seconds=1), "test", [])
    await run_timers(pool)  # the offer lapsed
    assert await _commands(pool, "dana") == [
        ("backoffice", "task", "superseded"),
        ("available", "task", "pending"),
    ]
    await life.offer(second, "ben", NOW + timedelta(minutes=5), "test", [])
    await life.claim(second, "ben")  # still back office: no new command
    assert [c[0] for c in await _commands(pool, "ben")] == ["backoffice"]
    await life.cancel(second, "sam", "duplicate")
    assert [c[0] for c in await _commands(pool, "ben")] == ["backoffice", "available"]


async def test_a_paused_task_puts_the_agent_back_and_resuming_lends_them_again(
    pool: asyncpg.Pool,
) -> None:
    await _setup(pool)
    await acd_store.save_modes(pool, AcdModes("control"))
    offer = await Dispatcher(pool, DispatchSettings()).next_for("dana", 60, NOW)
    assert isinstance(offer, Offer)
    task_id = offer.task.id
    life = Lifecycle(pool)
    await life.claim(task_id, "dana")
    await life.pause(task_id, "dana", "a call")
    await life.resume(task_id, "dana")
    states = [c[0] for c in await _commands(pool, "dana")]
    assert states == ["backoffice", "available", "backoffice"]


async def test_the_engines_recall_puts_agents_back_in_the_recalls_transaction(
    pool: asyncpg.Pool,
) -> None:
    (task_id, _) = await _setup(pool)
    await acd_store.save_modes(pool, AcdModes("control"))
    life = Lifecycle(pool)
    await life.offer(task_id, "dana", NOW + timedelta(minutes=5), "test", [])
    await life.claim(task_id, "dana")
    group = GroupDecision(
        "retail", recall=["dana"], guard=GuardState("recall", NOW), reason="5 calls waiting"
    )
    await act(pool, Decision({"retail": group}), NOW, DispatchSettings(), {})
    assert await _commands(pool, "dana") == [
        ("backoffice", "task", "superseded"),  # never sent: the recall overtakes it
        ("available", "recall", "pending"),
    ]
    # The recall ends: she still holds her task in progress, so back office again.
    calm = GroupDecision("retail", guard=GuardState("open"), reason=None)
    await act(pool, Decision({"retail": calm}), NOW, DispatchSettings(), {"retail": group.guard})
    assert [c[1] for c in await _commands(pool, "dana")] == ["task", "recall", "recall_cleared"]


async def test_a_live_recall_ends_when_the_engine_lends_the_agent_again(
    pool: asyncpg.Pool,
) -> None:
    """The live rule recalls while the guard stays open, so no guard clears its recall: the
    round that lends the agent again ends it, and their resumed work takes them out of routing
    again (a recall left in place kept them available while lent, and a later recall sent the
    platform nothing)."""
    (task_id, _) = await _setup(pool)
    await acd_store.save_modes(pool, AcdModes("control"))
    life = Lifecycle(pool)
    await life.offer(task_id, "dana", NOW + timedelta(minutes=5), "test", [])
    await life.claim(task_id, "dana")
    open_ = GuardState("open")
    live = GroupDecision("retail", recall=["dana"], guard=open_, reason="busy")
    await act(pool, Decision({"retail": live}), NOW, DispatchSettings(), {"retail": open_})
    paused = await acd_store.work_for_phones(pool, AcdModes("control"))
    assert [t.id for t in paused.recalled] == [task_id]

    later = NOW + timedelta(minutes=3)
    window = UsableWindow("dana", later, later + timedelta(minutes=20), 1.0)
    lend = GroupDecision("retail", windows=[window], guard=open_)
    guards = {"retail": open_}
    acted = await act(pool, Decision({"retail": lend}), later, DispatchSettings(), guards)
    assert [t.id for t in acted.resume] == [task_id]
    assert acted.cleared == ["dana"]
    assert await pool.fetchval("SELECT count(*) FROM blending_recalls") == 0
    cleared = await pool.fetchrow(
        "SELECT at, reason FROM blending_events WHERE event = 'recall_cleared'"
    )
    assert cleared is not None
    assert cleared["at"] == later
    await life.resume(task_id, "dana")
    assert [c[:2] for c in await _commands(pool, "dana")] == [
        ("backoffice", "task"),
        ("available", "recall"),
        ("backoffice", "task"),
    ]
    # Recalled once more: the platform is told again.
    await act(pool, Decision({"retail": live}), later, DispatchSettings(), {"retail": open_})
    assert (await _commands(pool, "dana"))[-1] == ("available", "recall", "pending")


async def test_the_engine_does_not_lend_an_agent_a_supervisor_recalled(
    pool: asyncpg.Pool,
) -> None:
    await _setup(pool)
    await acd_store.save_modes(pool, AcdModes("control"))
    await acd_store.recall(pool, "dana", "retail", "sam", "a meeting", NOW + timedelta(hours=1))
    window = UsableWindow("dana", NOW, NOW + timedelta(minutes=20), 1.0)
    lend = GroupDecision("retail", windows=[window], guard=GuardState("open"))
    acted = await act(pool, Decision({"retail": lend}), NOW, DispatchSettings(), {})
    assert acted.offers == []
    assert await pool.fetchval("SELECT recalled_by FROM blending_recalls") == "sam"


async def test_an_interruptible_round_offers_only_pausable_work(pool: asyncpg.Pool) -> None:
    await _setup(pool, tasks=1, pausable=False)
    await acd_store.save_modes(pool, AcdModes("interruptible", {"loans": "advisory"}))
    windows = [
        UsableWindow("dana", NOW, NOW + timedelta(minutes=60), 1.0),
        UsableWindow("ben", NOW, NOW + timedelta(minutes=60), 1.0),
    ]
    decision = Decision({"all": GroupDecision("all", windows=windows)})
    acted = await act(pool, decision, NOW, DispatchSettings(), {})
    assert [t.holder for t in acted.offers] == ["ben"]
    assert await _commands(pool, "dana") == []


async def test_interruptible_work_no_call_can_pause_takes_its_holder_out_of_routing(
    pool: asyncpg.Pool,
) -> None:
    # A window the forecast spares without the interruptible extra may take an account
    # opening; the platform is told to take the agent out of routing while they hold it, and
    # to put them back when it is done. Pausable work sends nothing (a call pauses it).
    (unpausable,) = await _setup(pool, tasks=1, pausable=False)
    await acd_store.save_modes(pool, AcdModes("interruptible"))
    window = UsableWindow("dana", NOW, NOW + timedelta(minutes=60), 1.0)
    group = GroupDecision("all", windows=[window], unpausable_ok=["dana"])
    acted = await act(pool, Decision({"all": group}), NOW, DispatchSettings(), {})
    assert [(t.id, t.holder) for t in acted.offers] == [(unpausable, "dana")]
    assert await _commands(pool, "dana") == [("backoffice", "task", "pending")]
    life = Lifecycle(pool)
    await life.claim(unpausable, "dana")
    await life.complete(unpausable, "dana", "Resolved", None)
    assert [c[0] for c in await _commands(pool, "dana")] == ["backoffice", "available"]
    await Catalog(pool).put(
        "letters", TaskTypeIn(skills=["billing"], sla_minutes=600, handle_minutes=10)
    )
    item = TaskIn(source="crm", external_id="L-1", type="letters", title="Letter")
    (made,) = await Tasks(pool).create_many([item], "test")
    assert made.task is not None
    await life.offer(made.task.id, "dana", NOW + timedelta(minutes=5), "test", [])
    await life.claim(made.task.id, "dana")
    assert [c[0] for c in await _commands(pool, "dana")] == ["backoffice", "available"]


async def test_an_agent_removed_takes_their_commands_along(pool: asyncpg.Pool) -> None:
    (task_id, _) = await _setup(pool)
    await acd_store.save_modes(pool, AcdModes("control"))
    start = datetime.now(UTC)
    await acd_store.lend(pool, "dana", "retail", start, start + timedelta(minutes=5), "sam", "x")
    assert [c[1] for c in await _commands(pool, "dana")] == ["lend"]
    await pool.execute("DELETE FROM agents WHERE agent_id = 'dana'")
    assert await pool.fetchval("SELECT count(*) FROM acd_commands") == 0
    assert task_id


@pytest.mark.parametrize("mode", ["advisory", "interruptible"])
async def test_no_commands_for_pausable_work_outside_control_mode(
    pool: asyncpg.Pool, mode: str
) -> None:
    (task_id, _) = await _setup(pool)
    await acd_store.save_modes(pool, AcdModes(mode))  # type: ignore[arg-type]
    life = Lifecycle(pool)
    await life.offer(task_id, "dana", NOW + timedelta(minutes=5), "test", [])
    await life.claim(task_id, "dana")
    await life.complete(task_id, "dana", "Resolved", None)
    assert await pool.fetchval("SELECT count(*) FROM acd_commands") == 0


async def test_changes_at_once_leave_one_open_command_that_matches_the_agent(
    pool: asyncpg.Pool,
) -> None:
    """Lends, recalls and their ends of one agent racing each other: at every moment at most
    one command of hers is open, and the last one says where she should be."""
    await _setup(pool, tasks=0)
    await acd_store.save_modes(pool, AcdModes("control"))
    start = datetime.now(UTC)

    async def lend() -> None:
        await acd_store.lend(pool, "dana", "retail", start, start + timedelta(hours=1), "sam", "x")

    async def recall() -> None:
        await acd_store.recall(pool, "dana", "retail", "sam", "calls", start + timedelta(hours=1))

    async def clear() -> None:
        await acd_store.end_recalls(pool, start + timedelta(hours=2))

    await asyncio.gather(*[f() for _ in range(15) for f in (lend, recall, clear)])
    open_ = await pool.fetchval(
        "SELECT count(*) FROM acd_commands WHERE status IN ('pending', 'sent')"
    )
    assert open_ <= 1
    last = await pool.fetchval(
        "SELECT state FROM acd_commands WHERE agent_id = 'dana' ORDER BY id DESC LIMIT 1"
    )
    assert last == await pool.fetchval("SELECT acd_wanted('dana')")
    states = [c[0] for c in await _commands(pool, "dana")]
    assert all(a != b for a, b in itertools.pairwise(states))  # each one a change

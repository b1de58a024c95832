"""Property: random operations by several agents, some at once, keep the task list sound.

Never two holders, no lost task, and exactly one event row per transition that happened, with
the event log replaying to each task's current state. No agent ever holds more work than one
agent may (``max_tasks_per_agent``, 1 here): holding work means a task offered to the agent,
in progress or paused (``WORK``). An escalated task keeps its holder but waits for a
supervisor, so it does not count: the agent may take other work meanwhile.

Between the agents' races, the guard of a staffing group flips at random (open, hold, recall,
as the blending round records it, recalling whoever of the group holds work). While a group's
guard holds or recalls, none of its agents is given new work (no offer, no reassignment
without an override), and while it recalls, none of them claims an offer: a recall withdrew
them all.

Time worked is kept in segments: a task in progress has exactly one open segment, its
holder's, begun when its active time began, and no other task has one; segments of a task
follow one another without overlapping, one begins at each claim and resume, and no step's
recorded time is more than the segments' time. The timers run among the operations, with
paused work returned at once (``paused_return_minutes=0``).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
from datetime import UTC, datetime

import asyncpg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from blending.decision_store import act, load_guards
from blending.guard import GuardState, Mode
from blending.policy import Decision, GroupDecision
from bot.database import open_pool
from bot.work import ask_for_work, reassign
from queues.catalog import Catalog
from queues.dispatch import HELD_WHY, DispatchSettings, Offer
from queues.errors import QueuesError
from queues.lifecycle import Lifecycle
from queues.models import AgentIn, StepIn, TaskIn, TaskTypeIn
from queues.roster import Roster
from queues.tasks import Tasks
from queues.timers import TimerSettings, run_timers
from tests.conftest import create_database, drop_database, with_database

AGENTS = ("ana", "ben", "cara")
GROUP = {"ana": "retail", "ben": "retail", "cara": "loans"}
MODES: tuple[Mode, ...] = ("open", "hold", "recall")
ACTIONS = (
    "next",
    "claim",
    "skip",
    "complete",
    "pause",
    "resume",
    "release",
    "escalate",
    "reassign",
    "override",
    "cancel",
    "timers",
)
Op = tuple[str, str, int]
AGENT_OPS = st.tuples(st.sampled_from(ACTIONS), st.sampled_from(AGENTS), st.integers(0, 2))
GUARD_OPS = st.tuples(
    st.just("guard"), st.sampled_from(sorted(set(GROUP.values()))), st.integers(0, 2)
)
OPS = st.lists(st.one_of(AGENT_OPS, AGENT_OPS, AGENT_OPS, GUARD_OPS), min_size=1, max_size=30)
HOLDING = {"offered", "in_progress", "paused", "escalated"}
WORK = ["offered", "in_progress", "paused"]
LIMIT = 1


async def _apply(life: Lifecycle, ids: list[int], op: Op) -> int:
    """Run one operation; return how many transitions it made (0 when refused)."""
    action, agent, n = op
    task_id = ids[n]
    if action == "timers":
        report = await run_timers(life.db, TimerSettings(paused_return_minutes=0))
        return sum(
            len(pairs)
            for pairs in (
                report.expired,
                report.nudged,
                report.escalated,
                report.returned,
                report.paused_escalated,
            )
        )
    try:
        if action == "next":
            now = datetime.now(UTC)
            result = await ask_for_work(life.db, agent, 60, DispatchSettings(), now)
            given_back = isinstance(result, Offer) and result.why[0] in HELD_WHY.values()
            return 1 if isinstance(result, Offer) and not given_back else 0
        if action == "claim":
            # Claiming what one already holds is harmless and writes nothing; two claims at
            # once cannot tell which of them moved the task, so claims are counted from the
            # log below, where the replay check catches a second "claimed" row.
            await life.claim(task_id, agent)
            return 0
        if action == "skip":
            await life.skip(task_id, agent, "busy")
        elif action == "complete":
            await life.complete(task_id, agent, "ok", None)
        elif action == "pause":
            await life.pause(task_id, agent)
        elif action == "resume":
            await life.resume(task_id, agent)
        elif action == "release":
            await life.release(task_id, agent)
        elif action == "escalate":
            await life.escalate(task_id, agent, "stuck")
        elif action in ("reassign", "override"):
            await reassign(life, task_id, agent, "supervisor", override=action == "override")
        else:
            await life.cancel(task_id, "supervisor")
    except QueuesError:
        return 0
    return 1


async def _scenario(url: str, ops: list[Op]) -> None:
    async with open_pool(url, min_size=1, max_size=6) as pool:
        steps = [StepIn(name="check", handle_minutes=5), StepIn(name="approve", handle_minutes=5)]
        await Catalog(pool).put("t", TaskTypeIn(sla_minutes=60, handle_minutes=10, steps=steps))
        for agent in AGENTS:
            await Roster(pool).put(agent, AgentIn(name=agent, queue=GROUP[agent]))
        items = [TaskIn(source="s", external_id=str(n), type="t", title="x") for n in range(3)]
        ids = sorted(r.task.id for r in await Tasks(pool).create_many(items, "t") if r.task)
        life = Lifecycle(pool, skip_cooldown_seconds=0)
        made = 0
        for chunk in _chunks(ops):
            if chunk[0][0] == "guard":
                made += await _flip(pool, chunk[0][1], MODES[chunk[0][2]])
                continue
            seen = await pool.fetchval("SELECT coalesce(max(id), 0) FROM task_events")
            made += sum(await asyncio.gather(*(_apply(life, ids, o) for o in chunk)))
            await _check_guard_held(pool, seen)
            over = await pool.fetch(
                "SELECT holder, array_agg(id ORDER BY id) AS ids FROM tasks"
                " WHERE status = ANY ($1::text[]) GROUP BY holder HAVING count(*) > $2",
                WORK,
                LIMIT,
            )
            assert over == [], [dict(r) for r in over]
        tasks = await pool.fetch("SELECT id, status, holder FROM tasks ORDER BY id")
        assert [t["id"] for t in tasks] == ids
        for task in tasks:
            assert (task["holder"] is not None) == (task["status"] in HOLDING), dict(task)
            events = await pool.fetch(
                "SELECT from_status, to_status FROM task_events WHERE task_id = $1 ORDER BY id",
                task["id"],
            )
            state = None
            for event in events:
                assert event["from_status"] == state
                state = event["to_status"]
            assert state == task["status"]
        total = await pool.fetchval("SELECT count(*) FROM task_events")
        claims = await pool.fetchval("SELECT count(*) FROM task_events WHERE event = 'claimed'")
        assert total == len(ids) + made + claims
        await _check_time(pool)


async def _check_time(pool: asyncpg.Pool) -> None:
    for task in await pool.fetch("SELECT * FROM tasks ORDER BY id"):
        spans = await pool.fetch(
            "SELECT * FROM task_segments WHERE task_id = $1 ORDER BY id", task["id"]
        )
        open_ = [s for s in spans if s["ended_at"] is None]
        working = task["status"] == "in_progress"
        assert (task["active_since"] is not None) == working, dict(task)
        assert len(open_) == (1 if working else 0), [dict(s) for s in spans]
        if working:
            (s,) = open_
            assert (s["agent_id"], s["step"], s["started_at"]) == (
                task["holder"],
                task["step"],
                task["active_since"],
            )
        assert task["active_seconds"] >= 0
        if task["status"] in ("queued", "offered", "done", "cancelled"):
            assert task["active_seconds"] == 0, dict(task)
        for before, after in itertools.pairwise(spans):
            assert before["ended_at"] is not None
            assert before["ended_at"] <= after["started_at"]
        assert all(s["ended_at"] is None or s["started_at"] <= s["ended_at"] for s in spans)
        starts = await pool.fetch(
            "SELECT event, count(*) AS n FROM task_events"
            " WHERE task_id = $1 AND event IN ('claimed', 'resumed') GROUP BY event",
            task["id"],
        )
        by = {s["started_by"] for s in spans}
        assert by <= {"claimed", "resumed", "reassigned"}
        for row in starts:
            assert sum(1 for s in spans if s["started_by"] == row["event"]) == row["n"]
        total = sum(
            ((s["ended_at"] or s["started_at"]) - s["started_at"]).total_seconds() for s in spans
        )
        assert task["active_seconds"] <= total + 1e-6
        recorded = await pool.fetchval(
            "SELECT coalesce(sum((data ->> 'worked_seconds')::float8), 0) FROM task_events"
            " WHERE task_id = $1 AND event IN ('completed', 'step_completed')",
            task["id"],
        )
        assert recorded <= total + 1e-6


def _chunks(ops: list[Op]) -> list[list[Op]]:
    """The agents' operations three at a time, to race; a guard flip alone, between races."""
    out: list[list[Op]] = []
    for op in ops:
        if op[0] == "guard" or not out or out[-1][0][0] == "guard" or len(out[-1]) == 3:
            out.append([op])
        else:
            out[-1].append(op)
    return out


async def _flip(pool: asyncpg.Pool, group: str, mode: Mode) -> int:
    """The guard of ``group`` goes to ``mode`` as the blending round records it: in recall,
    whoever of the group holds work or an offer is recalled. Returns the offers withdrawn
    (each a transition with its event row)."""
    holders = await pool.fetch(
        "SELECT DISTINCT holder FROM tasks WHERE holder = ANY ($1::text[])"
        " AND status = ANY ($2::text[])",
        [a for a in AGENTS if GROUP[a] == group],
        WORK,
    )
    now = datetime.now(UTC)
    recall = [r["holder"] for r in holders] if mode == "recall" else []
    decision = Decision({group: GroupDecision(group, recall=recall, guard=GuardState(mode, now))})
    before = await load_guards(pool)
    acted = await act(pool, decision, now, DispatchSettings(), before)
    assert all(w.agent_id in recall for w in acted.withdrawn)
    left = await pool.fetchval(
        "SELECT count(*) FROM tasks WHERE status = 'offered' AND holder = ANY ($1::text[])",
        recall,
    )
    assert left == 0, "a recall leaves no offer standing"
    return len(acted.withdrawn)


async def _check_guard_held(pool: asyncpg.Pool, after: int) -> None:
    """Since event ``after``, no agent of a group whose guard holds or recalls was given new
    work without an override, and none of a recalling group claimed an offer."""
    guards = {g: s.mode for g, s in (await load_guards(pool)).items()}
    for event in await pool.fetch(
        "SELECT event, actor, data, task_id FROM task_events WHERE id > $1 ORDER BY id", after
    ):
        data = json.loads(event["data"]) if isinstance(event["data"], str) else event["data"]
        agent = {
            "offered": (data or {}).get("agent_id"),
            "reassigned": (data or {}).get("to_agent_id"),
            "claimed": event["actor"],
        }.get(event["event"])
        if agent is None:
            continue
        mode = guards.get(GROUP[agent], "open")
        if event["event"] == "claimed":
            assert mode != "recall", f"{agent} claimed task {event['task_id']} while recalled"
        elif event["event"] == "reassigned":
            assert mode == "open" or "override" in data, f"{agent} given work under {mode}"
        else:
            assert mode == "open", f"{agent} offered task {event['task_id']} under {mode}"


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=OPS)
def test_random_operations_keep_the_task_list_sound(
    server_url: str, template_db: str, ops: list[Op]
) -> None:
    failure: list[BaseException] = []

    async def run() -> None:
        name = await create_database(server_url, template_db)
        try:
            await _scenario(with_database(server_url, name), ops)
        finally:
            await drop_database(server_url, name)

    def thread() -> None:
        try:
            asyncio.run(run())
        except BaseException as exc:  # handed to the test's thread below
            failure.append(exc)

    worker = threading.Thread(target=thread)
    worker.start()
    worker.join()
    if failure:
        raise failure[0]

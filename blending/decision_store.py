"""Carrying out a blending decision: offers for the windows, resumptions, recalls.

The one place where a decision of :mod:`blending.policy` meets the database, for the service's
tick and for the simulator alike. An agent given a window who holds paused work is asked to
resume it rather than offered more; the other windows go to one matching round
(:func:`queues.rounds.matching_round`). Recalls are recorded (an agent recalled is offered
nothing until the guard clears or, for a recall made while the guard stays open, until a round
lends them again; a supervisor's recall holds until its end) with an event each, and so is
every change of the guard's mode.
A recalled agent's open offers are withdrawn in the same transaction as the recall. Each lend
(an offer made in a window: ``lend_offered``), recall and change of the guard is recorded with
the figures behind it (:mod:`blending.figures`), in the transaction of the change.

The windows and each group's verdict are kept (``blending_windows``, ``blending_groups``), so
that an agent asking for work between rounds, on any instance, is given the time the engine
planned for them (:func:`window_of`, :func:`why_no_window`). A window granted again replaces
the agent's last one; one not granted again is kept while its agent holds work (they were lent
in it: completing a task mid-window leaves them the rest of it) and until it ends; an idle
agent's ends when a round no longer grants it, and a recall ends it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter

from blending.figures import Figures
from blending.guard import GuardState
from blending.policy import Decision, GroupDecision
from blending.schedule import ScheduleRow, ShiftNow, shift_now
from blending.snapshot import staffing_group
from blending.windows import UsableWindow, WorkNeed
from queues.db import Connection, Executor, load_queries, transaction
from queues.dispatch import DispatchSettings
from queues.lifecycle import OffersMade
from queues.matching import Weights, Window
from queues.models import TaskOut
from queues.rounds import RoundReport, matching_round
from queues.tasks import task_out

_SQL = load_queries("blending", "decision_store.sql")
_FIGURES = TypeAdapter(Figures)

WITHDRAWN = "withdrawn: recalled to the phones"
"""The reason on the event of an offer withdrawn by a recall."""


@dataclass(frozen=True)
class Withdrawn:
    task: TaskOut
    """The task, back in the queue."""
    agent_id: str
    """Whom it had been offered to."""


@dataclass(frozen=True)
class GuardHolds:
    """The guard of an agent's staffing group stops new back-office work for them."""

    group: str
    mode: str
    """``hold`` or ``recall``."""
    reason: str | None

    def why(self) -> str:
        """In words for the agent: why nothing is offered, and when to ask again."""
        what = self.reason or "calls are queueing"
        need = "the phones need you" if self.mode == "recall" else "offers are on hold"
        return f"{what} in {self.group}: {need}; ask again when the queue is calm"


@dataclass
class Acted:
    offers: list[TaskOut] = field(default_factory=list)
    resume: list[TaskOut] = field(default_factory=list)
    """Paused tasks whose holder has time again: they are to be resumed."""
    recalled: list[str] = field(default_factory=list)
    """Agents recalled by this round (not those recalled before)."""
    cleared: list[str] = field(default_factory=list)
    """Agents whose recall ended in this round."""
    withdrawn: list[Withdrawn] = field(default_factory=list)
    """Open offers of recalled agents, taken back by this round."""
    round: RoundReport = field(default_factory=RoundReport)


async def waiting_work(db: Executor) -> list[WorkNeed]:
    rows = await db.fetch(_SQL["waiting_work"])
    return [WorkNeed(frozenset(r["skills"]), float(r["minutes"])) for r in rows]


async def load_guards(db: Executor) -> dict[str, GuardState]:
    return {
        r["grp"]: GuardState(r["mode"], r["since"], r["calm_since"])
        for r in await db.fetch(_SQL["guards"])
    }


async def recalled(db: Executor, agent_ids: list[str] | None = None) -> dict[str, str]:
    """Agents asked back to the phones, with why."""
    return {r["agent_id"]: r["reason"] for r in await db.fetch(_SQL["recalled"], agent_ids)}


async def guard_for(db: Executor, agent_id: str) -> GuardHolds | None:
    """The guard of the agent's staffing group, when it holds or recalls (None: open, or no
    such agent)."""
    queue = await db.fetchrow(_SQL["agent_queue"], agent_id)
    if queue is None:
        return None
    group = staffing_group(queue["queue"])
    row = await db.fetchrow(_SQL["guard_of"], group)
    if row is None or row["mode"] == "open":
        return None
    return GuardHolds(group, row["mode"], row["reason"])


async def save_plan(db: Executor, decision: Decision, now: datetime) -> None:
    """Keep the decision's windows and each group's verdict (see the module's docstring)."""
    windows = [(g.group, w) for g in decision.groups.values() for w in g.windows]
    async with transaction(db) as conn:
        await conn.execute(
            _SQL["save_windows"],
            [w.agent_id for _, w in windows],
            [group for group, _ in windows],
            [w.start for _, w in windows],
            [w.end for _, w in windows],
            [w.confidence for _, w in windows],
            now,
        )
        groups = list(decision.groups.values())
        await conn.execute(
            _SQL["save_groups"],
            [g.group for g in groups],
            [g.lent for g in groups],
            [g.surplus_now for g in groups],
            [g.reason for g in groups],
            now,
        )


async def window_of(db: Executor, agent_id: str, now: datetime) -> UsableWindow | None:
    """The window the engine granted the agent, while it lasts."""
    row = await db.fetchrow(_SQL["window_of"], agent_id, now)
    if row is None:
        return None
    return UsableWindow(row["agent_id"], row["starts_at"], row["ends_at"], row["confidence"])


async def why_no_window(db: Executor, agent_id: str) -> str:
    """Why the engine's last round gave the agent no window, from their group's verdict."""
    queue = await db.fetchval(_SQL["agent_queue"], agent_id)
    group = staffing_group(queue)
    row = await db.fetchrow(_SQL["group_verdict"], group)
    if row is None:
        return f"the blending engine has not planned for {group} yet"
    if row["reason"]:
        return str(row["reason"])
    return f"the last blending round lent the spare time in {group} to others"


async def shift_of(db: Executor, agent_id: str, now: datetime) -> ShiftNow:
    """Where the agent's schedule stands now."""
    rows = await db.fetch(_SQL["schedule_of"], agent_id, now)
    entries = [ScheduleRow(r["agent_id"], r["kind"], r["starts_at"], r["ends_at"]) for r in rows]
    return shift_now(entries, now)


async def act(
    db: Executor,
    decision: Decision,
    now: datetime,
    dispatch: DispatchSettings,
    guards_before: Mapping[str, GuardState],
    *,
    weights: Weights | None = None,
) -> Acted:
    """Make the decision's offers, resumptions and recalls; keep its windows and verdicts;
    save the guards that changed."""
    acted = Acted()
    await save_plan(db, decision, now)
    windows = decision.windows
    if windows:
        windows, acted.cleared = await _lend_again(db, windows, now)
    if windows:
        ids = [w.agent_id for w in windows]
        paused: dict[str, TaskOut] = {}
        for row in await db.fetch(_SQL["paused_of"], ids):
            paused.setdefault(row["holder"], task_out(row))
        acted.resume = list(paused.values())
        free = [Window(w.agent_id, w.minutes) for w in windows if w.agent_id not in paused]
        if free:
            # In interruptible groups a call may pause the work: pausable work only, but for
            # the windows the forecast spares without the extra (they leave routing for it).
            interruptible = [
                r["agent_id"]
                for r in await db.fetch(_SQL["interruptible"], [w.agent_id for w in free])
                if r["agent_id"] not in decision.unpausable_ok
            ]
            acted.round = await matching_round(
                db,
                free,
                policy=dispatch,
                weights=weights,
                now=now,
                pausable_only=interruptible,
                then=_lends_recorder(decision, now),
            )
            acted.offers = acted.round.offers
    for group in decision.groups.values():
        if group.recall:
            async with transaction(db) as conn:
                rows = await conn.fetch(
                    _SQL["recall"],
                    group.recall,
                    group.group,
                    group.reason or "",
                    _json(group.figures),
                    now,
                )
                taken = await conn.fetch(
                    _SQL["withdraw_offers"], group.recall, WITHDRAWN, group.group
                )
                await conn.execute(_SQL["end_windows"], group.recall)
            acted.recalled += [r["agent_id"] for r in rows]
            acted.withdrawn += [Withdrawn(task_out(r), r["offered_to"]) for r in taken]
        before = guards_before.get(group.group, GuardState())
        if group.guard == before:
            continue
        g = group.guard
        await db.execute(
            _SQL["save_guard"],
            group.group,
            g.mode,
            g.since,
            g.calm_since,
            group.reason,
            _json(group.figures),
            now,
        )
        if g.mode == "open":
            acted.cleared += [
                r["agent_id"] for r in await db.fetch(_SQL["clear_recalls"], group.group)
            ]
    return acted


async def _lend_again(
    db: Executor, windows: list[UsableWindow], now: datetime
) -> tuple[list[UsableWindow], list[str]]:
    """The windows that may be lent in, and the agents whose recall ends: the engine's own
    recall of an agent it lends again ends here (the live rule recalls while the guard stays
    open, so no guard clears it, and a recall left in place keeps the agent available in the
    platform while lent), each with its event; a supervisor's recall holds, and their window
    goes unused."""
    ids = [w.agent_id for w in windows]
    async with transaction(db) as conn:
        held = {r["agent_id"] for r in await conn.fetch(_SQL["held_by_supervisor"], ids)}
        ended = [r["agent_id"] for r in await conn.fetch(_SQL["end_engine_recalls"], ids, now)]
    return [w for w in windows if w.agent_id not in held], ended


def _json(figures: Figures | None) -> dict[str, Any] | None:
    return None if figures is None else _FIGURES.dump_python(figures, mode="json")


def _lends_recorder(decision: Decision, now: datetime) -> OffersMade:
    """Record each offer the round makes as the engine's lend, with its window and the
    figures of the agent's group, in the offers' transaction."""
    granted: dict[str, tuple[GroupDecision, UsableWindow]] = {
        w.agent_id: (g, w) for g in decision.groups.values() for w in g.windows
    }

    async def record(conn: Connection, offers: list[TaskOut]) -> None:
        lent = [(t, *granted[t.holder]) for t in offers if t.holder in granted]
        if not lent:
            return
        await conn.execute(
            _SQL["lend_offered"],
            now,
            [w.agent_id for _, _, w in lent],
            [g.group for _, g, _ in lent],
            [t.id for t, _, _ in lent],
            [f"task #{t.id} offered in a window of {w.minutes:.0f} min" for t, _, w in lent],
            [_json(g.figures.with_window(w) if g.figures else None) for _, g, w in lent],
        )

    return record

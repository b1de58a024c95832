"""Blending policies: who is lent to the back office now, for how long, and who is recalled.

Pure: the caller passes, per staffing group, the intervals ahead (agents needed and
scheduled), the live queue, and the agents of the group who are on shift and not on a break,
with what each is doing; ``now`` is passed in. Four policies:

* ``none``: nobody is lent;
* ``reserve_k``: an agent is lent only while more than ``k`` of the group are idle (the
  threshold policy of the call-blending literature), for one task at a time;
* ``forecast``: the surplus of the forecast turned into windows (:mod:`blending.windows`);
* ``forecast_guard``: those windows, with the live queue overriding them
  (:mod:`blending.guard`): it stops new offers and recalls lent agents when calls rise; and
  while the live queue shows more agents idle than the calls forecast for the next minute
  need (:mod:`blending.idle_cover`), a short chunk for one more beyond the forecast's
  surplus, called back at the first waiting call.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Literal

from blending.figures import Figures, figures_of
from blending.guard import GuardSettings, GuardState, LiveQueue, guard_step
from blending.idle_cover import idle_kept
from blending.policy_names import Bound, PolicyName
from blending.windows import (
    AgentSlot,
    IntervalNeed,
    UsableWindow,
    WindowSettings,
    WorkNeed,
    fits_some_work,
    plan_windows,
)

Activity = Literal["idle", "on_call", "lent"]


@dataclass(frozen=True)
class BlendPolicy:
    name: PolicyName = "forecast_guard"
    k: int = 2
    """``reserve_k``: agents of a group kept idle for calls."""
    windows: WindowSettings = field(default_factory=WindowSettings)
    guard: GuardSettings = field(default_factory=GuardSettings)
    max_minutes: float = 120.0
    """The longest chunk lent at once."""
    bound: Bound = "hi_80"
    """The forecast figure the calls are staffed for when working out the surplus."""
    interruptible_extra: int = 1
    """Agents lent beyond the forecast's surplus in a group whose calls pause lent work at once
    (``interruptible`` mode): a lent agent is back on the phones the moment a call needs them,
    so the reserve the forecast keeps is partly spare."""
    interruptible_unpausable: bool = False
    """Whether work a call cannot pause may be lent in ``interruptible`` groups, to the windows
    the forecast spares without the extra, its holder out of routing for it: only where
    blendbot can command the platform (a control client is configured)."""
    live_extra: int = 0
    """``forecast_guard``: agents lent beyond the forecast's surplus while the live queue
    shows no call waiting and more agents idle than it keeps (the adaptive threshold of the
    call-blending literature, on top of the forecast's plan); 0: off."""
    live_idle_keep: int = 0
    """Idle agents kept for calls at least before one more is lent on the live queue's word
    (the threshold itself with ``live_cover_seconds`` 0)."""
    live_cover_seconds: float = 60.0
    """The idle agents kept cover the calls forecast to arrive in this long, the time a lent
    agent takes to come back (:mod:`blending.idle_cover`); 0: a fixed ``live_idle_keep``."""
    live_cover_share: float = 0.9
    """How surely the idle agents kept cover those calls (a Poisson quantile)."""
    live_minutes: float = 20.0
    """The longest chunk lent on the live queue's word: short, so the agent is soon back."""
    live_recall_waiting: int = 0
    """Calls waiting at which agents lent beyond the forecast's surplus are called back at
    once, before the guard's own thresholds (0: only the guard recalls)."""
    live_recall_share: float = 0.0
    """The agents lent beyond the forecast's surplus are called back, before any call waits,
    once fewer agents are idle than the calls of ``live_cover_seconds`` need with this
    probability (the same Poisson count as the agents kept, at a lower quantile: the lend
    and the recall thresholds are a band, so the rule does not flap). Decisions come every
    half minute or so and a recalled agent takes seconds more to return, so a recall at the
    first waiting call comes after the target's 20 seconds; at night, when the calls of a
    minute are almost surely none, nobody is recalled this way. 0: off."""


def policy_for(
    name: PolicyName,
    *,
    k: int | None = None,
    safety_margin: int | None = None,
    bound: Bound = "hi_80",
    min_minutes: float = 10.0,
    fit_margin: float = 1.2,
    guard: GuardSettings | None = None,
) -> BlendPolicy:
    """A policy with the defaults that suit it: the forecast alone keeps one agent beyond the
    need; with the guard watching the live queue, the guard is the margin."""
    margin = safety_margin if safety_margin is not None else (0 if name == "forecast_guard" else 1)
    windows = WindowSettings(safety_margin=margin, min_minutes=min_minutes, fit_margin=fit_margin)
    return BlendPolicy(
        name=name,
        k=2 if k is None else k,
        windows=windows,
        guard=guard or GuardSettings(),
        bound=bound,
    )


@dataclass(frozen=True)
class AgentNow:
    """An agent on shift and not on a break, and what they are doing."""

    slot: AgentSlot
    group: str
    activity: Activity
    work_end: datetime | None = None
    """When a lent agent's current task is expected to end."""
    pausable: bool = True
    """Whether a lent agent's current task may be paused."""

    @property
    def agent_id(self) -> str:
        return self.slot.agent_id


@dataclass(frozen=True)
class GroupNow:
    group: str
    ahead: Sequence[IntervalNeed]
    """The intervals ahead; empty when there is no forecast yet."""
    live: LiveQueue | None = None
    problem: str | None = None
    """Why this group's needs are unknown (no forecast, a target that cannot be met)."""
    interruptible: bool = False
    """Whether a call routed to a lent agent of this group pauses their work at once."""


@dataclass
class GroupDecision:
    group: str
    windows: list[UsableWindow] = field(default_factory=list)
    recall: list[str] = field(default_factory=list)
    surplus_now: int = 0
    lent: int = 0
    guard: GuardState = field(default_factory=GuardState)
    reason: str | None = None
    """Why nobody (more) is lent, when nobody is."""
    figures: Figures | None = None
    """The figures the decision rests on (:mod:`blending.figures`)."""
    unpausable_ok: list[str] = field(default_factory=list)
    """In an ``interruptible`` group, the agents of windows the forecast spares without the
    interruptible extra: they may be lent work a call cannot pause, out of routing for it (the
    others only pausable work)."""


@dataclass
class Decision:
    groups: dict[str, GroupDecision] = field(default_factory=dict)

    @property
    def windows(self) -> list[UsableWindow]:
        return [w for g in self.groups.values() for w in g.windows]

    @property
    def recalls(self) -> list[str]:
        return [a for g in self.groups.values() for a in g.recall]

    @property
    def unpausable_ok(self) -> set[str]:
        return {a for g in self.groups.values() for a in g.unpausable_ok}


def decide(
    policy: BlendPolicy,
    now: datetime,
    groups: Sequence[GroupNow],
    agents: Sequence[AgentNow],
    work: Sequence[WorkNeed],
    guards: Mapping[str, GuardState] | None = None,
) -> Decision:
    """One blending decision for every group."""
    members: dict[str, list[AgentNow]] = {g.group: [] for g in groups}
    for a in agents:
        members.setdefault(a.group, []).append(a)
    known = {g.group: g for g in groups}
    decision = Decision()
    for name, people in members.items():
        group = known.get(name, GroupNow(name, (), problem="no inbound queue is known for it"))
        state = (guards or {}).get(name, GuardState())
        decided = _decide_group(policy, now, group, people, work, state)
        decided.figures = figures_of(policy, now, group, people, decided)
        decision.groups[name] = decided
    return decision


def _decide_group(
    p: BlendPolicy,
    now: datetime,
    group: GroupNow,
    people: Sequence[AgentNow],
    work: Sequence[WorkNeed],
    state: GuardState,
) -> GroupDecision:
    lent = [a for a in people if a.activity == "lent"]
    idle = [a.slot for a in people if a.activity == "idle"]
    out = GroupDecision(group.group, lent=len(lent), guard=state)
    if p.name == "none":
        out.reason = "blending policy is none: nobody is lent"
        return out
    if not people:
        out.reason = "no agent is on shift and available for calls"
        return out
    if p.name == "reserve_k":
        out.windows, out.reason = _reserve(p, now, idle, work)
        return out
    if p.name == "forecast_guard":
        if group.live is None:
            out.reason = "no live figures for this queue: the guard cannot see the calls"
            return out
        verdict = guard_step(state, group.live, now, p.guard)
        out.guard = verdict.state
        back = verdict.recall
        if _live_recall(p, now, group.ahead, group.live):
            back = max(back, len(lent) - _surplus(p, now, group, people, work, len(lent)))
        if back > 0:
            out.recall = [a.agent_id for a in _recall_order(lent)[:back]]
        if not verdict.offers_allowed:
            out.reason = verdict.reason
            return out
    if group.problem is not None:
        out.reason = group.problem
        return out
    plan = plan_windows(
        now, group.ahead, idle, work, _windows(p, group), lent=len(lent), staffed_now=len(people)
    )
    cap = now + timedelta(minutes=p.max_minutes)
    out.windows = [_capped(w, cap) for w in plan.windows]
    out.surplus_now = plan.surplus_now
    out.reason = plan.reason
    if group.interruptible and p.interruptible_unpausable:
        out.unpausable_ok = _unpausable_ok(p, lent, out.windows, plan.surplus_now)
    if p.name == "forecast_guard" and p.live_extra > 0 and group.live is not None:
        extra = _live_extra(
            p, now, group.ahead, group.live, idle, out.windows, len(lent), plan.surplus_now, work
        )
        if extra:
            out.windows += extra
            out.reason = None
    return out


def _unpausable_ok(
    p: BlendPolicy, lent: Sequence[AgentNow], windows: Sequence[UsableWindow], surplus: int
) -> list[str]:
    """In an interruptible group, the windows that may take work a call cannot pause: as many
    as the forecast spares without the interruptible extra, less the lent agents already on
    such work. Their holders leave routing for it, so the phones count on them no more than
    on an agent lent in ``control`` mode."""
    room = surplus - p.interruptible_extra - sum(1 for a in lent if not a.pausable)
    return [w.agent_id for w in windows[: max(0, room)]]


def _live_recall(
    p: BlendPolicy, now: datetime, ahead: Sequence[IntervalNeed], live: LiveQueue
) -> bool:
    """Whether the agents lent beyond the forecast's surplus are called back now: a call
    waits, or fewer agents are idle than the next calls need (:func:`recall_below`)."""
    if p.live_recall_waiting > 0 and live.calls_waiting >= p.live_recall_waiting:
        return True
    return p.live_recall_share > 0 and live.idle_agents < recall_below(p, now, ahead)


def recall_below(p: BlendPolicy, now: datetime, ahead: Sequence[IntervalNeed]) -> int:
    """Idle agents below which those lent beyond the forecast's surplus are called back."""
    return idle_kept(
        ahead,
        now,
        floor=0,
        cover_seconds=p.live_cover_seconds,
        cover_share=p.live_recall_share,
        minutes=p.live_minutes,
    )


def _surplus(
    p: BlendPolicy,
    now: datetime,
    group: GroupNow,
    people: Sequence[AgentNow],
    work: Sequence[WorkNeed],
    lent: int,
) -> int:
    """The forecast's surplus now (what the plan alone would lend)."""
    if group.problem is not None:
        return 0
    windows = _windows(p, group)
    return plan_windows(
        now, group.ahead, [], work, windows, lent=lent, staffed_now=len(people)
    ).surplus_now


def _windows(p: BlendPolicy, group: GroupNow) -> WindowSettings:
    if group.interruptible and p.interruptible_extra:
        return replace(p.windows, safety_margin=p.windows.safety_margin - p.interruptible_extra)
    return p.windows


def idle_kept_of(p: BlendPolicy, now: datetime, ahead: Sequence[IntervalNeed]) -> int:
    """Idle agents the live rule keeps for calls now (:mod:`blending.idle_cover`)."""
    return idle_kept(
        ahead,
        now,
        floor=p.live_idle_keep,
        cover_seconds=p.live_cover_seconds,
        cover_share=p.live_cover_share,
        minutes=p.live_minutes,
    )


def _live_extra(
    p: BlendPolicy,
    now: datetime,
    ahead: Sequence[IntervalNeed],
    live: LiveQueue,
    idle: Sequence[AgentSlot],
    planned: Sequence[UsableWindow],
    lent: int,
    surplus: int,
    work: Sequence[WorkNeed],
) -> list[UsableWindow]:
    """Short windows for idle agents beyond the forecast's surplus while the live queue is
    quiet: no call waiting and more agents idle, once the plan's windows are taken out, than
    the calls forecast to arrive while a lent agent comes back need."""
    if live.calls_waiting > 0:
        return []
    keep = idle_kept_of(p, now, ahead)
    room = min(
        live.idle_agents - len(planned) - keep,
        surplus + p.live_extra - lent - len(planned),
    )
    if room <= 0 or not work:
        return []
    taken = {w.agent_id for w in planned}
    cap = now + timedelta(minutes=p.live_minutes)
    out: list[UsableWindow] = []
    for agent in sorted(idle, key=lambda a: (a.minutes_today, a.agent_id)):
        if len(out) == room:
            break
        if agent.agent_id in taken:
            continue
        stop = min(cap, agent.shift_end, agent.next_break or cap)
        minutes = (stop - now).total_seconds() / 60
        if minutes >= p.windows.min_minutes and fits_some_work(agent, work, minutes, p.windows):
            out.append(UsableWindow(agent.agent_id, now, stop, 0.0))
    return out


def _reserve(
    p: BlendPolicy, now: datetime, idle: Sequence[AgentSlot], work: Sequence[WorkNeed]
) -> tuple[list[UsableWindow], str | None]:
    """Lend idle agents beyond the ``k`` kept for calls, least back-office time first."""
    spare = len(idle) - p.k
    if spare <= 0:
        return [], f"{len(idle)} idle, {p.k} kept for calls: nobody is lent"
    if not work:
        return [], "no back-office work is waiting"
    windows: list[UsableWindow] = []
    cap = now + timedelta(minutes=p.max_minutes)
    for agent in sorted(idle, key=lambda a: (a.minutes_today, a.agent_id)):
        if len(windows) == spare:
            break
        stop = min(cap, agent.shift_end, agent.next_break or cap)
        minutes = (stop - now).total_seconds() / 60
        if minutes >= p.windows.min_minutes and fits_some_work(agent, work, minutes, p.windows):
            windows.append(UsableWindow(agent.agent_id, now, stop, 1.0))
    return windows, None if windows else "no idle agent can do waiting work in the time left"


def _capped(window: UsableWindow, cap: datetime) -> UsableWindow:
    if window.end <= cap:
        return window
    return UsableWindow(window.agent_id, window.start, cap, window.confidence)


def _recall_order(lent: Sequence[AgentNow]) -> list[AgentNow]:
    """Whom to call back first: pausable work before work that is not, and among them the
    ones with the most of their task still ahead (who would otherwise be away longest)."""

    def key(a: AgentNow) -> tuple[bool, float, str]:
        end = a.work_end.timestamp() if a.work_end else float("inf")
        return (not a.pausable, -end, a.agent_id)

    return sorted(lent, key=key)

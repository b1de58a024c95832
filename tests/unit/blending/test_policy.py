"""Blending decisions for each policy, and the bad situations that lend nobody (fixed clock)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from blending.guard import GuardState, LiveQueue
from blending.policy import Activity, AgentNow, BlendPolicy, GroupNow, decide, policy_for
from blending.windows import AgentSlot, IntervalNeed, WorkNeed

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
LATE = NOW + timedelta(hours=8)
BILLING = WorkNeed(frozenset({"billing"}), 8)
CALM = LiveQueue(0, 0.0, 0.95, 3)


def agent(
    name: str,
    activity: Activity = "idle",
    *,
    today: float = 0,
    work_end: datetime | None = None,
    pausable: bool = True,
    group: str = "calls",
) -> AgentNow:
    slot = AgentSlot(name, {"billing": 2}, LATE, None, today)
    return AgentNow(slot, group, activity, work_end, pausable)


def needs(*required: int | None, staffed: int | None = None) -> list[IntervalNeed]:
    return [
        IntervalNeed(NOW + timedelta(minutes=15 * i), 15, r, None, staffed)
        for i, r in enumerate(required)
    ]


def test_none_lends_nobody() -> None:
    decision = decide(
        policy_for("none"),
        NOW,
        [GroupNow("calls", needs(0, 0), CALM)],
        [agent("a"), agent("b")],
        [BILLING],
    )
    assert decision.windows == []
    assert "none" in (decision.groups["calls"].reason or "")


def test_reserve_k_lends_the_idle_beyond_k_least_lent_first() -> None:
    people = [agent("a", today=30), agent("b"), agent("c", today=5), agent("d", "on_call")]
    decision = decide(policy_for("reserve_k", k=1), NOW, [GroupNow("calls", ())], people, [BILLING])
    assert [w.agent_id for w in decision.windows] == ["b", "c"]
    assert all(w.minutes == 120 for w in decision.windows)


def test_reserve_k_keeps_k_idle() -> None:
    decision = decide(
        policy_for("reserve_k", k=3),
        NOW,
        [GroupNow("calls", ())],
        [agent("a"), agent("b"), agent("c")],
        [BILLING],
    )
    assert decision.windows == []


def test_forecast_counts_agents_on_calls_as_staffed_and_lent_agents_against_the_surplus() -> None:
    # 6 staffed (3 idle, 2 on calls, 1 lent); 2 needed; margin 1: surplus 3, 1 used already.
    people = [agent("i1"), agent("i2"), agent("i3"), agent("c1", "on_call")]
    people += [agent("c2", "on_call"), agent("l1", "lent", work_end=NOW + timedelta(minutes=5))]
    decision = decide(
        policy_for("forecast"), NOW, [GroupNow("calls", needs(2, 2, 2, 2))], people, [BILLING]
    )
    assert decision.groups["calls"].surplus_now == 3
    assert [w.agent_id for w in decision.windows] == ["i1", "i2"]


def test_scheduled_staff_ahead_shortens_the_windows() -> None:
    ahead = [
        IntervalNeed(NOW, 15, 1, None, 5),
        IntervalNeed(NOW + timedelta(minutes=15), 15, 1, None, 5),
        IntervalNeed(NOW + timedelta(minutes=30), 15, 1, None, 3),
        IntervalNeed(NOW + timedelta(minutes=45), 15, 1, None, 3),
    ]
    people = [agent(n) for n in ("a", "b", "c", "d", "e")]
    decision = decide(policy_for("forecast"), NOW, [GroupNow("calls", ahead)], people, [BILLING])
    # Spare: 3, 3, 1, 1 -> the first agent for the hour, two more until the shift change.
    assert [w.minutes for w in decision.windows] == [60, 30, 30]


def test_the_guard_holds_offers_while_calls_queue() -> None:
    decision = decide(
        policy_for("forecast_guard"),
        NOW,
        [GroupNow("calls", needs(0, 0, 0, 0), LiveQueue(2, 5.0))],
        [agent("a"), agent("b")],
        [BILLING],
    )
    assert decision.windows == []
    assert decision.recalls == []
    assert decision.groups["calls"].guard.mode == "hold"


def test_the_guard_recalls_pausable_work_first_and_the_longest_away() -> None:
    soon, later = NOW + timedelta(minutes=2), NOW + timedelta(minutes=20)
    people = [
        agent("short", "lent", work_end=soon),
        agent("long", "lent", work_end=later),
        agent("fixed", "lent", work_end=later, pausable=False),
        agent("idle"),
    ]
    decision = decide(
        policy_for("forecast_guard"),
        NOW,
        [GroupNow("calls", needs(0, 0), LiveQueue(4, 30.0, idle_agents=1))],
        people,
        [BILLING],
    )
    assert decision.recalls == ["long", "short", "fixed"]
    assert decision.windows == []


def test_each_group_is_decided_on_its_own() -> None:
    people = [agent("a", group="sales"), agent("b", group="sales"), agent("c", group="care")]
    decision = decide(
        policy_for("forecast_guard"),
        NOW,
        [
            GroupNow("sales", needs(0, 0, 0, 0), CALM),
            GroupNow("care", needs(0, 0), LiveQueue(6, 60.0)),
        ],
        people,
        [BILLING],
        {"care": GuardState("recall", NOW - timedelta(minutes=1))},
    )
    assert {w.agent_id for w in decision.windows} == {"a", "b"}
    assert decision.groups["care"].windows == []


@pytest.mark.parametrize(
    ("policy", "group", "people", "work", "words"),
    [
        ("forecast", GroupNow("calls", needs(0), CALM), [], [BILLING], "no agent is on shift"),
        (
            "forecast",
            GroupNow("calls", (), CALM, "no forecast yet"),
            [agent("a")],
            [BILLING],
            "no forecast",
        ),
        (
            "forecast",
            GroupNow("calls", needs(None, None), CALM),
            [agent("a"), agent("b")],
            [BILLING],
            "every available agent",
        ),
        (
            "forecast",
            GroupNow("calls", needs(0, 0, 0, 0), CALM),
            [agent("a"), agent("b")],
            [WorkNeed(frozenset({"billing"}), 90)],
            "in at least",
        ),
        (
            "forecast",
            GroupNow("calls", needs(0, 0), CALM),
            [agent("a"), agent("b")],
            [],
            "no back-office work",
        ),
        (
            "forecast_guard",
            GroupNow("calls", needs(0, 0)),
            [agent("a"), agent("b")],
            [BILLING],
            "no live figures",
        ),
    ],
)
def test_bad_situations_lend_nobody_and_say_why(
    policy: str, group: GroupNow, people: list[AgentNow], work: list[WorkNeed], words: str
) -> None:
    decision = decide(policy_for(policy), NOW, [group], people, work)  # type: ignore[arg-type]
    assert decision.windows == []
    reason = decision.groups["calls"].reason
    assert reason is not None
    assert words in reason


def test_an_agent_whose_group_has_no_queue_is_not_lent() -> None:
    decision = decide(policy_for("forecast"), NOW, [], [agent("a", group="nowhere")], [BILLING])
    assert decision.windows == []
    assert "no inbound queue" in (decision.groups["nowhere"].reason or "")


@pytest.mark.parametrize("mode", ["hold", "recall"])
@pytest.mark.parametrize(
    "live",
    [LiveQueue(5, 40.0, 0.5, 3), LiveQueue(1, 5.0, 0.9, 3), CALM],
    ids=["calls-rising", "a-call-waiting", "calm-but-not-for-long"],
)
def test_while_the_guard_holds_or_recalls_nobody_is_lent(mode: str, live: LiveQueue) -> None:
    # A surplus of idle agents and waiting work: the guard alone keeps them on the phones, and
    # an agent with paused work gets no window, so no prompt to resume it either.
    state = GuardState(mode, NOW - timedelta(minutes=1), None)  # type: ignore[arg-type]
    people = [agent("a"), agent("b"), agent("c"), agent("d")]
    decision = decide(
        policy_for("forecast_guard"),
        NOW,
        [GroupNow("calls", needs(0, 0, 0, 0), live)],
        people,
        [BILLING],
        {"calls": state},
    )
    assert decision.windows == []
    assert decision.groups["calls"].guard.mode in ("hold", "recall")
    assert decision.groups["calls"].reason


@pytest.mark.parametrize(("interruptible", "lent"), [(False, 1), (True, 2)])
def test_a_group_whose_calls_pause_lent_work_lends_one_more(interruptible: bool, lent: int) -> None:
    """Three on shift, calls needing two: one is spare; where a call pauses lent work at once
    (interruptible mode), one more is lent."""
    people = [agent("a"), agent("b"), agent("c")]
    group = GroupNow("calls", needs(2, 2, 2, 2, staffed=3), CALM, interruptible=interruptible)
    decision = decide(policy_for("forecast_guard"), NOW, [group], people, [BILLING])
    assert len(decision.windows) == lent
    figures = decision.groups["calls"].figures
    assert figures is not None
    assert figures.reserve == (-1 if interruptible else 0)
    assert figures.surplus == lent


def test_no_extra_agent_is_lent_when_the_setting_is_zero() -> None:
    people = [agent("a"), agent("b"), agent("c")]
    group = GroupNow("calls", needs(2, 2, 2, 2, staffed=3), CALM, interruptible=True)
    policy = replace(policy_for("forecast_guard"), interruptible_extra=0)
    assert len(decide(policy, NOW, [group], people, [BILLING]).windows) == 1


UNPAUSABLE = replace(policy_for("forecast_guard"), interruptible_unpausable=True)
"""``forecast_guard`` where blendbot can command the platform (a control client)."""


def test_work_no_call_can_pause_goes_only_to_the_surplus_without_the_extra() -> None:
    """Five on shift, calls needing two: three are spare, four lent with the interruptible
    extra. Work a call cannot pause takes its holder out of routing, so only three of the four
    windows may take it, less those already lent to such work; without a control client,
    none."""
    people = [agent(n) for n in "abcde"]
    group = GroupNow("calls", needs(2, 2, 2, 2, staffed=5), CALM, interruptible=True)
    decision = decide(UNPAUSABLE, NOW, [group], people, [BILLING])
    assert len(decision.windows) == 4
    ok = decision.groups["calls"].unpausable_ok
    assert ok == [w.agent_id for w in decision.windows][:3]
    assert decision.unpausable_ok == set(ok)
    on_it = [agent("a", "lent", pausable=False), *(agent(n) for n in "bcde")]
    assert (
        len(decide(UNPAUSABLE, NOW, [group], on_it, [BILLING]).groups["calls"].unpausable_ok) == 2
    )
    without = decide(policy_for("forecast_guard"), NOW, [group], people, [BILLING])
    assert without.unpausable_ok == set()
    calls_only = GroupNow("calls", needs(2, 2, 2, 2, staffed=5), CALM)
    assert decide(UNPAUSABLE, NOW, [calls_only], people, [BILLING]).unpausable_ok == set()


LIVE = replace(policy_for("forecast_guard"), live_extra=1, live_recall_waiting=1)
"""``forecast_guard`` with the live queue's extra agent (``BLENDBOT_LIVE_EXTRA=1`` and
``BLENDBOT_LIVE_RECALL_WAITING=1``; off by default)."""


def test_one_more_is_lent_for_a_short_while_when_more_are_idle_than_kept() -> None:
    """Six on shift, the forecast needing five: one is spare. With no call waiting and five
    idle (more than the three kept once the plan's one is out), one more is lent, for at most
    ``live_minutes``, least back-office time first."""
    people = [agent(n, today=t) for n, t in (("a", 0), ("b", 5), ("c", 9), ("d", 9), ("e", 9))]
    people.append(agent("x", "on_call"))
    group = GroupNow("calls", needs(5, 5, 5, 5, staffed=6), LiveQueue(0, 0.0, 0.95, 5))
    decision = decide(LIVE, NOW, [group], people, [BILLING])
    assert [w.agent_id for w in decision.windows] == ["a", "b"]
    assert decision.windows[0].minutes == 60
    assert decision.windows[1].minutes == 20
    figures = decision.groups["calls"].figures
    assert figures is not None
    assert figures.surplus == 1


@pytest.mark.parametrize(
    ("live", "policy"),
    [
        (LiveQueue(1, 2.0, 0.95, 5), LIVE),
        (LiveQueue(0, 0.0, 0.95, 4), LIVE),
        (LiveQueue(0, 0.0, 0.95, 5), replace(LIVE, live_extra=0)),
    ],
    ids=["a-call-waiting", "only-the-kept-idle", "off"],
)
def test_nobody_more_than_the_forecast_spares_when_the_live_queue_says_no(
    live: LiveQueue, policy: BlendPolicy
) -> None:
    people = [agent(n) for n in "abcde"] + [agent("x", "on_call")]
    group = GroupNow("calls", needs(5, 5, 5, 5, staffed=6), live)
    assert [w.agent_id for w in decide(policy, NOW, [group], people, [BILLING]).windows] == ["a"]


def test_a_waiting_call_brings_back_at_once_those_lent_beyond_the_forecast() -> None:
    """Two lent where the forecast spares one: the first waiting call recalls one of them
    (the guard itself would wait for four); the one the forecast spares stays."""
    far, near = NOW + timedelta(minutes=15), NOW + timedelta(minutes=3)
    people = [agent("l1", "lent", work_end=far), agent("l2", "lent", work_end=near)]
    people += [agent(n, "on_call") for n in "abcd"]
    group = GroupNow("calls", needs(5, 5, 5, 5, staffed=6), LiveQueue(1, 3.0, 0.95, 0))
    decision = decide(LIVE, NOW, [group], people, [BILLING])
    assert decision.recalls == ["l1"]
    calm = GroupNow("calls", needs(5, 5, 5, 5, staffed=6), LiveQueue(0, 0.0, 0.95, 0))
    assert decide(LIVE, NOW, [calm], people, [BILLING]).recalls == []
    off = replace(LIVE, live_recall_waiting=0)
    assert decide(off, NOW, [group], people, [BILLING]).recalls == []


def busy(calls: float, *required: int, staffed: int) -> list[IntervalNeed]:
    """Intervals of ``calls`` forecast calls each."""
    return [replace(n, calls=calls) for n in needs(*required, staffed=staffed)]


@pytest.mark.parametrize(
    ("calls", "lent"),
    [(1.0, ["a", "b", "c"]), (40.0, ["a"])],
    ids=["a-call-an-hour-keeps-none", "a-busy-quarter-keeps-several"],
)
def test_the_idle_agents_kept_follow_the_calls_forecast(calls: float, lent: list[str]) -> None:
    """Three on shift, the forecast sparing one: at night the extra is lent though only one
    is left idle (the calls of the next minute are almost surely none); when 40 calls a
    quarter are forecast, three idle agents would be gone in a minute, so none is lent
    beyond the surplus (a fixed threshold of two would lend one)."""
    people = [agent(n) for n in "abc"]
    policy = replace(LIVE, live_extra=2)
    group = GroupNow("calls", busy(calls, 2, 2, 2, 2, staffed=3), LiveQueue(0, 0.0, None, 3))
    assert [w.agent_id for w in decide(policy, NOW, [group], people, [BILLING]).windows] == lent
    many = [agent(n) for n in "abcdef"] + [agent(n, "on_call") for n in "xy"]
    crowd = GroupNow("calls", busy(40.0, 7, 7, 7, 7, staffed=8), LiveQueue(0, 0.0, None, 6))
    kept = len(decide(policy, NOW, [crowd], many, [BILLING]).windows)
    fixed = replace(policy, live_cover_seconds=0, live_idle_keep=2)
    assert len(decide(fixed, NOW, [crowd], many, [BILLING]).windows) > kept


def test_the_idle_kept_is_never_below_the_floor() -> None:
    people = [agent(n) for n in "abc"]
    group = GroupNow("calls", busy(1.0, 2, 2, 2, 2, staffed=3), LiveQueue(0, 0.0, None, 3))
    floor = replace(LIVE, live_extra=2, live_idle_keep=1)
    assert [w.agent_id for w in decide(floor, NOW, [group], people, [BILLING]).windows] == [
        "a",
        "b",
    ]


@pytest.mark.parametrize(
    ("calls", "idle", "recalled"),
    [(40.0, 1, ["l1"]), (40.0, 3, []), (1.0, 0, [])],
    ids=["the-last-idle-at-a-busy-hour", "enough-idle", "at-night-none-needed"],
)
def test_those_lent_beyond_the_forecast_come_back_before_a_call_waits(
    calls: float, idle: int, recalled: list[str]
) -> None:
    """No call waits yet, but at 40 calls a quarter the calls of the next minute likely
    need two agents: with one idle, the agent lent beyond the forecast's surplus is called
    back now rather than after a caller has waited a decision round and the agent's walk
    back; at night, when a call an hour comes, nobody is called back with none idle."""
    far = NOW + timedelta(minutes=15)
    people = [agent("l1", "lent", work_end=far), agent("l2", "lent", work_end=far)]
    people += [agent(n, "on_call") for n in "abcdef"[: 6 - idle]]
    people += [agent(n) for n in "uvwxyz"[:idle]]
    group = GroupNow("calls", busy(calls, 7, 7, 7, 7, staffed=8), LiveQueue(0, 0.0, 0.95, idle))
    early = replace(LIVE, live_recall_share=0.5)
    decision = decide(early, NOW, [group], people, [BILLING])
    assert decision.recalls == recalled
    assert decide(LIVE, NOW, [group], people, [BILLING]).recalls == []

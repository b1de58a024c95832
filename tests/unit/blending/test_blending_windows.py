"""Usable windows from the surplus ahead: plain tables of cases, a fixed clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from blending.windows import AgentSlot, IntervalNeed, WorkNeed, lulls, plan_windows

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
LATE = NOW + timedelta(hours=8)
BILLING = WorkNeed(frozenset({"billing"}), 8)


def needs(*required: int, high: tuple[int, ...] | None = None) -> list[IntervalNeed]:
    return [
        IntervalNeed(NOW + timedelta(minutes=15 * i), 15, r, None if high is None else high[i])
        for i, r in enumerate(required)
    ]


def agent(
    name: str,
    today: float = 0,
    *,
    shift_end: datetime = LATE,
    next_break: datetime | None = None,
) -> AgentSlot:
    return AgentSlot(name, {"billing": 2}, shift_end, next_break, today)


def test_the_surplus_profile_gives_the_window_lengths() -> None:
    # 6 agents, 1 kept in reserve: 3 spare now, 2 after 30 minutes, 0 after an hour.
    plan = plan_windows(
        NOW, needs(2, 2, 3, 3, 5, 5), [agent(f"a{n}", n) for n in range(6)], [BILLING]
    )
    assert plan.surplus_now == 3
    assert [(w.agent_id, w.minutes) for w in plan.windows] == [
        ("a0", 60),
        ("a1", 60),
        ("a2", 30),
    ]


def test_the_longest_chunk_goes_to_who_had_least_back_office_today() -> None:
    agents = [agent("busy", 120), agent("fresh", 0), agent("some", 30), agent("x", 500)]
    plan = plan_windows(NOW, needs(1, 1, 2, 2), agents, [BILLING])
    assert [w.agent_id for w in plan.windows] == ["fresh", "some"]
    assert plan.windows[0].minutes > plan.windows[1].minutes


def test_breaks_and_shift_ends_cut_a_window() -> None:
    agents = [
        agent("a", next_break=NOW + timedelta(minutes=20)),
        agent("b", shift_end=NOW + timedelta(minutes=5)),
        agent("c", 10),
    ]
    plan = plan_windows(NOW, needs(0, 0, 0, 0), agents, [BILLING])
    assert [(w.agent_id, w.minutes) for w in plan.windows] == [("a", 20), ("c", 60)]


def test_agents_without_the_skills_or_time_for_waiting_work_are_not_lent() -> None:
    mortgage = WorkNeed(frozenset({"mortgage"}), 25)
    plan = plan_windows(NOW, needs(0, 0), [agent("a"), agent("b")], [mortgage])
    assert plan.windows == []
    assert plan.reason is not None


def test_confidence_counts_intervals_that_hold_at_the_high_bound() -> None:
    plan = plan_windows(
        NOW, needs(1, 1, 1, 1, high=(1, 1, 3, 3)), [agent("a"), agent("b"), agent("c")], [BILLING]
    )
    first = plan.windows[0]
    assert first.minutes == 60
    assert first.confidence == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("ahead", "available", "work", "words"),
    [
        ([], [agent("a")], [BILLING], "no forecast"),
        (needs(1), [], [BILLING], "no agent"),
        (needs(5, 5), [agent("a"), agent("b")], [BILLING], "every available agent"),
        (needs(0), [agent("a"), agent("b")], [], "no back-office work"),
    ],
)
def test_bad_situations_lend_nobody_and_say_why(
    ahead: list[IntervalNeed], available: list[AgentSlot], work: list[WorkNeed], words: str
) -> None:
    plan = plan_windows(NOW, ahead, available, work)
    assert plan.windows == []
    assert plan.reason is not None
    assert words in plan.reason


def test_lulls_are_the_runs_with_agents_to_spare() -> None:
    ahead = [
        IntervalNeed(NOW + timedelta(minutes=15 * i), 15, r, None, s)
        for i, (r, s) in enumerate([(5, 5), (3, 6), (2, 6), (6, 6), (1, 4), (None, 4)])
    ]
    found = lulls(ahead)
    assert [(x.start, x.end, x.spare) for x in found] == [
        (NOW + timedelta(minutes=15), NOW + timedelta(minutes=45), 3),
        (NOW + timedelta(minutes=60), NOW + timedelta(minutes=75), 3),
    ]
    kept = lulls(ahead, safety_margin=3)
    assert [(x.start, x.spare) for x in kept] == [(NOW + timedelta(minutes=30), 1)]
